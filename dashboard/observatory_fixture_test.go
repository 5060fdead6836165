package dashboard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/observtest"
	"github.com/fedilens/fedilens/internal/sanity"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/store"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// The ClickHouse store serves every optional part of the dashboard.
var (
	_ Store              = (*store.Store)(nil)
	_ PostStatsStore     = (*store.Store)(nil)
	_ BlockStore         = (*store.Store)(nil)
	_ ListSizeStore      = (*store.Store)(nil)
	_ PostLinkStore      = (*store.Store)(nil)
	_ KnownInstanceStore = (*store.Store)(nil)
)

// The hostile strings the fixture stores through the store's real insert
// path, as a crawler would store what a hostile instance publishes.
const (
	hostileHost     = "xss.example"
	hostileTitle    = `<img src=x onerror=alert(1)>`
	hostileSoftware = `<img src=x onerror=alert(2)>`
	hostileVersion  = `4.3.0<img src=x onerror=alert(3)>`
	hostileReason   = `<img src=x onerror=alert(4)>`
	// hostileSoftHost runs the hostile software.
	hostileSoftHost = "evilsoft.example"
	// liarHost publishes figures that contradict themselves.
	liarHost = "liar.example"
	// hostileMentioned is the host of an account a hostile post mentions.
	hostileMentioned = `<img src=x onerror=alert(5)>`
	// unknownLinked is a host posts link to that is no known instance.
	unknownLinked = "nowhere.example"
)

// observatory is one filled real store shared by the census pages' tests
// (server-side and in the browser): a simulated history crawled by the
// real crawler (observtest), plus two hostile instances and one whose
// figures are suspect.
type observatory struct {
	st    *store.Store
	stats *stats.Stats
	// graphs lays out the federation graph the dashboard serves.
	graphs *graph.Graphs
	srv    *httptest.Server
	// days are the history's dates, oldest first.
	days []time.Time
	// normal is a simulated instance with a history of several days.
	normal string
	// software is the most common software on the last day.
	software string
	// lastClean is the ground truth's number of instances on the last day
	// whose figures are not suspect, the inserted ones included.
	lastClean int
}

// newObservatory crawls a small history (seconds) and serves the
// dashboard over it.
func newObservatory(t *testing.T) *observatory {
	t.Helper()
	ctx := context.Background()
	began := time.Now()
	st := chtest.Store(t)
	// The simulator's hostile behaviours slow a crawl down several times;
	// the hostile strings the pages must escape are inserted below.
	h := observtest.Crawl(t, st, fedisim.Options{Seed: 11, Instances: 50, HistoryDays: 12, NoHostile: true}, observtest.Options{})
	o := &observatory{st: st}
	for _, d := range h.Days {
		o.days = append(o.days, d.Date)
	}

	// The hostile instances answer every day, after the crawl's pass.
	var snaps []model.Snapshot
	for i, d := range h.Days {
		at := d.CrawledAt.Add(time.Hour)
		snaps = append(snaps, model.Snapshot{
			Host: hostileHost, CrawledAt: at, Software: "mastodon", Version: hostileVersion, NodeInfoVersion: "2.0",
			Title: hostileTitle, OpenRegistrations: true, Protocols: []string{"activitypub"},
			UsersTotal: model.Int64(900_000 + int64(i)*100), UsersActiveMonth: model.Int64(40_000),
			UsersActiveHalfyear: model.Int64(90_000), LocalPosts: model.Int64(5_000_000 + int64(i)*1000),
			PeerCount: model.Int64(int64(3 + i)), BlockCount: model.Int64(1),
			InstanceTitle: hostileTitle, Description: "Hello " + hostileTitle, Languages: []string{"en"},
			RegistrationMode: model.RegistrationOpen,
		}, model.Snapshot{
			Host: hostileSoftHost, CrawledAt: at, Software: hostileSoftware, Version: "1.0", NodeInfoVersion: "2.0",
			Title: "Evil software", Protocols: []string{"activitypub"},
			UsersTotal: model.Int64(500), UsersActiveMonth: model.Int64(50), UsersActiveHalfyear: model.Int64(100),
			LocalPosts: model.Int64(1000),
		}, model.Snapshot{
			Host: liarHost, CrawledAt: at, Software: "pleroma", Version: "2.7.0", NodeInfoVersion: "2.0", Title: "Liar",
			UsersTotal: model.Int64(10), UsersActiveMonth: model.Int64(99), Flags: []string{"active_above_total"},
		})
	}
	require.NoError(t, st.InsertSnapshots(ctx, snaps))
	last := h.Days[len(h.Days)-1]
	for _, in := range last.Census {
		if !sanity.Suspect(in.ExpectedFlags) {
			o.lastClean++
		}
	}
	o.lastClean += 2 // the hostile instances; the liar is suspect
	require.NoError(t, st.InsertBlocks(ctx, []model.Blocks{{Host: hostileHost, CrawledAt: last.CrawledAt.Add(time.Hour),
		Blocks: []model.DomainBlock{
			{Domain: "threads.net", Severity: model.SeveritySuspend, Reason: hostileReason, Source: model.BlockSourceMastodon},
			{Domain: "spam*.example", Severity: model.SeverityLimit, Source: model.BlockSourceMastodon},
		}}}))
	// A normal instance: the seed with the most days in the history.
	seen := map[string]int{}
	for _, d := range h.Days {
		for host := range d.Census {
			seen[host]++
		}
	}
	hosts := make([]string, 0, len(seen))
	for host := range seen {
		hosts = append(hosts, host)
	}
	slices.Sort(hosts)
	for _, host := range hosts {
		if seen[host] == len(h.Days) && o.normal == "" {
			o.normal = host
		}
	}
	require.NotEmpty(t, o.normal, "an instance seen every day")

	// The hostile instances' peer lists: the federation graph around
	// them shows the hostile software.
	require.NoError(t, st.InsertPeers(ctx, []model.Peers{
		{Host: hostileHost, CrawledAt: last.CrawledAt.Add(time.Hour), Peers: sortedHosts(hostileSoftHost, o.normal)},
		{Host: hostileSoftHost, CrawledAt: last.CrawledAt.Add(time.Hour), Peers: []string{hostileHost}},
	}))
	_, err := st.Rollup(ctx, last.Date.AddDate(0, 0, 1))
	require.NoError(t, err)

	// The hostile instance's stored posts link to the normal instance
	// (3 mentions, a reply, 2 boosts), to a host that is no instance and
	// to a hostile name.
	posted := last.CrawledAt.Add(-time.Hour)
	var posts []model.Post
	for i, mentions := range [][]string{{"ann@" + o.normal}, {"bob@" + o.normal, "x@" + unknownLinked}, {"cy@" + o.normal},
		{"x@" + hostileMentioned}} {
		posts = append(posts, model.Post{URI: fmt.Sprintf("https://%s/statuses/%d", hostileHost, i), Host: hostileHost,
			Author: "eve@" + hostileHost, Created: posted.Add(time.Duration(i) * time.Minute), Mentions: mentions})
	}
	posts = append(posts, model.Post{URI: "https://" + hostileHost + "/statuses/9", Host: hostileHost, Author: "eve@" + hostileHost,
		Created: posted, InReplyTo: "https://" + o.normal + "/statuses/1", ReplyHost: o.normal})
	require.NoError(t, st.InsertPosts(ctx, posts))
	require.NoError(t, st.InsertBoosts(ctx, []model.Boost{
		{URI: "https://" + hostileHost + "/boosts/1", Host: hostileHost, Author: "eve@" + hostileHost, Created: posted,
			BoostedHost: o.normal, Source: model.SourceMastodon},
		{URI: "https://" + hostileHost + "/boosts/2", Host: hostileHost, Author: "eve@" + hostileHost, Created: posted.Add(time.Hour),
			BoostedHost: o.normal, Source: model.SourceMastodon},
	}))

	o.stats = stats.New(st, stats.Options{})
	top, err := o.stats.SoftwareShare(ctx, stats.Query{})
	require.NoError(t, err)
	require.NotEmpty(t, top.Shares)
	o.software = top.Shares[0].Key

	o.graphs = graph.New(o.stats, graph.Options{})
	d, err := New(Options{
		Store: st, Stats: o.stats, Search: &fakeSearch{}, Graph: o.graphs,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Version: "v9.8.7", Contact: testContact, UserAgent: testUserAgent,
	})
	require.NoError(t, err)
	require.True(t, d.chartsReady, "dashboard/assets/echarts.min.js is missing: run dashboard/assets/install.sh")
	mux := http.NewServeMux()
	d.Register(mux)
	o.srv = httptest.NewServer(mux)
	t.Cleanup(o.srv.Close)
	t.Logf("observatory: %d days, %d hosts, filled in %s", len(o.days), len(hosts)+3, time.Since(began).Round(time.Millisecond))
	return o
}

// sortedHosts is a peer list as the store keeps one: sorted.
func sortedHosts(hosts ...string) []string {
	slices.Sort(hosts)
	return hosts
}

// day is the i-th day of the history as a query parameter (negative
// counts from the end).
func (o *observatory) day(i int) string {
	if i < 0 {
		i += len(o.days)
	}
	return o.days[i].Format(time.DateOnly)
}

// TestObservatory runs every test of the census pages over one filled
// store: filling it is the expensive part.
func TestObservatory(t *testing.T) {
	o := newObservatory(t)
	t.Run("pages", func(t *testing.T) { testCensusPages(t, o) })
	t.Run("bad parameters", func(t *testing.T) { testBadParameters(t, o) })
	t.Run("escaping", func(t *testing.T) { testCensusEscaping(t, o) })
	t.Run("api links", func(t *testing.T) { testAPILinks(t, o) })
	t.Run("figures", func(t *testing.T) { testFigures(t, o) })
	t.Run("explorer", func(t *testing.T) { testExplorer(t, o) })
	t.Run("post links", func(t *testing.T) { testPostLinks(t, o) })
	t.Run("assets missing", func(t *testing.T) { testCensusAssetsMissing(t, o) })
	t.Run("graph", func(t *testing.T) { testGraphPage(t, o) })
	t.Run("blocks", func(t *testing.T) { testBlocksPage(t, o) })
	t.Run("browser", func(t *testing.T) { testBrowserObservatory(t, o) })
}
