package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
)

// hostile is a remote string (a post's language, an instance's host as a
// hostile server might report it) that must stay inert JSON text.
const hostile = `</script><img src=x onerror=alert(1)>`

// TestPostStatsEndpoint serves /api/v1/stats/posts from a real ClickHouse
// store and checks the whole answer.
func TestPostStatsEndpoint(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := chtest.Store(t)
	srv := newServerWith(t, st)

	// Empty: zeros, empty objects and lists (never null), 90 days of zeros.
	resp, body := get(t, srv, "/api/v1/stats/posts", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	from, to := PostStatsWindow(time.Now())
	zeroDays := make([]string, 0, PostStatsDays)
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		zeroDays = append(zeroDays, fmt.Sprintf(`{"day":%q,"count":0}`, d.Format(time.DateOnly)))
	}
	require.Len(t, zeroDays, PostStatsDays)
	require.JSONEq(t, `{"posts":0,"authors":{"consenting":0,"declined":{}},"hosts_by_access":{},"skipped":{},
		"by_language":[],"other_languages":0,"top_instances":[],"other_instances":0,
		"per_day":[`+strings.Join(zeroDays, ",")+`],
		"flags":{"content_warning":0,"sensitive":0,"alt_text":0}}`, string(body))

	today := to.AddDate(0, 0, -1)
	var posts []model.Post
	add := func(host, lang string, created time.Time, edit func(*model.Post)) {
		p := model.Post{URI: fmt.Sprintf("https://%s/p/%d", host, len(posts)), Host: host, Author: "ann@" + host,
			Created: created, Language: lang}
		if edit != nil {
			edit(&p)
		}
		posts = append(posts, p)
	}
	add("a.example", "en", today.Add(time.Minute), func(p *model.Post) { p.Summary = "cw" })
	add("a.example", "en", today.Add(2*time.Minute), func(p *model.Post) { p.Sensitive, p.AltText = true, "duck" })
	add("a.example", "", today.AddDate(0, 0, -1), nil)
	add("b.example", hostile, from, nil)
	add("b.example", "und", from.Add(-time.Second), nil) // before the window, and merged with ""
	for i := range PostStatsTop {                        // 20 one-post instances: one of them falls out of the top
		add(fmt.Sprintf("h%02d.example", i), "de", from.AddDate(0, 0, -10), nil)
	}
	require.NoError(t, st.InsertPosts(ctx, posts))
	require.NoError(t, st.UpsertAuthors(ctx, []model.AuthorState{
		{Author: "ann@a.example", Host: "a.example", Consent: true},
		{Author: "ann@b.example", Host: "b.example", Consent: true},
		{Author: "cy@b.example", Host: "b.example", Reason: "opt_out_word"},
	}))
	require.NoError(t, st.InsertPostAccess(ctx, []model.HostPostAccess{
		{Host: "a.example", Crawled: today, Source: model.SourceMastodon, Access: model.PostAccessOK,
			Skipped: map[string]int{"not_public": 4, "not_indexable": 1}},
		{Host: "gts.example", Crawled: today, Source: model.SourceMastodon, Access: model.PostAccessSignatureRequired},
	}))

	resp, body = get(t, srv, "/api/v1/stats/posts", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.NotContains(t, string(body), "<", "remote strings are escaped in the JSON")
	var got map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &got))
	for key, want := range map[string]string{
		"posts":           `25`,
		"authors":         `{"consenting":2,"declined":{"opt_out_word":1}}`,
		"hosts_by_access": `{"ok":1,"signature_required":1}`,
		"skipped":         `{"not_public":4,"not_indexable":1}`,
		"by_language": `[{"language":"de","posts":20},{"language":"en","posts":2},{"language":"und","posts":2},
			{"language":` + jsonString(t, hostile) + `,"posts":1}]`,
		"other_languages": `0`,
		"other_instances": `2`,
		"flags":           `{"content_warning":1,"sensitive":1,"alt_text":1}`,
	} {
		require.JSONEq(t, want, string(got[key]), key)
	}
	var top []instanceCountJSON
	require.NoError(t, json.Unmarshal(got["top_instances"], &top))
	require.Len(t, top, PostStatsTop)
	require.Equal(t, []instanceCountJSON{{"a.example", 3}, {"b.example", 2}, {"h00.example", 1}}, top[:3])
	require.Equal(t, instanceCountJSON{"h17.example", 1}, top[PostStatsTop-1])
	var days []dayCountJSON
	require.NoError(t, json.Unmarshal(got["per_day"], &days))
	require.Len(t, days, PostStatsDays)
	counts := map[string]uint64{}
	for _, d := range days {
		if d.Count > 0 {
			counts[d.Day] = d.Count
		}
	}
	require.Equal(t, map[string]uint64{
		today.Format(time.DateOnly):                   2,
		today.AddDate(0, 0, -1).Format(time.DateOnly): 1,
		from.Format(time.DateOnly):                    1,
	}, counts)
}

func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}

// postStatsFake is a store with post statistics that fails on demand.
type postStatsFake struct {
	*fakeStore
	stats model.PostStats
	err   error
	last  model.PostStatsQuery
}

func (f *postStatsFake) PostStats(_ context.Context, q model.PostStatsQuery) (model.PostStats, error) {
	f.last = q
	return f.stats, f.err
}

var _ PostStatsStore = (*postStatsFake)(nil)

func TestPostStatsErrors(t *testing.T) {
	t.Parallel()
	base, _ := newFakes()
	for _, tc := range []struct {
		name   string
		store  Store
		status int
		want   string
	}{
		{name: "store without post statistics", store: base, status: http.StatusNotFound,
			want: `{"error":{"code":"not_found","message":"post statistics are not available on this server"}}`},
		{name: "store failure", store: &postStatsFake{fakeStore: base, err: errors.New("dial 10.0.0.5:9000: refused")},
			status: http.StatusInternalServerError, want: `{"error":{"code":"internal","message":"internal error"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, newServerWith(t, tc.store), "/api/v1/stats/posts", nil)
			require.Equal(t, tc.status, resp.StatusCode)
			require.JSONEq(t, tc.want, string(body))
		})
	}

	// The query asks for today's window and the documented top.
	fake := &postStatsFake{fakeStore: base, stats: model.PostStats{Posts: 3, ByLanguage: []model.NameCount{{Name: "en", Count: 9}}}}
	resp, body := get(t, newServerWith(t, fake), "/api/v1/stats/posts", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	from, to := PostStatsWindow(time.Now())
	require.Equal(t, model.PostStatsQuery{From: from, To: to, Top: PostStatsTop}, fake.last)
	require.Equal(t, PostStatsDays*24*time.Hour, to.Sub(from))
	require.True(t, to.After(time.Now()) && to.Add(-24*time.Hour).Before(time.Now()), "the window ends with today")
	// Inconsistent counts from the store never underflow.
	require.Contains(t, string(body), `"other_languages":0`)
}

// postAccessFake adds the latest posts crawl of each instance to the fake
// store.
type postAccessFake struct {
	*fakeStore
	access map[string]model.HostPostAccess
	err    error
}

var _ PostAccessStore = (*postAccessFake)(nil)

func (f *postAccessFake) HostPostAccess(_ context.Context, host string) (model.HostPostAccess, error) {
	if f.err != nil {
		return model.HostPostAccess{}, f.err
	}
	pa, ok := f.access[host]
	if !ok {
		return model.HostPostAccess{}, fmt.Errorf("post access of %s: %w", host, model.ErrNotFound)
	}
	return pa, nil
}

// TestInstancePostAccess: the instance detail shows what the latest posts
// crawl came to, and nothing when the posts were never crawled.
func TestInstancePostAccess(t *testing.T) {
	t.Parallel()
	base, _ := newFakes()
	crawled := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	f := &postAccessFake{fakeStore: base, access: map[string]model.HostPostAccess{
		"social.example": {Host: "social.example", Crawled: crawled, Source: model.SourceMastodon,
			Access: model.PostAccessSignatureRequired, Requests: 2, Skipped: map[string]int{"not_indexable": 3}},
	}}
	srv := newServerWith(t, f)
	var got struct {
		Posts *struct {
			Crawled  time.Time      `json:"crawled"`
			Source   string         `json:"source"`
			Access   string         `json:"access"`
			Requests int            `json:"requests"`
			Skipped  map[string]int `json:"skipped"`
		} `json:"posts"`
	}
	resp, body := get(t, srv, "/api/v1/instances/social.example", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, &got))
	require.NotNil(t, got.Posts)
	require.Equal(t, crawled, got.Posts.Crawled)
	require.Equal(t, "mastodon", got.Posts.Source)
	require.Equal(t, "signature_required", got.Posts.Access)
	require.Equal(t, 2, got.Posts.Requests)
	require.Equal(t, map[string]int{"not_indexable": 3}, got.Posts.Skipped)

	resp, body = get(t, srv, "/api/v1/instances/quiet.example", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, string(body), `"posts"`, "never crawled: no posts field")

	f.err = errors.New("clickhouse is down")
	resp, body = get(t, srv, "/api/v1/instances/social.example", nil)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.NotContains(t, string(body), "clickhouse", "the detail stays in the log")
}
