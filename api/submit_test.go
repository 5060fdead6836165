package api

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mapPolicy refuses the hosts in its map with the mapped reason.
type mapPolicy map[string]string

func (p mapPolicy) Allowed(host string) (bool, string) {
	if r, ok := p[host]; ok {
		return false, r
	}
	return true, ""
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSubmitValidation(t *testing.T) {
	st := newFakeControlsStore()
	mux := controlsMux(t, ControlsOptions{
		Submissions: st, SubmitBurst: 1000,
		Policy: mapPolicy{
			"denied.example": "denied by the operator (*.denied.example)",
			"gone.example":   "the instance's admin opted out of fedilens",
		},
	}, nil, nil)

	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		want                    string // the host queued, or a part of the error message
	}{
		{"json", "application/json", `{"host":"Social.Example."}`, 202, "social.example"},
		{"form", "application/x-www-form-urlencoded", "host=form.example", 202, "form.example"},
		{"https url", "application/json", `{"host":"https://url.example/"}`, 202, "url.example"},
		{"idn", "application/json", `{"host":"bücher.example"}`, 202, "xn--bcher-kva.example"},
		{"port kept", "application/json", `{"host":"port.example:8443"}`, 202, "port.example:8443"},
		{"missing", "application/json", `{}`, 400, "host is required"},
		{"blank form", "application/x-www-form-urlencoded", "host=+", 400, "host is required"},
		{"http url", "application/json", `{"host":"http://x.example"}`, 400, "only crawls over https"},
		{"url with path", "application/json", `{"host":"https://x.example/about"}`, 400, "path"},
		{"ip", "application/json", `{"host":"192.0.2.7"}`, 400, "IP address is not accepted"},
		{"single label", "application/json", `{"host":"localhost"}`, 400, "without a dot"},
		{"space", "application/json", `{"host":"bad host.example"}`, 400, "invalid host name"},
		{"underscore", "application/json", `{"host":"a_b.example"}`, 400, "invalid host name"},
		{"bad port", "application/json", `{"host":"x.example:99999"}`, 400, "port"},
		{"huge", "application/json", `{"host":"` + strings.Repeat("a", 2000) + `.example"}`, 400, "longer than"},
		{"denied exact", "application/json", `{"host":"denied.example"}`, 403, "fedilens will not crawl denied.example: denied by the operator (*.denied.example)"},
		{"opted out", "application/json", `{"host":"gone.example"}`, 403, "the instance's admin opted out of fedilens"},
		{"not json", "application/json", `host=x.example`, 400, "not a JSON object"},
		{"multipart", "multipart/form-data; boundary=x", "--x--", 415, "send application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(st.submissions())
			rec := do(mux, call{method: http.MethodPost, path: "/api/v1/instances", contentType: tc.contentType, body: tc.body})
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			if tc.status == http.StatusAccepted {
				require.JSONEq(t, `{"host":"`+tc.want+`","status":"queued"}`, rec.Body.String())
				subs := st.submissions()
				require.Len(t, subs, before+1)
				require.Equal(t, tc.want, subs[len(subs)-1].Host)
				return
			}
			_, msg := errorCode(t, rec)
			require.Contains(t, msg, tc.want)
			require.Len(t, st.submissions(), before, "a refused submission is not stored")
		})
	}
	// The GET listing is still served on the same path.
	rec := do(mux, call{method: http.MethodGet, path: "/api/v1/instances"})
	require.Equal(t, http.StatusOK, rec.Code)
}

func TestSubmitStoresNoAddress(t *testing.T) {
	st := newFakeControlsStore()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	mux := controlsMux(t, ControlsOptions{Submissions: st, Now: clock.now, ClientHashKey: []byte("k")}, nil, nil)
	for _, remote := range []string{"198.51.100.23:5555", "198.51.100.23:6666", "198.51.100.24:5555"} {
		rec := do(mux, call{method: http.MethodPost, path: "/api/v1/instances", contentType: "application/json", body: `{"host":"a.example"}`, remote: remote})
		require.Equal(t, http.StatusAccepted, rec.Code)
	}
	subs := st.submissions()
	require.Len(t, subs, 3)
	hexRE := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, s := range subs {
		require.Regexp(t, hexRE, s.ClientHash)
		require.NotContains(t, s.ClientHash, "198.51")
		require.Equal(t, clock.now(), s.SubmittedAt)
	}
	require.Equal(t, subs[0].ClientHash, subs[1].ClientHash, "one client, one hash")
	require.NotEqual(t, subs[0].ClientHash, subs[2].ClientHash)

	// Another key (another process) gives unrelated hashes.
	st2 := newFakeControlsStore()
	mux2 := controlsMux(t, ControlsOptions{Submissions: st2}, nil, nil)
	do(mux2, call{method: http.MethodPost, path: "/api/v1/instances", contentType: "application/json", body: `{"host":"a.example"}`, remote: "198.51.100.23:5555"})
	require.NotEqual(t, subs[0].ClientHash, st2.submissions()[0].ClientHash)
}

func TestSubmitRateLimit(t *testing.T) {
	st := newFakeControlsStore()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	mux := controlsMux(t, ControlsOptions{Submissions: st, Now: clock.now}, nil, nil)
	post := func(remote, body string) (int, string) {
		rec := do(mux, call{method: http.MethodPost, path: "/api/v1/instances", contentType: "application/json", body: body, remote: remote})
		return rec.Code, rec.Header().Get("Retry-After")
	}
	const a = "203.0.113.5:1000"
	// A burst of 5, invalid attempts included: every attempt costs a token.
	code, _ := post(a, `{"host":"bad host"}`)
	require.Equal(t, http.StatusBadRequest, code)
	for i := range 4 {
		code, _ := post(a, `{"host":"h`+strconv.Itoa(i)+`.example"}`)
		require.Equal(t, http.StatusAccepted, code)
	}
	code, retry := post(a, `{"host":"more.example"}`)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "720", retry, "5 per hour: the next token in 12 minutes")
	require.Len(t, st.submissions(), 4)

	// Another address has its own bucket; the same IPv4 on another port
	// does not.
	code, _ = post("203.0.113.6:1000", `{"host":"b.example"}`)
	require.Equal(t, http.StatusAccepted, code)
	code, _ = post("203.0.113.5:2000", `{"host":"b.example"}`)
	require.Equal(t, http.StatusTooManyRequests, code)

	// One token back after 12 minutes, not two.
	clock.add(12*time.Minute - time.Second)
	code, retry = post(a, `{"host":"c.example"}`)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "1", retry)
	clock.add(time.Second)
	code, _ = post(a, `{"host":"c.example"}`)
	require.Equal(t, http.StatusAccepted, code)
	code, _ = post(a, `{"host":"d.example"}`)
	require.Equal(t, http.StatusTooManyRequests, code)

	// IPv6: one /64 is one client.
	for i := range 5 {
		code, _ := post("[2001:db8:1:2::"+strconv.Itoa(i+1)+"]:443", `{"host":"v6.example"}`)
		require.Equal(t, http.StatusAccepted, code)
	}
	code, _ = post("[2001:db8:1:2:ffff::1]:443", `{"host":"v6.example"}`)
	require.Equal(t, http.StatusTooManyRequests, code)
	code, _ = post("[2001:db8:1:3::1]:443", `{"host":"v6.example"}`)
	require.Equal(t, http.StatusAccepted, code)
}

func TestLimiterBoundedMemory(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	l := newLimiter(1.0/60, 2, 3, clock.now) // one token a minute, burst 2, three clients
	for _, k := range []string{"a", "b", "c"} {
		ok, _ := l.allow(k)
		require.True(t, ok)
	}
	ok, wait := l.allow("d")
	require.False(t, ok, "the map is full of clients that have not refilled")
	require.Equal(t, sweepEvery, wait)
	require.Equal(t, 3, l.clients())

	// Known clients are still served from their own buckets.
	ok, _ = l.allow("a")
	require.True(t, ok)
	ok, _ = l.allow("a")
	require.False(t, ok)

	// Once b and c have refilled they are forgotten, and d fits.
	clock.add(61 * time.Second)
	ok, _ = l.allow("d")
	require.True(t, ok)
	require.LessOrEqual(t, l.clients(), 3)

	// A flood of new clients never grows the map.
	for i := range 1000 {
		l.allow("flood" + strconv.Itoa(i))
	}
	require.LessOrEqual(t, l.clients(), 3)
}

func TestValidateHost(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"example.social", "example.social"},
		{"  EXAMPLE.social.  ", "example.social"},
		{"HTTPS://Example.Social", "example.social"},
		{"https://example.social:443/", "example.social"},
		{"example.social:8443", "example.social:8443"},
	} {
		got, err := validateHost(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
	for _, in := range []string{"", "ftp://x.example", "https://", "x.example/", "user@x.example", "[::1]", "*.example"} {
		_, err := validateHost(in)
		require.Error(t, err, in)
		status, _, internal := classify(err)
		require.Equal(t, http.StatusBadRequest, status, in)
		require.False(t, internal)
	}
}
