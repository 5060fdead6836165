package indexer

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// TestNewestWindows pages through newest-first results whose posts are
// spread over three years, a few of them dated in the future, and with
// pages that fall inside, across and beyond the month windows: every page
// must be exactly what sorting all matches gives, and Total the number of
// all matches.
func TestNewestWindows(t *testing.T) {
	now := time.Now().UTC()
	var posts []model.Post
	var want []model.Post
	for i := range 300 {
		var created time.Time
		switch {
		case i < 5:
			created = now.AddDate(0, 2+i, 0) // clocks running ahead
		case i < 40:
			created = now.Add(-time.Duration(i) * 37 * time.Hour) // this month and the last
		default:
			created = now.AddDate(0, 0, -20-(i*1100)/300) // back three years
		}
		p := model.Post{URI: fmt.Sprintf("https://w.example/p/%03d", i), Host: "w.example", Text: "alpha", Created: created}
		if i%3 == 0 {
			p.Text = "beta" // not a match
		} else {
			want = append(want, p)
		}
		posts = append(posts, p)
	}
	ix := indexPosts(t, posts...)
	sort.SliceStable(want, func(i, j int) bool {
		a, b := want[i].Created.UnixMilli(), want[j].Created.UnixMilli()
		if a != b {
			return a > b
		}
		return want[i].URI < want[j].URI
	})
	for _, limit := range []int{1, 7, 20, 100} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var got []string
			cursor := ""
			for page := 0; ; page++ {
				require.Less(t, page, 300)
				r, err := ix.Search(context.Background(), model.SearchQuery{Q: "alpha", Sort: model.SortNewest, Limit: limit, Cursor: cursor})
				require.NoError(t, err)
				require.Equal(t, uint64(len(want)), r.Total)
				for _, h := range r.Hits {
					got = append(got, h.URI)
				}
				if r.NextCursor == "" {
					break
				}
				cursor = r.NextCursor
			}
			var wantURIs []string
			for _, p := range want {
				wantURIs = append(wantURIs, p.URI)
			}
			require.Equal(t, wantURIs, got)
		})
	}
}

func TestSortKeyTime(t *testing.T) {
	for _, ts := range []time.Time{time.Unix(0, 0).UTC(), time.Date(2026, 11, 22, 3, 4, 5, 6_000_000, time.UTC), maxSortKeyTime} {
		got, ok := sortKeyTime(sortKey(ts))
		require.True(t, ok)
		require.True(t, ts.Equal(got), "%s != %s", ts, got)
	}
	_, ok := sortKeyTime("short")
	require.False(t, ok)
}
