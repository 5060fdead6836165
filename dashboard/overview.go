package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// changeWindow is how far back the headline numbers' change looks when
// the visitor chose no start of the range.
const changeWindow = 30

// headline is one headline number with its change.
type headline struct {
	ID, Label string
	Value     string
	// Change is "+1,234 (+5.2 %)", "" when there is nothing to compare.
	Change string
	// Trend is "up", "down" or "flat", for the change's colour.
	Trend string
}

type overviewData struct {
	Form filterForm
	// Headlines are the numbers on AsOf with their change since Since.
	Headlines []headline
	AsOf      string
	Since     string
	// Empty says that no day in the range has data.
	Empty       bool
	HeadlineAPI string
	// Flagged and FlaggedPath tell how many instances publish suspect
	// figures (left out unless the filter includes them) and list them.
	Flagged     uint64
	FlaggedPath string
	LastCrawl   time.Time

	Totals   figure
	Growth   figure
	Software figure
	Sizes    figure
	Top      figure
}

// overview is the census at a glance, over the filters in the URL.
func (d *Dashboard) overview(r *http.Request) (pageResult, error) {
	l, err := d.statsLoader(r)
	if err != nil {
		return pageResult{}, err
	}
	q := l.q
	var (
		totals  []stats.TotalsPoint
		growth  []stats.GrowthPoint
		shares  stats.Shares
		sizes   stats.SizeDistribution
		summary model.Summary
		top     model.InstancePage
	)
	topQuery := topInstancesQuery(q)
	load(l, &totals, "get totals", d.stats.Totals)
	load(l, &growth, "get growth", d.stats.Growth)
	load(l, &shares, "get software share", d.stats.SoftwareShare)
	load(l, &sizes, "get size distribution", d.stats.Sizes)
	load(l, &summary, "get summary", func(ctx context.Context, _ stats.Query) (model.Summary, error) {
		return d.store.Summary(ctx)
	})
	load(l, &top, "list top instances", func(ctx context.Context, _ stats.Query) (model.InstancePage, error) {
		return d.store.Instances(ctx, topQuery)
	})
	if err := l.wait(); err != nil {
		return pageResult{}, err
	}

	data := overviewData{
		Form:        newFilterForm("/", q, true),
		HeadlineAPI: withQuery(apiTotals, q),
		Flagged:     summary.Flagged,
		FlaggedPath: flaggedListPath,
		LastCrawl:   summary.LastCrawl,
		Empty:       len(totals) == 0,
	}
	data.Headlines, data.AsOf, data.Since = headlines(totals, q)
	if data.Totals, err = d.totalsFigure(totals, q); err != nil {
		return pageResult{}, err
	}
	if data.Growth, err = d.growthFigure(growth, totals, q); err != nil {
		return pageResult{}, err
	}
	data.Software, err = d.shareFigure(shares, shareSpec{
		id: "software", heading: "Software share", keyHead: "Software",
		hint:    "Instances by the software they run, and the accounts and monthly active users on them.",
		label:   softwareLabel,
		path:    func(k string) string { return softwarePath(k, q) },
		charts:  []measure{byInstances, byActive},
		top:     barsShown,
		apiPath: withQuery(apiSoftware, q),
		empty:   "No instance in this range.",
	})
	if err != nil {
		return pageResult{}, err
	}
	if data.Sizes, err = d.sizesFigure(sizes, q); err != nil {
		return pageResult{}, err
	}
	data.Top = topFigure(top.Instances, topQuery, q)
	return pageResult{name: "overview", title: "Fediverse census", data: data, charts: true}, nil
}

// headlines are the last totals with their change: since the range's
// first point when the visitor chose a start, else since the last point
// at least changeWindow days before the last one (or the first point of
// a shorter history).
func headlines(pts []stats.TotalsPoint, q stats.Query) (out []headline, asOf, since string) {
	if len(pts) == 0 {
		return nil, "", ""
	}
	last := pts[len(pts)-1]
	base := pts[0]
	if q.From.IsZero() {
		cut := last.Day.AddDate(0, 0, -changeWindow)
		for _, p := range pts {
			if p.Day.After(cut) {
				break
			}
			base = p
		}
	}
	compare := len(pts) > 1 && base.Day.Before(last.Day)
	if compare {
		since = dayLabel(base.Day)
	}
	for _, h := range []struct {
		id, label string
		v         func(stats.TotalsPoint) int64
	}{
		{"stat-instances", "Instances", func(p stats.TotalsPoint) int64 { return p.Instances }},
		{"stat-accounts", "Accounts", func(p stats.TotalsPoint) int64 { return p.Accounts }},
		{"stat-active", "Monthly active users", func(p stats.TotalsPoint) int64 { return p.ActiveMonth }},
		{"stat-halfyear", "Half-year active users", func(p stats.TotalsPoint) int64 { return p.ActiveHalfyear }},
		{"stat-posts", "Local posts", func(p stats.TotalsPoint) int64 { return p.LocalPosts }},
	} {
		hl := headline{ID: h.id, Label: h.label, Value: formatNum(h.v(last))}
		if compare {
			hl.Change, hl.Trend = change(h.v(base), h.v(last))
		}
		out = append(out, hl)
	}
	return out, dayLabel(last.Day), since
}

// change formats the difference from before to now, with its percentage
// when before is positive.
func change(before, now int64) (text, trend string) {
	diff := now - before
	sign, trend := "+", "up"
	switch {
	case diff < 0:
		sign, trend = "−", "down"
	case diff == 0:
		sign, trend = "±", "flat"
	}
	abs := diff
	if abs < 0 {
		abs = -abs
	}
	text = sign + formatNum(abs)
	if before > 0 {
		// A no-break space keeps the percentage whole on a narrow screen.
		text += " (" + sign + strconv.FormatFloat(100*float64(abs)/float64(before), 'f', 1, 64) + "\u00a0%)"
	}
	return text, trend
}

// totalsFigure is the growth lines: instances, and the people on them.
func (d *Dashboard) totalsFigure(pts []stats.TotalsPoint, q stats.Query) (figure, error) {
	f := figure{
		ID: "totals", Heading: "Growth",
		Hint:    "Totals on the last day with data of each period; instances with suspect figures are left out unless included.",
		APIPath: withQuery(apiTotals, q),
		Table: tableView{Caption: "Table: totals per period", Empty: "No day in this range has data.",
			Head: []column{{Label: "Period"}, {Label: "Instances", Num: true}, {Label: "Accounts", Num: true},
				{Label: "Monthly active", Num: true}, {Label: "Half-year active", Num: true}, {Label: "Local posts", Num: true}}},
	}
	labels := make([]string, len(pts))
	series := make([]lineSeries, 5)
	for i, name := range []string{"Instances", "Accounts", "Monthly active users", "Half-year active users", "Local posts"} {
		series[i] = lineSeries{name: name, values: make([]*int64, len(pts))}
	}
	for i, p := range pts {
		labels[i] = dayLabel(p.Period)
		for j, v := range []int64{p.Instances, p.Accounts, p.ActiveMonth, p.ActiveHalfyear, p.LocalPosts} {
			series[j].values[i] = model.Int64(v)
		}
		f.Table.Rows = append(f.Table.Rows, []cell{textCell(labels[i]), numCell(p.Instances), numCell(p.Accounts),
			numCell(p.ActiveMonth), numCell(p.ActiveHalfyear), numCell(p.LocalPosts)})
	}
	if !d.chartsReady || len(pts) == 0 {
		return f, nil
	}
	// Three charts, as the counts differ by orders of magnitude.
	for _, c := range []struct {
		id, title string
		series    []lineSeries
	}{
		{"totals-instances", "Instances", series[:1]},
		{"totals-users", "Users", series[1:4]},
		{"totals-posts", "Local posts", series[4:]},
	} {
		cv, err := lineChart(c.id, c.title, labels, c.series...)
		if err != nil {
			return figure{}, err
		}
		f.Charts = append(f.Charts, cv)
	}
	return f, nil
}

// growthFigure is new, returning and dead instances per period. Periods
// without an event are drawn as zeros (the statistic leaves them out):
// the periods are those of the totals, which has one for every period
// with data.
func (d *Dashboard) growthFigure(pts []stats.GrowthPoint, totals []stats.TotalsPoint, q stats.Query) (figure, error) {
	f := figure{
		ID: "growth", Heading: "New, returning and dead instances",
		Hint: "New: seen for the first time. Returning: seen again after being dead. Dead: not seen for " +
			strconv.Itoa(stats.DefaultDeadAfter) + " days in a row, counted in the period it was last seen.",
		APIPath: withQuery(apiGrowth, q),
		Table: tableView{Caption: "Table: new, returning and dead instances per period", Empty: "No instance appeared or left in this range.",
			Head: []column{{Label: "Period"}, {Label: "New", Num: true}, {Label: "Returning", Num: true}, {Label: "Dead", Num: true}}},
	}
	byPeriod := make(map[time.Time]stats.GrowthPoint, len(pts))
	var periods []time.Time
	for _, p := range pts {
		byPeriod[p.Period] = p
		periods = append(periods, p.Period)
	}
	for _, t := range totals {
		if _, ok := byPeriod[t.Period]; !ok {
			byPeriod[t.Period] = stats.GrowthPoint{Period: t.Period}
			periods = append(periods, t.Period)
		}
	}
	slices.SortFunc(periods, func(a, b time.Time) int { return a.Compare(b) })
	labels := make([]string, len(periods))
	series := []barSeries{{name: "New"}, {name: "Returning"}, {name: "Dead"}}
	for i, per := range periods {
		p := byPeriod[per]
		labels[i] = dayLabel(per)
		series[0].values = append(series[0].values, p.New)
		series[1].values = append(series[1].values, p.Returning)
		series[2].values = append(series[2].values, p.Dead)
		if p.New != 0 || p.Returning != 0 || p.Dead != 0 {
			f.Table.Rows = append(f.Table.Rows, []cell{textCell(labels[i]), numCell(p.New), numCell(p.Returning), numCell(p.Dead)})
		}
	}
	if !d.chartsReady || len(periods) == 0 {
		return f, nil
	}
	c, err := barsChart("growth-chart", "New, returning and dead instances", labels, false, false, series...)
	if err != nil {
		return figure{}, err
	}
	f.Charts = []chartView{c}
	return f, nil
}

// sizesFigure is the size distribution: how unequal the instances are.
func (d *Dashboard) sizesFigure(sd stats.SizeDistribution, q stats.Query) (figure, error) {
	f := figure{
		ID: "sizes", Heading: "Instance sizes",
		Hint: "Median and percentiles of the instances' accounts and monthly active users (nearest rank), " +
			"and the share of the largest 1 % and 10 % of instances.",
		APIPath: withQuery(apiSizes, q),
		Table: tableView{Caption: "Table: size distribution", Empty: "No instance in this range.",
			Head: []column{{Label: "Count"}, {Label: "Instances", Num: true}, {Label: "Total", Num: true},
				{Label: "Median", Num: true}, {Label: "75th pct.", Num: true}, {Label: "90th pct.", Num: true},
				{Label: "99th pct.", Num: true}, {Label: "Top 1 %", Num: true}, {Label: "Top 10 %", Num: true}}},
	}
	if !sd.Day.IsZero() {
		f.Hint += " On " + dayLabel(sd.Day) + "."
	}
	dists := []struct {
		name string
		d    stats.Distribution
	}{{"Accounts", sd.Accounts}, {"Monthly active users", sd.ActiveMonth}}
	for _, x := range dists {
		if x.d.Instances == 0 {
			continue
		}
		f.Table.Rows = append(f.Table.Rows, []cell{textCell(x.name), numCell(x.d.Instances), numCell(x.d.Total),
			numCell(x.d.Median), numCell(x.d.P75), numCell(x.d.P90), numCell(x.d.P99),
			pctCell(100 * x.d.Top1Share), pctCell(100 * x.d.Top10Share)})
	}
	if !d.chartsReady || len(f.Table.Rows) == 0 {
		return f, nil
	}
	labels := []string{"Median", "75th percentile", "90th percentile", "99th percentile"}
	var series []barSeries
	for _, x := range dists {
		series = append(series, barSeries{name: x.name, values: []int64{x.d.Median, x.d.P75, x.d.P90, x.d.P99}})
	}
	c, err := barsChart("sizes-chart", "Instance sizes", labels, false, false, series...)
	if err != nil {
		return figure{}, err
	}
	f.Charts = []chartView{c}
	return f, nil
}

// topInstancesQuery is the store query of the overview's largest
// instances: their latest state, by users, clean unless the filter
// includes suspect figures, of the one software chosen (the listing
// filters by one software at most).
func topInstancesQuery(q stats.Query) model.InstanceQuery {
	iq := model.InstanceQuery{Sort: "users", Limit: topInstances, Flagged: model.FlaggedExclude}
	if q.IncludeFlagged {
		iq.Flagged = model.FlaggedInclude
	}
	if len(q.Software) == 1 {
		iq.Software = q.Software[0]
	}
	return iq
}

// instancesAPIPath is the API listing of iq.
func instancesAPIPath(iq model.InstanceQuery) string {
	v := url.Values{}
	if iq.Software != "" {
		v.Set("software", iq.Software)
	}
	if iq.Sort != "" {
		v.Set("sort", iq.Sort)
	}
	if iq.Flagged != "" {
		v.Set("flagged", iq.Flagged)
	}
	if iq.Limit > 0 {
		v.Set("limit", strconv.Itoa(iq.Limit))
	}
	if iq.Cursor != "" {
		v.Set("cursor", iq.Cursor)
	}
	return withValues(apiInstances, v)
}

// topFigure is the table of the largest instances (no chart).
func topFigure(top []model.Instance, iq model.InstanceQuery, q stats.Query) figure {
	hint := "Their latest figures, whatever the time range"
	switch {
	case len(q.Software) == 1:
		hint += ", of " + q.Software[0] + " only"
	case len(q.Software) > 1:
		hint += ", of every software (the listing filters by one software at most)"
	}
	if q.Language != "" {
		hint += "; the language filter does not apply to this list"
	}
	if iq.Flagged == model.FlaggedExclude {
		hint += ". Instances with suspect figures are not ranked."
	} else {
		hint += ". Instances with suspect figures are included."
	}
	f := figure{
		ID: "top", Heading: "Largest instances", Hint: hint, APIPath: instancesAPIPath(iq),
		Table: tableView{Caption: "Table: the largest instances", Empty: "No instances yet.",
			Head: []column{{Label: "Instance"}, {Label: "Host"}, {Label: "Software"}, {Label: "Version"},
				{Label: "Users", Num: true}, {Label: "Active (month)", Num: true}}},
	}
	for _, in := range top {
		f.Table.Rows = append(f.Table.Rows, []cell{textCell(clip(80, in.Title)), linkCell(clip(80, in.Host), instancePath(in.Host)),
			textCell(clip(40, in.Software)), textCell(clip(40, in.Version)), optCell(in.UsersTotal), optCell(in.UsersActiveMonth)})
	}
	return f
}
