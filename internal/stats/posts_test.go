package stats_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// TestPostStatisticsMatchTruth stores the posts a correct crawler stores
// of a simulated fediverse (the truth's consenting public posts) with
// every instance's snapshot, and compares posts per day, hashtags and
// languages with counts made in Go, under range, software and language
// filters; a post written twice counts once, an opted-out instance's
// posts not at all.
func TestPostStatisticsMatchTruth(t *testing.T) {
	ctx := context.Background()
	st := chtest.Store(t)
	sim := fedisim.New(fedisim.Options{Seed: 9, Instances: 60, PostScale: 4})
	truth := sim.Truth()
	census := truth.Census(sim.Seeds())
	software := map[string]string{}
	var snaps []model.Snapshot
	for _, in := range census {
		software[in.Host] = in.Software
		snaps = append(snaps, model.Snapshot{Host: in.Host, CrawledAt: time.Now().UTC().Truncate(time.Second), Software: in.Software})
	}
	require.NoError(t, st.InsertSnapshots(ctx, snaps))

	truthPosts := truth.Posts(sim.Seeds(), time.Time{})
	require.Greater(t, len(truthPosts), 100, "the world should have posts")
	t.Logf("%d posts", len(truthPosts))
	var posts []model.Post
	hosts := map[string]int{}
	for _, p := range truthPosts {
		_, host, _ := strings.Cut(p.Author, "@")
		hosts[host]++
		posts = append(posts, model.Post{URI: p.URI, Host: host, Author: p.Author, Created: p.Created,
			Language: p.Language, Tags: p.Tags})
	}
	require.NoError(t, st.InsertPosts(ctx, posts))
	require.NoError(t, st.InsertPosts(ctx, posts[:10]), "written twice, counted once")
	// The host with the fewest posts opts out: its posts leave every figure.
	optedOut := ""
	for h, n := range hosts {
		if optedOut == "" || n < hosts[optedOut] || (n == hosts[optedOut] && h < optedOut) {
			optedOut = h
		}
	}
	require.NoError(t, st.AddOptOut(ctx, model.OptOut{Host: optedOut, Reason: "test"}))
	var kept []model.Post
	for _, p := range posts {
		if p.Host != optedOut {
			kept = append(kept, p)
		}
	}

	sort.Slice(kept, func(i, j int) bool { return kept[i].Created.Before(kept[j].Created) })
	first := kept[0].Created.UTC().Truncate(24 * time.Hour)
	lastDay := kept[len(kept)-1].Created.UTC().Truncate(24 * time.Hour)
	mid := first.Add(lastDay.Sub(first) / 2).Truncate(24 * time.Hour)
	s := stats.New(st, stats.Options{})

	selected := func(q stats.Query) []model.Post {
		var out []model.Post
		for _, p := range kept {
			d := p.Created.UTC().Truncate(24 * time.Hour)
			if (!q.From.IsZero() && d.Before(q.From)) || (!q.To.IsZero() && d.After(q.To)) {
				continue
			}
			if len(q.Software) > 0 && !slices.Contains(q.Software, software[p.Host]) {
				continue
			}
			lang := p.Language
			if lang == "" {
				lang = stats.UndeterminedLanguage
			}
			if q.Language != "" && lang != q.Language {
				continue
			}
			out = append(out, p)
		}
		return out
	}
	ranking := func(counts map[string]int64, posts, uses int64, n int) stats.PostCounts {
		out := stats.PostCounts{Posts: posts, Top: []stats.PostCount{}, Other: uses}
		for k, c := range counts {
			out.Top = append(out.Top, stats.PostCount{Key: k, Posts: c})
		}
		sort.Slice(out.Top, func(i, j int) bool {
			if out.Top[i].Posts != out.Top[j].Posts {
				return out.Top[i].Posts > out.Top[j].Posts
			}
			return out.Top[i].Key < out.Top[j].Key
		})
		if len(out.Top) > n {
			out.Top = out.Top[:n]
		}
		for _, c := range out.Top {
			out.Other -= c.Posts
		}
		return out
	}

	for name, q := range map[string]stats.Query{
		"everything":          {},
		"weeks":               {Interval: stats.Week},
		"a range of months":   {From: first.AddDate(0, 0, 3), To: mid, Interval: stats.Month},
		"mastodon":            {Software: []string{"mastodon"}},
		"english from mid on": {From: mid, Language: "en"},
		"undetermined":        {Language: stats.UndeterminedLanguage},
	} {
		t.Run(name, func(t *testing.T) {
			if q.Interval == "" {
				q.Interval = stats.Day
			}
			sel := selected(q)
			require.NotEmpty(t, sel)

			perDay := map[time.Time]int64{}
			from, to := q.From, q.To
			for _, p := range sel {
				d := p.Created.UTC().Truncate(24 * time.Hour)
				perDay[d]++
				if q.From.IsZero() && (from.IsZero() || d.Before(from)) {
					from = d
				}
				if q.To.IsZero() && d.After(to) {
					to = d
				}
			}
			want := []stats.PostsPoint{}
			for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
				per := period(q.Interval, d)
				if len(want) == 0 || !want[len(want)-1].Period.Equal(per) {
					want = append(want, stats.PostsPoint{Period: per})
				}
				want[len(want)-1].Posts += perDay[d]
			}
			got, err := s.PostsPerDay(ctx, q)
			require.NoError(t, err)
			require.Equal(t, want, got, "posts per day")

			tags, langs := map[string]int64{}, map[string]int64{}
			var tagged, uses int64
			for _, p := range sel {
				if len(p.Tags) > 0 {
					tagged++
				}
				for _, tag := range p.Tags {
					tags[tag]++
					uses++
				}
				lang := p.Language
				if lang == "" {
					lang = stats.UndeterminedLanguage
				}
				langs[lang]++
			}
			for _, n := range []int{3, stats.MaxTop} {
				ht, err := s.Hashtags(ctx, q, n)
				require.NoError(t, err)
				require.Equal(t, ranking(tags, tagged, uses, n), ht, "hashtags, top %d", n)
				pl, err := s.PostLanguages(ctx, q, n)
				require.NoError(t, err)
				require.Equal(t, ranking(langs, int64(len(sel)), int64(len(sel)), n), pl, "languages, top %d", n)
			}
		})
	}

	_, err := s.Hashtags(ctx, stats.Query{}, 0)
	require.ErrorIs(t, err, stats.ErrBadQuery)
	empty, err := s.PostsPerDay(ctx, stats.Query{Software: []string{"no-such-program"}})
	require.NoError(t, err)
	require.Equal(t, []stats.PostsPoint{}, empty)
}
