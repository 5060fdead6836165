package store

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fedilens/fedilens/internal/model"
)

// Bounds of PostStats.
const (
	// DefaultPostStatsTop is the number of languages and instances ranked
	// when the query asks for none.
	DefaultPostStatsTop = 20
	// MaxPostStatsTop caps the ranked languages and instances.
	MaxPostStatsTop = 100
	// MaxPostStatsDays caps the days of PerDay, so a careless window
	// cannot make an answer of millions of zero days.
	MaxPostStatsDays = 3660
)

// PostStats aggregates the stored posts, the authors' consent and the
// hosts' posts crawls for the dashboard and the API. Every figure is one
// GROUP BY in ClickHouse over the latest row of each post (FINAL) or of
// each author and host (argMax), never rows loaded into Go, so the cost
// does not grow with what a client sees. The queries run concurrently.
func (s *Store) PostStats(ctx context.Context, q model.PostStatsQuery) (model.PostStats, error) {
	top := q.Top
	if top < 1 {
		top = DefaultPostStatsTop
	}
	top = min(top, MaxPostStatsTop)
	from, to := utcDay(q.From), utcDay(q.To)
	if to.Sub(from) > MaxPostStatsDays*24*time.Hour {
		from = to.AddDate(0, 0, -MaxPostStatsDays)
	}

	var (
		out     model.PostStats
		authors AuthorTotals
		days    map[time.Time]uint64
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		err := s.conn.QueryRow(gctx, `
SELECT count(), sum(has_summary), sum(sensitive), sum(has_alt_text) FROM posts FINAL`).
			Scan(&out.Posts, &out.ContentWarning, &out.Sensitive, &out.AltText)
		if err != nil {
			return fmt.Errorf("count posts and their flags: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		out.ByLanguage, err = s.topPostsBy(gctx, "language", top)
		return err
	})
	g.Go(func() (err error) {
		out.ByInstance, err = s.topPostsBy(gctx, "host", top)
		return err
	})
	g.Go(func() (err error) {
		days, err = s.postsPerDay(gctx, from, to)
		return err
	})
	g.Go(func() (err error) {
		authors, err = s.AuthorTotals(gctx)
		return err
	})
	g.Go(func() (err error) {
		out.HostsByAccess, err = s.PostAccessTotals(gctx)
		return err
	})
	g.Go(func() (err error) {
		out.Skipped, err = s.PostSkipTotals(gctx)
		return err
	})
	if err := g.Wait(); err != nil {
		return model.PostStats{}, fmt.Errorf("aggregate post statistics: %w", err)
	}
	out.ConsentingAuthors, out.DeclinedAuthors = authors.Consenting, authors.Declined
	out.PerDay = make([]model.DayCount, 0, int(to.Sub(from)/(24*time.Hour)))
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		out.PerDay = append(out.PerDay, model.DayCount{Day: d, Count: days[d]})
	}
	return out, nil
}

// utcDay is the start of t's UTC day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// topPostsBy ranks the values of column (a fixed column name, never
// input) by their number of stored posts, at most limit of them.
func (s *Store) topPostsBy(ctx context.Context, column string, limit int) ([]model.NameCount, error) {
	rows, err := s.conn.Query(ctx, `
SELECT `+column+` AS name, count() AS n FROM posts FINAL
GROUP BY name ORDER BY n DESC, name LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("rank posts by %s: %w", column, err)
	}
	defer rows.Close()
	out := []model.NameCount{}
	for rows.Next() {
		var c model.NameCount
		if err := rows.Scan(&c.Name, &c.Count); err != nil {
			return nil, fmt.Errorf("rank posts by %s: %w", column, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rank posts by %s: %w", column, err)
	}
	return out, nil
}

// postsPerDay counts the stored posts created on each UTC day in
// [from, to), by day; days without posts are absent.
func (s *Store) postsPerDay(ctx context.Context, from, to time.Time) (map[time.Time]uint64, error) {
	out := map[time.Time]uint64{}
	if !to.After(from) {
		return out, nil
	}
	// Days as UInt32 since the epoch: the Date type's time zone handling
	// differs between 18.16 and current releases and driver versions.
	rows, err := s.conn.Query(ctx, `
SELECT toUInt32(intDiv(toUInt32(created), 86400)) AS d, count() FROM posts FINAL
WHERE created >= toDateTime(?) AND created < toDateTime(?)
GROUP BY d ORDER BY d`, from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("count posts per day: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			day uint32
			n   uint64
		)
		if err := rows.Scan(&day, &n); err != nil {
			return nil, fmt.Errorf("count posts per day: %w", err)
		}
		out[time.Unix(int64(day)*86400, 0).UTC()] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count posts per day: %w", err)
	}
	return out, nil
}
