package crawler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/httpclient"
	"github.com/fedilens/fedilens/internal/model"
)

// usageServer serves NodeInfo whose usage block each host's entry of
// usage gives (total, activeMonth, activeHalfyear, localPosts).
type usageServer struct {
	mu    sync.Mutex
	usage map[string][4]int64
}

func (u *usageServer) set(host string, counts [4]int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.usage[host] = counts
}

func (u *usageServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := strings.Split(r.Host, ":")[0]
	switch r.URL.Path {
	case "/robots.txt":
		_, _ = w.Write([]byte("User-agent: *\nAllow: /\n"))
	case "/.well-known/nodeinfo":
		fmt.Fprintf(w, `{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"http://%s/nodeinfo/2.0"}]}`, host)
	case "/nodeinfo/2.0":
		u.mu.Lock()
		c := u.usage[host]
		u.mu.Unlock()
		fmt.Fprintf(w, `{"version":"2.0","software":{"name":"gotosocial","version":"0.19"},"protocols":["activitypub"],`+
			`"usage":{"users":{"total":%d,"activeMonth":%d,"activeHalfyear":%d},"localPosts":%d},"openRegistrations":false}`,
			c[0], c[1], c[2], c[3])
	default:
		http.NotFound(w, r)
	}
}

// recordingSink keeps the snapshots it is given.
type recordingSink struct {
	nopSink
	mu    sync.Mutex
	snaps map[string][]string // host -> flags of each snapshot, in order
}

func (s *recordingSink) AddSnapshot(_ context.Context, sn model.Snapshot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snaps[sn.Host] = append(s.snaps[sn.Host], strings.Join(sn.Flags, ","))
	return nil
}

// AddVisit records a visit's snapshot.
func (s *recordingSink) AddVisit(ctx context.Context, v model.Visit) error {
	if v.Snapshot != nil {
		return s.AddSnapshot(ctx, *v.Snapshot)
	}
	return nil
}

// storedCounts is a StateSource with LatestCounts, counting its calls.
type storedCounts struct {
	latest []model.Snapshot
	calls  atomic.Int32
}

func (s *storedCounts) HostStates(context.Context) ([]model.HostState, error) { return nil, nil }

func (s *storedCounts) LatestCounts(context.Context) ([]model.Snapshot, error) {
	s.calls.Add(1)
	return s.latest, nil
}

// TestSnapshotsCarryTheSanityVerdict: each snapshot is judged against the
// host's previous one, loaded from the store once and then remembered.
func TestSnapshotsCarryTheSanityVerdict(t *testing.T) {
	us := &usageServer{usage: map[string][4]int64{
		"fine.example":  {500, 40, 90, 9000},
		"jump.example":  {300, 30, 60, 5000},
		"liar.example":  {10, 5, 20, 300},
		"solo.example":  {1, 1, 1, 40},
		"fresh.example": {20_000, 300, 900, 50_000},
	}}
	srv := httptest.NewServer(us)
	t.Cleanup(srv.Close)
	client, err := httpclient.New(httpclient.Options{
		AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Resolve:   map[string]string{"*": strings.TrimPrefix(srv.URL, "http://")},
	})
	require.NoError(t, err)
	var seeds []Seed
	for _, h := range []string{"fine.example", "jump.example", "liar.example", "solo.example", "fresh.example"} {
		seeds = append(seeds, Seed{Scheme: "http", Host: h})
	}
	stored := &storedCounts{latest: []model.Snapshot{
		{Host: "fine.example", UsersTotal: model.Int64(450)},
		{Host: "jump.example", UsersTotal: model.Int64(50_000)},
		{Host: "solo.example"}, // total unknown last time: nothing to compare
		{Host: "fresh.example", UsersTotal: model.Int64(3)},
	}}
	sink := &recordingSink{snaps: map[string][]string{}}
	m, err := New(Options{Client: client.HTTPClient(), HostDelay: -1, ProgressEvery: -1, Seeds: seeds}, sink, stored, nil, nil)
	require.NoError(t, err)

	ctx := context.Background()
	_, err = m.RunOnce(ctx)
	require.NoError(t, err)
	// Second pass: jump.example's total is now the remembered one; fine.example jumps.
	us.set("fine.example", [4]int64{5000, 40, 90, 9000})
	_, err = m.RunOnce(ctx)
	require.NoError(t, err)

	require.Equal(t, map[string][]string{
		"fine.example":  {"", "total_jump"},
		"jump.example":  {"total_jump", ""},
		"liar.example":  {"active_above_total", "active_above_total"},
		"solo.example":  {"single_user", "single_user"},
		"fresh.example": {"total_jump", ""},
	}, sink.snaps)
	require.Equal(t, int32(1), stored.calls.Load(), "the stored counts are read once, not per host or pass")
}
