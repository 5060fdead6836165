package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// TestPostStatsFiltered: with statistics, /api/v1/stats/posts also
// answers, under filtered, what internal/stats computes of the stored
// posts under the common parameters, beside the unchanged crawl figures.
func TestPostStatsFiltered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := chtest.Store(t)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	require.NoError(t, st.InsertSnapshots(ctx, []model.Snapshot{
		{Host: "a.example", CrawledAt: today, Software: "mastodon"},
		{Host: "b.example", CrawledAt: today, Software: "misskey"},
	}))
	var posts []model.Post
	for i, p := range []struct {
		host, lang string
		ago        int
		tags       []string
	}{
		{"a.example", "en", 0, []string{"fediverse", "go"}},
		{"a.example", "en", 1, []string{"go"}},
		{"a.example", "de", 9, nil},
		{"b.example", "", 2, []string{"fediverse"}},
		{"b.example", "ja", 40, []string{hostile}},
	} {
		posts = append(posts, model.Post{URI: fmt.Sprintf("https://%s/p/%d", p.host, i), Host: p.host, Author: "ann@" + p.host,
			Created: today.AddDate(0, 0, -p.ago).Add(time.Hour), Language: p.lang, Tags: p.tags})
	}
	require.NoError(t, st.InsertPosts(ctx, posts))
	s := stats.New(st, stats.Options{})
	mux := http.NewServeMux()
	New(Options{Store: st, Stats: s, ReadPerSecond: -1}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI("test"))
	require.NoError(t, err)
	c := &census{srv: srv, doc: doc}

	var unfiltered map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(c.get(t, RoutePostStats, "/api/v1/stats/posts"), &unfiltered))
	for _, raw := range []string{
		"",
		"interval=week",
		"software=mastodon",
		"language=und",
		"language=en&from=" + today.AddDate(0, 0, -1).Format(time.DateOnly),
		"from=" + today.AddDate(0, 0, -10).Format(time.DateOnly) + "&to=" + today.AddDate(0, 0, -2).Format(time.DateOnly) + "&interval=month",
	} {
		t.Run(raw, func(t *testing.T) {
			v, _ := url.ParseQuery(raw)
			q, err := stats.ParseQuery(v)
			require.NoError(t, err)
			over, err := s.PostsPerDay(ctx, q)
			require.NoError(t, err)
			tags, err := s.Hashtags(ctx, q, PostStatsTop)
			require.NoError(t, err)
			langs, err := s.PostLanguages(ctx, q, PostStatsTop)
			require.NoError(t, err)
			var got map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(c.get(t, RoutePostStats, "/api/v1/stats/posts?"+raw), &got))
			require.JSONEq(t, mustJSON(t, postsFilteredJSON{OverTime: over, Hashtags: tags, Languages: langs}), string(got["filtered"]))
			for k, v := range unfiltered {
				if k != "filtered" {
					require.JSONEq(t, string(v), string(got[k]), "%s does not follow the parameters", k)
				}
			}
		})
	}
	var got struct {
		Posts    int64             `json:"posts"`
		Filtered postsFilteredJSON `json:"filtered"`
	}
	require.NoError(t, json.Unmarshal(c.get(t, RoutePostStats, "/api/v1/stats/posts?software=mastodon"), &got))
	require.EqualValues(t, 5, got.Posts)
	require.Equal(t, stats.PostCounts{Posts: 2, Top: []stats.PostCount{{Key: "go", Posts: 2}, {Key: "fediverse", Posts: 1}}}, got.Filtered.Hashtags)
	require.Equal(t, stats.PostCounts{Posts: 3, Top: []stats.PostCount{{Key: "en", Posts: 2}, {Key: "de", Posts: 1}}}, got.Filtered.Languages)

	for _, tc := range []struct{ path, msg string }{
		{"/api/v1/stats/posts?interval=hour", `bad statistics query: interval must be "day", "week" or "month"`},
		{"/api/v1/stats/posts?from=2026-02-30", "bad statistics query: from must be a date such as 2026-01-31"},
		{"/api/v1/stats/posts?language=%3Cx%3E", "bad statistics query: language must be a language tag such as en or pt-br"},
	} {
		require.Equal(t, tc.msg, c.failing(t, RoutePostStats, tc.path, http.StatusBadRequest), tc.path)
	}
}
