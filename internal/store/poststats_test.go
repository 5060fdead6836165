package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// TestPostStats checks every aggregate against posts, authors and access
// rows written through the store's own writers, including re-ingested and
// purged posts (which must count once, or not at all) and a window edge.
func TestPostStats(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	day0 := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	window := model.PostStatsQuery{From: day0.Add(5 * time.Hour), To: day0.AddDate(0, 0, 3).Add(time.Minute), Top: 2}

	empty, err := s.PostStats(ctx, window)
	require.NoError(t, err)
	require.Zero(t, empty.Posts)
	require.Empty(t, empty.ByLanguage)
	require.NotNil(t, empty.ByLanguage, "an empty ranking is an empty list")
	require.Equal(t, []model.DayCount{{Day: day0}, {Day: day0.AddDate(0, 0, 1)}, {Day: day0.AddDate(0, 0, 2)}}, empty.PerDay)

	var posts []model.Post
	add := func(host, lang string, created time.Time, edit func(*model.Post)) {
		p := model.Post{URI: fmt.Sprintf("https://%s/p/%d", host, len(posts)), Host: host,
			Author: "ann@" + host, Created: created, Language: lang}
		if edit != nil {
			edit(&p)
		}
		posts = append(posts, p)
	}
	add("a.example", "en", day0.Add(time.Hour), func(p *model.Post) { p.Summary = "cw"; p.Sensitive = true })
	add("a.example", "en", day0.Add(23*time.Hour+59*time.Minute), func(p *model.Post) { p.AltText = "a duck" })
	add("a.example", "de", day0.AddDate(0, 0, 2), nil)
	add("b.example", "en", day0.AddDate(0, 0, 2).Add(time.Second), func(p *model.Post) { p.Sensitive = true })
	add("b.example", "", day0.AddDate(0, 0, 3), nil) // after the window
	add("c.example", "fr", day0.AddDate(0, 0, -1), func(p *model.Post) { p.Summary = "spoiler"; p.AltText = "x" })
	add("c.example", "fr", day0.Add(time.Hour), nil)
	require.NoError(t, s.InsertPosts(ctx, posts))
	// Re-ingested with the flags changed: counted once, as last written.
	again := posts[0]
	again.Summary, again.Sensitive = "", false
	require.NoError(t, s.InsertPosts(ctx, []model.Post{again}))
	// Purged: not counted at all.
	gone := model.Post{URI: "https://d.example/gone", Host: "d.example", Author: "zed@d.example", Created: day0, Language: "en", Summary: "x"}
	require.NoError(t, s.InsertPosts(ctx, []model.Post{gone}))
	_, err = s.PurgePosts(ctx, store.Purge{URIs: []string{gone.URI}})
	require.NoError(t, err)

	require.NoError(t, s.UpsertAuthors(ctx, []model.AuthorState{
		{Author: "ann@a.example", Host: "a.example", Consent: true},
		{Author: "bob@a.example", Host: "a.example", Reason: "not_indexable"},
		{Author: "cy@b.example", Host: "b.example", Reason: "opt_out_word"},
		{Author: "di@b.example", Host: "b.example", Reason: "not_indexable"},
	}))
	crawled := day0.Add(time.Hour)
	require.NoError(t, s.InsertPostAccess(ctx, []model.HostPostAccess{
		{Host: "a.example", Crawled: crawled, Source: model.SourceMastodon, Access: model.PostAccessOK,
			Skipped: map[string]int{"not_indexable": 5, "not_public": 2}},
		// b's latest crawl replaces its earlier one.
		{Host: "b.example", Crawled: crawled, Source: model.SourceMastodon, Access: model.PostAccessOK,
			Skipped: map[string]int{"not_public": 100}},
		{Host: "b.example", Crawled: crawled.Add(time.Hour), Source: model.SourceMastodon, Access: model.PostAccessOK,
			Skipped: map[string]int{"not_public": 1}},
		{Host: "gts.example", Crawled: crawled, Source: model.SourceMastodon, Access: model.PostAccessSignatureRequired},
		{Host: "quiet.example", Crawled: crawled, Access: model.PostAccessPrivate},
	}))

	for _, tc := range []struct {
		name string
		q    model.PostStatsQuery
		want func(*model.PostStats)
	}{
		{name: "window and top 2", q: window, want: func(w *model.PostStats) {
			w.PerDay = []model.DayCount{{Day: day0, Count: 3}, {Day: day0.AddDate(0, 0, 1)}, {Day: day0.AddDate(0, 0, 2), Count: 2}}
		}},
		{name: "default top, one day", q: model.PostStatsQuery{From: day0.AddDate(0, 0, -1), To: day0}, want: func(w *model.PostStats) {
			w.ByLanguage = append(w.ByLanguage, model.NameCount{Name: "", Count: 1}, model.NameCount{Name: "de", Count: 1})
			w.ByInstance = append(w.ByInstance, model.NameCount{Name: "c.example", Count: 2})
			w.PerDay = []model.DayCount{{Day: day0.AddDate(0, 0, -1), Count: 1}}
		}},
		{name: "empty window", q: model.PostStatsQuery{From: day0, To: day0.Add(time.Hour), Top: 2}, want: func(w *model.PostStats) {
			w.PerDay = []model.DayCount{}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := model.PostStats{
				Posts:             7,
				ConsentingAuthors: 1,
				DeclinedAuthors:   map[string]uint64{"not_indexable": 2, "opt_out_word": 1},
				HostsByAccess:     map[string]uint64{"ok": 2, "signature_required": 1, "private": 1},
				Skipped:           map[string]uint64{"not_indexable": 5, "not_public": 3},
				ByLanguage:        []model.NameCount{{Name: "en", Count: 3}, {Name: "fr", Count: 2}},
				ByInstance:        []model.NameCount{{Name: "a.example", Count: 3}, {Name: "b.example", Count: 2}},
				ContentWarning:    1,
				Sensitive:         1,
				AltText:           2,
			}
			tc.want(&want)
			got, err := s.PostStats(ctx, tc.q)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}

	// The window is capped, counted back from its end.
	long, err := s.PostStats(ctx, model.PostStatsQuery{To: day0})
	require.NoError(t, err)
	require.Len(t, long.PerDay, store.MaxPostStatsDays)
	require.Equal(t, day0.AddDate(0, 0, -1), long.PerDay[len(long.PerDay)-1].Day)
}
