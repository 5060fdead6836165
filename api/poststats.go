package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// PostAccessStore gives an instance's latest posts crawl outcome, shown
// on /api/v1/instances/{host}. It wraps model.ErrNotFound when the
// instance's posts were never crawled. Optional, like PostStatsStore.
type PostAccessStore interface {
	HostPostAccess(ctx context.Context, host string) (model.HostPostAccess, error)
}

// PostStatsStore is the part of the store that reports on the posts
// crawl: what was stored, which authors consented, which instances let
// fedilens read their posts, and why the rest was skipped. The ClickHouse
// store satisfies it; the API answers /api/v1/stats/posts with not_found
// when Options.Store does not.
type PostStatsStore interface {
	// PostStats aggregates the stored posts and the crawl's verdicts;
	// PerDay covers exactly the days of the query's window.
	PostStats(ctx context.Context, q model.PostStatsQuery) (model.PostStats, error)
}

// RoutePostStats is the posts statistics endpoint.
const RoutePostStats = "GET /api/v1/stats/posts"

// Bounds of /api/v1/stats/posts.
const (
	// PostStatsDays is the length of per_day, ending today (UTC): the
	// default retention of posts is 90 days, so older days are mostly
	// expired anyway.
	PostStatsDays = 90
	// PostStatsTop is how many languages and instances are ranked.
	PostStatsTop = 20
)

// registerPostStats mounts the posts statistics.
func (a *API) registerPostStats(mux *http.ServeMux) {
	mux.Handle(RoutePostStats, a.wrap(RoutePostStats, a.postStats))
}

// postStatsJSON is the answer of /api/v1/stats/posts. Maps are keyed by
// reason or verdict so that new reasons need no change of clients.
type postStatsJSON struct {
	Posts         uint64            `json:"posts"`
	Authors       authorsJSON       `json:"authors"`
	HostsByAccess map[string]uint64 `json:"hosts_by_access"`
	Skipped       map[string]uint64 `json:"skipped"`
	// ByLanguage ranks languages ("und" when a post named none); Other is
	// the posts in the languages not listed.
	ByLanguage    []languageCountJSON `json:"by_language"`
	OtherLanguage uint64              `json:"other_languages"`
	TopInstances  []instanceCountJSON `json:"top_instances"`
	OtherInstance uint64              `json:"other_instances"`
	PerDay        []dayCountJSON      `json:"per_day"`
	Flags         postFlagsJSON       `json:"flags"`
	// Filtered are the stored posts under the common parameters (absent
	// on a server without statistics). The fields above are the crawl's
	// own figures, of every stored post and the last PostStatsDays days.
	Filtered *postsFilteredJSON `json:"filtered,omitempty"`
}

// postsFilteredJSON is what internal/stats answers of the stored posts
// under the common parameters: the posts per day, week or month (from
// and to bound the days the posts were created on; software keeps the
// posts of instances running it, language the posts written in it), and
// the hashtags and languages with the most posts.
type postsFilteredJSON struct {
	OverTime  []stats.PostsPoint `json:"over_time"`
	Hashtags  stats.PostCounts   `json:"hashtags"`
	Languages stats.PostCounts   `json:"languages"`
}

// PostCountStats is the part of internal/stats that answers the filtered
// part of /api/v1/stats/posts. *stats.Stats satisfies it.
type PostCountStats interface {
	PostsPerDay(ctx context.Context, q stats.Query) ([]stats.PostsPoint, error)
	Hashtags(ctx context.Context, q stats.Query, n int) (stats.PostCounts, error)
	PostLanguages(ctx context.Context, q stats.Query, n int) (stats.PostCounts, error)
}

var _ PostCountStats = (*stats.Stats)(nil)

// postsFiltered computes the filtered part of the posts statistics, its
// three queries at once.
func postsFiltered(ctx context.Context, s PostCountStats, q stats.Query) (*postsFilteredJSON, error) {
	out := &postsFilteredJSON{}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		pts, err := s.PostsPerDay(ctx, q)
		if pts == nil {
			pts = []stats.PostsPoint{}
		}
		out.OverTime = pts
		return err
	})
	g.Go(func() (err error) {
		out.Hashtags, err = s.Hashtags(ctx, q, PostStatsTop)
		return err
	})
	g.Go(func() (err error) {
		out.Languages, err = s.PostLanguages(ctx, q, PostStatsTop)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

type authorsJSON struct {
	Consenting uint64            `json:"consenting"`
	Declined   map[string]uint64 `json:"declined"`
}

type languageCountJSON struct {
	Language string `json:"language"`
	Posts    uint64 `json:"posts"`
}

type instanceCountJSON struct {
	Host  string `json:"host"`
	Posts uint64 `json:"posts"`
}

type postFlagsJSON struct {
	ContentWarning uint64 `json:"content_warning"`
	Sensitive      uint64 `json:"sensitive"`
	AltText        uint64 `json:"alt_text"`
}

// UndeterminedLanguage is the BCP 47 code shown for posts without a
// language.
const UndeterminedLanguage = "und"

// PostStatsWindow is the window of per_day ending on now's UTC day: the
// PostStatsDays days up to and including today.
func PostStatsWindow(now time.Time) (from, to time.Time) {
	y, m, d := now.UTC().Date()
	to = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	return to.AddDate(0, 0, -PostStatsDays), to
}

func (a *API) postStats(r *http.Request) (any, error) {
	ps, ok := a.store.(PostStatsStore)
	if !ok {
		return nil, notFound("post statistics are not available on this server")
	}
	q, err := stats.ParseQuery(r.URL.Query())
	if err != nil {
		return nil, badRequest("%s", truncate(err.Error(), maxMessageLen))
	}
	var filtered *postsFilteredJSON
	if pcs, ok := a.stats.(PostCountStats); ok {
		if filtered, err = postsFiltered(r.Context(), pcs, q); err != nil {
			return nil, fmt.Errorf("get post statistics: %w", err)
		}
	}
	from, to := PostStatsWindow(time.Now())
	st, err := ps.PostStats(r.Context(), model.PostStatsQuery{From: from, To: to, Top: PostStatsTop})
	if err != nil {
		return nil, fmt.Errorf("get post statistics: %w", err)
	}
	out := postStatsJSON{
		Posts:         st.Posts,
		Authors:       authorsJSON{Consenting: st.ConsentingAuthors, Declined: nonNilCounts(st.DeclinedAuthors)},
		HostsByAccess: nonNilCounts(st.HostsByAccess),
		Skipped:       nonNilCounts(st.Skipped),
		ByLanguage:    make([]languageCountJSON, 0, len(st.ByLanguage)),
		OtherLanguage: st.Posts,
		TopInstances:  make([]instanceCountJSON, 0, len(st.ByInstance)),
		OtherInstance: st.Posts,
		PerDay:        make([]dayCountJSON, 0, len(st.PerDay)),
		Flags:         postFlagsJSON{ContentWarning: st.ContentWarning, Sensitive: st.Sensitive, AltText: st.AltText},
		Filtered:      filtered,
	}
	for _, l := range st.ByLanguage {
		name := l.Name
		if name == "" {
			name = UndeterminedLanguage
		}
		out.OtherLanguage -= min(l.Count, out.OtherLanguage)
		// A post may also name "und" itself: one entry, not two.
		if i := slices.IndexFunc(out.ByLanguage, func(c languageCountJSON) bool { return c.Language == name }); i >= 0 {
			out.ByLanguage[i].Posts += l.Count
			continue
		}
		out.ByLanguage = append(out.ByLanguage, languageCountJSON{Language: name, Posts: l.Count})
	}
	for _, h := range st.ByInstance {
		out.TopInstances = append(out.TopInstances, instanceCountJSON{Host: h.Name, Posts: h.Count})
		out.OtherInstance -= min(h.Count, out.OtherInstance)
	}
	for _, d := range st.PerDay {
		out.PerDay = append(out.PerDay, dayCountJSON{Day: d.Day.UTC().Format(time.DateOnly), Count: d.Count})
	}
	return out, nil
}

// nonNilCounts makes a missing map encode as {} rather than null, so
// clients can index the answer without a check.
func nonNilCounts(m map[string]uint64) map[string]uint64 {
	if m == nil {
		return map[string]uint64{}
	}
	return m
}
