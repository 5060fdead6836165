package dashboard

import (
	"context"
	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/fedilens/fedilens/internal/stats"
)

// The preamble every statistics page shares: the statistics must be
// configured, the filters in the URL must parse, and the page's
// statistics are then read at once (one query each, in parallel), the
// first error ending the page. A page states what it reads and nothing
// else:
//
//	l, err := d.statsLoader(r)
//	...
//	load(l, &totals, "get totals", d.stats.Totals)
//	load(l.with(all), &shares, "get software share", d.stats.SoftwareShare)
//	if err := l.wait(); err != nil { ... }

// loader runs the reads of one statistics page.
type loader struct {
	g   *errgroup.Group
	ctx context.Context
	// q is the page's query, from its URL.
	q stats.Query
}

// statsLoader starts the reads of the statistics page r: errNoStats
// without statistics, a 400 page for filters that do not parse.
func (d *Dashboard) statsLoader(r *http.Request) (*loader, error) {
	if d.stats == nil {
		return nil, errNoStats
	}
	q, err := parseStatsQuery(r)
	if err != nil {
		return nil, err
	}
	g, ctx := errgroup.WithContext(r.Context())
	return &loader{g: g, ctx: ctx, q: q}, nil
}

// with is l reading with the query q instead of the page's (a page that
// shows some figures without one of its filters).
func (l *loader) with(q stats.Query) *loader {
	return &loader{g: l.g, ctx: l.ctx, q: q}
}

// wait waits for every read and returns the first error.
func (l *loader) wait() error { return l.g.Wait() }

// load reads one statistic into dst in the background. Its error is the
// page's through statsError: a query the statistics reject is the
// visitor's 400, anything else an internal error with action's context.
func load[T any](l *loader, dst *T, action string, read func(context.Context, stats.Query) (T, error)) {
	l.g.Go(func() (err error) {
		*dst, err = read(l.ctx, l.q)
		return statsError(action, err)
	})
}
