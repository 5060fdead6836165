package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// Stats is the part of internal/stats the API serves: the observatory's
// statistics over the daily rows, each selected by a stats.Query read from
// the URL with stats.ParseQuery, the same parameters the dashboard's pages
// take, so that a chart and the API query behind it agree. *stats.Stats
// satisfies it.
type Stats interface {
	Totals(ctx context.Context, q stats.Query) ([]stats.TotalsPoint, error)
	SoftwareShare(ctx context.Context, q stats.Query) (stats.Shares, error)
	SoftwareShareOverTime(ctx context.Context, q stats.Query) ([]stats.Shares, error)
	VersionShare(ctx context.Context, q stats.Query, software string) (stats.Shares, error)
	VersionShareOverTime(ctx context.Context, q stats.Query, software string) ([]stats.Shares, error)
	Growth(ctx context.Context, q stats.Query) ([]stats.GrowthPoint, error)
	Registrations(ctx context.Context, q stats.Query) ([]stats.RegistrationsPoint, error)
	RegistrationsBySoftware(ctx context.Context, q stats.Query) (stats.RegistrationsAt, error)
	Languages(ctx context.Context, q stats.Query) (stats.Shares, error)
	Sizes(ctx context.Context, q stats.Query) (stats.SizeDistribution, error)
	// History wraps model.ErrNotFound when the host has no point in q.
	History(ctx context.Context, host string, q stats.Query) ([]stats.HostPoint, error)
}

var _ Stats = (*stats.Stats)(nil)

// Routes of the census statistics (besides RouteSummary, RouteSoftware
// and RouteInstancesOverTime) and of an instance's history.
const (
	RouteTotals                  = "GET /api/v1/stats/totals"
	RouteSoftwareOverTime        = "GET /api/v1/stats/software/over-time"
	RouteVersions                = "GET /api/v1/stats/versions/{software}"
	RouteVersionsOverTime        = "GET /api/v1/stats/versions/{software}/over-time"
	RouteGrowth                  = "GET /api/v1/stats/growth"
	RouteRegistrations           = "GET /api/v1/stats/registrations"
	RouteRegistrationsBySoftware = "GET /api/v1/stats/registrations/by-software"
	RouteLanguages               = "GET /api/v1/stats/languages"
	RouteSizes                   = "GET /api/v1/stats/sizes"
	RouteHistory                 = "GET /api/v1/instances/{host}/history"
)

// registerCensusStats mounts the statistics that internal/stats answers.
func (a *API) registerCensusStats(mux *http.ServeMux) {
	for _, r := range []struct {
		route string
		h     handlerFunc
	}{
		{RouteSummary, a.summary},
		{RouteInstancesOverTime, a.instancesOverTime},
		{RouteTotals, a.statsRoute("totals", func(ctx context.Context, s Stats, q stats.Query, _ *http.Request) (any, error) {
			return orEmpty(s.Totals(ctx, q))
		})},
		{RouteSoftware, a.statsRoute("software share", func(ctx context.Context, s Stats, q stats.Query, _ *http.Request) (any, error) {
			return sharesJSON(s.SoftwareShare(ctx, q))
		})},
		{RouteSoftwareOverTime, a.statsRoute("software share over time", func(ctx context.Context, s Stats, q stats.Query, _ *http.Request) (any, error) {
			return orEmpty(s.SoftwareShareOverTime(ctx, q))
		})},
		{RouteVersions, a.statsRoute("version share", func(ctx context.Context, s Stats, q stats.Query, r *http.Request) (any, error) {
			sw, err := pathSoftware(r)
			if err != nil {
				return nil, err
			}
			return sharesJSON(s.VersionShare(ctx, q, sw))
		})},
		{RouteVersionsOverTime, a.statsRoute("version share over time", func(ctx context.Context, s Stats, q stats.Query, r *http.Request) (any, error) {
			sw, err := pathSoftware(r)
			if err != nil {
				return nil, err
			}
			return orEmpty(s.VersionShareOverTime(ctx, q, sw))
		})},
		{RouteGrowth, a.statsRoute("growth", func(ctx context.Context, s Stats, q stats.Query, _ *http.Request) (any, error) {
			return orEmpty(s.Growth(ctx, q))
		})},
		{RouteRegistrations, a.statsRoute("registrations", func(ctx context.Context, s Stats, q stats.Query, _ *http.Request) (any, error) {
			return orEmpty(s.Registrations(ctx, q))
		})},
		{RouteRegistrationsBySoftware, a.statsRoute("registrations by software", func(ctx context.Context, s Stats, q stats.Query, _ *http.Request) (any, error) {
			at, err := s.RegistrationsBySoftware(ctx, q)
			if at.Software == nil {
				at.Software = []stats.SoftwareRegistrations{}
			}
			return at, err
		})},
		{RouteLanguages, a.statsRoute("languages", func(ctx context.Context, s Stats, q stats.Query, _ *http.Request) (any, error) {
			return sharesJSON(s.Languages(ctx, q))
		})},
		{RouteSizes, a.statsRoute("size distribution", func(ctx context.Context, s Stats, q stats.Query, _ *http.Request) (any, error) {
			return s.Sizes(ctx, q)
		})},
		{RouteHistory, a.statsRoute("instance history", a.history)},
	} {
		mux.Handle(r.route, a.wrap(r.route, r.h))
	}
}

// statsRoute is the handler of one statistic: it reads the common
// parameters with stats.ParseQuery (a malformed one is a 400 with its
// message) and hands the Query to f.
func (a *API) statsRoute(what string, f func(ctx context.Context, s Stats, q stats.Query, r *http.Request) (any, error)) handlerFunc {
	return func(r *http.Request) (any, error) {
		q, s, err := a.statsQuery(r)
		if err != nil {
			return nil, err
		}
		v, err := f(r.Context(), s, q, r)
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", what, err)
		}
		return v, nil
	}
}

// statsQuery reads the request's stats.Query; it answers not_found when
// the API has no statistics.
func (a *API) statsQuery(r *http.Request) (stats.Query, Stats, error) {
	if a.stats == nil {
		return stats.Query{}, nil, notFound("statistics are not available on this server")
	}
	q, err := stats.ParseQuery(r.URL.Query())
	if err != nil {
		return stats.Query{}, nil, badRequest("%s", truncate(err.Error(), maxMessageLen))
	}
	return q, a.stats, nil
}

// pathSoftware reads the {software} of the version routes with the same
// rules as the software parameter, one program only.
func pathSoftware(r *http.Request) (string, error) {
	q, err := stats.ParseQuery(url.Values{stats.ParamSoftware: {r.PathValue("software")}})
	if err != nil {
		return "", badRequest("%s", truncate(err.Error(), maxMessageLen))
	}
	if len(q.Software) != 1 {
		return "", badRequest("the path must name one program by its NodeInfo name")
	}
	return q.Software[0], nil
}

// orEmpty makes a nil list an empty one: the answers are arrays, never null.
func orEmpty[T any](v []T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = []T{}
	}
	return v, nil
}

// sharesJSON makes the shares of a day without data an empty list.
func sharesJSON(sh stats.Shares, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	if sh.Shares == nil {
		sh.Shares = []stats.Share{}
	}
	return sh, nil
}

// summary serves the headline numbers of one day, To's or the latest with
// data: the totals under the filters, how many instances the sanity
// verdicts left out (or put in), the programs seen, and the posts indexed
// and the last crawl of the whole store.
func (a *API) summary(r *http.Request) (any, error) {
	q, s, err := a.statsQuery(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	out := summaryJSON{IncludeFlagged: q.IncludeFlagged}
	if out.IndexedPosts, err = a.store.PostCount(ctx); err != nil {
		return nil, fmt.Errorf("get summary: %w", err)
	}
	last, err := a.store.LastCrawl(ctx)
	if err != nil {
		return nil, fmt.Errorf("get summary: %w", err)
	}
	out.LastCrawl = timestamp(last)

	shares, err := s.SoftwareShare(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("get summary: %w", err)
	}
	if shares.Day.IsZero() {
		return out, nil
	}
	day := shares.Day.Format(time.DateOnly)
	out.Day = &day
	for _, sh := range shares.Shares {
		if sh.Key != "" {
			out.Softwares++
		}
	}
	// The figures of that day alone, with and without the flagged
	// instances: the difference is what the verdicts left out.
	qd := q
	qd.From, qd.To, qd.Interval = shares.Day, shares.Day, stats.Day
	asked, err := s.Totals(ctx, qd)
	if err != nil {
		return nil, fmt.Errorf("get summary: %w", err)
	}
	qd.IncludeFlagged = !qd.IncludeFlagged
	other, err := s.Totals(ctx, qd)
	if err != nil {
		return nil, fmt.Errorf("get summary: %w", err)
	}
	var p, o stats.TotalsPoint
	if len(asked) > 0 {
		p = asked[len(asked)-1]
	}
	if len(other) > 0 {
		o = other[len(other)-1]
	}
	out.Instances = uint64(max(p.Instances, 0))
	out.UsersTotal, out.UsersActiveMonth, out.UsersActiveHalfyear, out.LocalPosts = p.Accounts, p.ActiveMonth, p.ActiveHalfyear, p.LocalPosts
	out.FlaggedInstances = uint64(max(p.Instances-o.Instances, o.Instances-p.Instances))
	return out, nil
}

// instancesOverTime serves the number of instances per interval: the
// instances of stats.Totals.
func (a *API) instancesOverTime(r *http.Request) (any, error) {
	q, s, err := a.statsQuery(r)
	if err != nil {
		return nil, err
	}
	pts, err := s.Totals(r.Context(), q)
	if err != nil {
		return nil, fmt.Errorf("get instances over time: %w", err)
	}
	out := make([]instancesDayJSON, 0, len(pts))
	for _, p := range pts {
		out = append(out, instancesDayJSON{
			Period: p.Period.UTC().Format(time.DateOnly), Day: p.Day.UTC().Format(time.DateOnly),
			Count: uint64(max(p.Instances, 0)),
		})
	}
	return out, nil
}

// history serves one instance's daily points; with an interval of a week
// or a month, the last point of each (the value of a period is that of its
// last day with data, as for every statistic over time). A host that has
// points, only none in the range or under the filters, answers an empty
// list; an unknown one, not_found.
func (a *API) history(ctx context.Context, s Stats, q stats.Query, r *http.Request) (any, error) {
	host, err := normaliseHost(r.PathValue("host"))
	if err != nil {
		return nil, err
	}
	pts, err := s.History(ctx, host, q)
	if errors.Is(err, model.ErrNotFound) {
		if _, err := s.History(ctx, host, stats.Query{IncludeFlagged: true}); errors.Is(err, model.ErrNotFound) {
			return nil, notFound("unknown instance")
		} else if err != nil {
			return nil, err
		}
		return []stats.HostPoint{}, nil
	}
	if err != nil {
		return nil, err
	}
	return lastOfPeriods(q.Interval, pts), nil
}

// lastOfPeriods keeps, of points sorted by day, the last of each interval.
func lastOfPeriods(iv stats.Interval, pts []stats.HostPoint) []stats.HostPoint {
	if iv == "" || iv == stats.Day {
		return pts
	}
	out := make([]stats.HostPoint, 0, len(pts))
	for i, p := range pts {
		if i+1 < len(pts) && periodStart(iv, pts[i+1].Day).Equal(periodStart(iv, p.Day)) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// periodStart is the first day of the interval d falls in: weeks start on
// Monday (ISO 8601), months on the 1st, in UTC, as in internal/stats.
func periodStart(iv stats.Interval, d time.Time) time.Time {
	y, m, dd := d.UTC().Date()
	day := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	switch iv {
	case stats.Week:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case stats.Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}
