package indexer

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// TestDateFilters: since is inclusive and until exclusive, to the
// nanosecond, whether the bounds are whole days (the day field) or not
// (the creation time).
func TestDateFilters(t *testing.T) {
	day := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
	at := map[string]time.Time{
		"before":   day.Add(-time.Nanosecond),
		"midnight": day,
		"noon":     day.Add(12 * time.Hour),
		"late":     day.Add(24*time.Hour - time.Nanosecond),
		"next":     day.Add(24 * time.Hour),
		"old":      time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
	}
	var posts []model.Post
	for name, c := range at {
		posts = append(posts, model.Post{URI: "https://d.example/" + name, Host: "d.example", Text: "dated", Created: c})
	}
	ix := indexPosts(t, posts...)
	require.True(t, ix.hasDay)
	tests := []struct {
		name         string
		q            string
		since, until time.Time
		want         []string
	}{
		{"since a day", "dated since:2026-05-10", time.Time{}, time.Time{}, []string{"late", "midnight", "next", "noon"}},
		{"until a day (its end)", "dated until:2026-05-10", time.Time{}, time.Time{}, []string{"before", "late", "midnight", "noon", "old"}},
		{"one day", "dated", day, day.AddDate(0, 0, 1), []string{"late", "midnight", "noon"}},
		{"not midnight", "dated", day.Add(12 * time.Hour), day.Add(24*time.Hour - time.Nanosecond), []string{"noon"}},
		{"before 1970", "dated", time.Time{}, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), []string{"old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ix.Search(context.Background(), model.SearchQuery{Q: tc.q, Since: tc.since, Until: tc.until, Limit: 100})
			require.NoError(t, err)
			var got []string
			for _, h := range r.Hits {
				got = append(got, h.URI[len("https://d.example/"):])
			}
			sort.Strings(got)
			require.Equal(t, tc.want, got)
		})
	}
}
