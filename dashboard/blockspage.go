package dashboard

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/fedilens/fedilens/internal/stats"
)

// The blocks and federation page (/blocks): who restricts whom (the
// most-blocked domains by severity, weighted by users, and the public
// reasons given), how the peer links are spread (the degree histogram and
// the most-peered hosts), and the Threads view: how the instances treat
// threads.net and the other watched platforms, over time and by software.
// Its filters are the census pages' (stats.ParseQuery): the software,
// language and flagged filters select the listing or blocking instances,
// "to" picks the day of the rankings, and the range and interval shape
// the Threads view over time.

// LinkStats is the part of the observatory's statistics behind /blocks.
// *stats.Stats satisfies it; a Stats that does not makes /blocks say the
// link statistics are not available.
type LinkStats interface {
	// Degrees is the peer-degree distributions on To's day.
	Degrees(ctx context.Context, q stats.Query) (stats.Degrees, error)
	// MostPeered ranks the hosts listed by the most instances.
	MostPeered(ctx context.Context, q stats.Query, n int) (stats.MostPeeredHosts, error)
	// MostBlocked ranks the domains restricted by the most instances.
	MostBlocked(ctx context.Context, q stats.Query, n int) (stats.MostBlockedDomains, error)
	// BlockReasons ranks the public reasons of the block entries.
	BlockReasons(ctx context.Context, q stats.Query, n int) (stats.BlockReasons, error)
	// ThreadsOverTime is the Threads view of domains per interval.
	ThreadsOverTime(ctx context.Context, q stats.Query, domains []string) ([]stats.WatchSeries, error)
	// ThreadsBySoftware is the Threads view of domains on To's day.
	ThreadsBySoftware(ctx context.Context, q stats.Query, domains []string) ([]stats.WatchAt, error)
}

var _ LinkStats = (*stats.Stats)(nil)

// The API paths behind /blocks (the shared contract of the API and the
// dashboard).
const (
	apiDegrees      = "/api/v1/stats/degrees"
	apiMostPeered   = "/api/v1/stats/most-peered"
	apiMostBlocked  = "/api/v1/stats/most-blocked"
	apiBlockReasons = "/api/v1/stats/block-reasons"
	apiThreads      = "/api/v1/stats/threads"
)

// rankShown is how many domains, reasons and hosts the rankings of
// /blocks show.
const rankShown = 20

// Colours that carry meaning: a block's severity, the Threads view's
// categories (restricting in warm colours, federating in blue, unknown in
// grey).
const (
	colourSuspend  = "#c0392b"
	colourSilence  = "#e67e22"
	colourLimit    = "#f1c40f"
	colourFederate = "#3553c7"
	colourNeither  = "#1a7f37"
	colourUnknown  = "#9aa3b2"
)

// errNoLinkStats is /blocks of a deployment whose statistics lack the
// link statistics.
var errNoLinkStats = &pageError{status: http.StatusNotFound, message: "The link statistics are not available on this server."}

// threadsView is one watched domain's part of the Threads view.
type threadsView struct {
	Domain     string
	OverTime   figure
	BySoftware figure
}

type blocksData struct {
	Form        filterForm
	MostBlocked figure
	Reasons     figure
	Threads     []threadsView
	Degrees     figure
	MostPeered  figure
}

// blocksPage is /blocks.
func (d *Dashboard) blocksPage(r *http.Request) (pageResult, error) {
	ls, ok := d.stats.(LinkStats)
	if d.stats != nil && !ok {
		return pageResult{}, errNoLinkStats
	}
	l, err := d.statsLoader(r)
	if err != nil {
		return pageResult{}, err
	}
	q := l.q
	var (
		blocked stats.MostBlockedDomains
		reasons stats.BlockReasons
		degrees stats.Degrees
		peered  stats.MostPeeredHosts
		over    []stats.WatchSeries
		at      []stats.WatchAt
	)
	load(l, &blocked, "get most-blocked domains", func(ctx context.Context, q stats.Query) (stats.MostBlockedDomains, error) {
		return ls.MostBlocked(ctx, q, rankShown)
	})
	load(l, &reasons, "get block reasons", func(ctx context.Context, q stats.Query) (stats.BlockReasons, error) {
		return ls.BlockReasons(ctx, q, rankShown)
	})
	load(l, &degrees, "get peer degrees", ls.Degrees)
	load(l, &peered, "get most-peered hosts", func(ctx context.Context, q stats.Query) (stats.MostPeeredHosts, error) {
		return ls.MostPeered(ctx, q, rankShown)
	})
	load(l, &over, "get the threads view over time", func(ctx context.Context, q stats.Query) ([]stats.WatchSeries, error) {
		return ls.ThreadsOverTime(ctx, q, nil)
	})
	load(l, &at, "get the threads view by software", func(ctx context.Context, q stats.Query) ([]stats.WatchAt, error) {
		return ls.ThreadsBySoftware(ctx, q, nil)
	})
	if err := l.wait(); err != nil {
		return pageResult{}, err
	}
	data := blocksData{Form: newFilterForm("/blocks", q, true)}
	if data.MostBlocked, err = d.blockedFigure(blocked, q); err != nil {
		return pageResult{}, err
	}
	if data.Reasons, err = d.reasonsFigure(reasons, q); err != nil {
		return pageResult{}, err
	}
	for i, s := range over {
		tv := threadsView{Domain: s.Domain}
		if tv.OverTime, err = d.threadsOverTimeFigure(i, s, q); err != nil {
			return pageResult{}, err
		}
		for _, a := range at {
			if a.Domain == s.Domain {
				if tv.BySoftware, err = d.threadsSoftwareFigure(i, a, q); err != nil {
					return pageResult{}, err
				}
			}
		}
		data.Threads = append(data.Threads, tv)
	}
	if data.Degrees, err = d.degreesFigure(degrees, q); err != nil {
		return pageResult{}, err
	}
	if data.MostPeered, err = d.peeredFigure(peered, q); err != nil {
		return pageResult{}, err
	}
	return pageResult{name: "blocks", title: "Blocks and federation", data: data, charts: true}, nil
}

// onDay appends the day of an at-a-date figure to its hint.
func onDay(f *figure, day time.Time) {
	if !day.IsZero() {
		f.Hint += " On " + dayLabel(day) + "."
	}
}

// blockedFigure is the most-blocked domains, by severity, counted in
// instances and weighted by their accounts.
func (d *Dashboard) blockedFigure(mb stats.MostBlockedDomains, q stats.Query) (figure, error) {
	f := figure{
		ID: "most-blocked", Heading: "Most-blocked domains",
		Hint: "The domains the most instances with a public block list suspend, silence or limit, counted in instances and weighted by the accounts on them. " +
			"Instances that publish no block list are not counted.",
		APIPath: withQuery(apiMostBlocked, q),
		Table: tableView{Caption: "Table: the most-blocked domains", Empty: "No public block list restricts any domain on this day.",
			Head: []column{{Label: "Domain"}, {Label: "Suspend", Num: true}, {Label: "Silence", Num: true}, {Label: "Limit", Num: true},
				{Label: "Instances", Num: true}, {Label: "Their accounts", Num: true}, {Label: "Their monthly active", Num: true}}},
	}
	onDay(&f, mb.Day)
	domains := mb.Domains[:min(len(mb.Domains), rankShown)]
	labels := make([]string, len(domains))
	var byInst, byUsers [3]barSeries
	for i, sev := range []struct{ name, colour string }{{"Suspend", colourSuspend}, {"Silence", colourSilence}, {"Limit", colourLimit}} {
		byInst[i] = barSeries{name: sev.name, color: sev.colour}
		byUsers[i] = barSeries{name: sev.name, color: sev.colour}
	}
	for i, b := range domains {
		labels[i] = clip(60, b.Domain)
		for j, w := range []stats.Weighted{b.Suspend, b.Silence, b.Limit} {
			byInst[j].values = append(byInst[j].values, w.Instances)
			byUsers[j].values = append(byUsers[j].values, w.Accounts)
		}
		f.Table.Rows = append(f.Table.Rows, []cell{linkCell(clip(100, b.Domain), instancePath(b.Domain)), numCell(b.Suspend.Instances),
			numCell(b.Silence.Instances), numCell(b.Limit.Instances), numCell(b.Blockers.Instances), numCell(b.Blockers.Accounts),
			numCell(b.Blockers.ActiveMonth)})
	}
	if !d.chartsReady || len(domains) == 0 {
		return f, nil
	}
	for _, c := range []struct {
		id, title string
		series    [3]barSeries
	}{
		{"most-blocked-instances", "Instances restricting the domain", byInst},
		{"most-blocked-accounts", "Accounts on the instances restricting it", byUsers},
	} {
		cv, err := barsChart(c.id, c.title, labels, true, true, c.series[:]...)
		if err != nil {
			return figure{}, err
		}
		f.Charts = append(f.Charts, cv)
	}
	return f, nil
}

// reasonsFigure is the public reasons given most often, as written by the
// instances (remote text, shown escaped).
func (d *Dashboard) reasonsFigure(br stats.BlockReasons, q stats.Query) (figure, error) {
	f := figure{
		ID: "block-reasons", Heading: "Block reasons",
		Hint: "The public reasons block entries give most often (any severity), grouped regardless of case and surrounding spaces, " +
			"as the instances wrote them.",
		APIPath: withQuery(apiBlockReasons, q),
		Table: tableView{Caption: "Table: the most frequent block reasons", Empty: "No block entry gives a public reason on this day.",
			Head: []column{{Label: "Reason"}, {Label: "Entries", Num: true}, {Label: "Instances", Num: true}}},
	}
	onDay(&f, br.Day)
	reasons := br.Reasons[:min(len(br.Reasons), rankShown)]
	labels := make([]string, len(reasons))
	values := make([]int64, len(reasons))
	for i, c := range reasons {
		labels[i], values[i] = clip(60, c.Reason), c.Blocks
		f.Table.Rows = append(f.Table.Rows, []cell{textCell(clip(300, c.Reason)), numCell(c.Blocks), numCell(c.Instances)})
	}
	if !d.chartsReady || len(reasons) == 0 {
		return f, nil
	}
	c, err := barChart("block-reasons-chart", "Block entries by reason", "Entries", labels, values)
	if err != nil {
		return figure{}, err
	}
	f.Charts = []chartView{c}
	return f, nil
}

// degreeLabel names a histogram bucket: "0", "1", "2–9", "10–99".
func degreeLabel(b stats.DegreeBucket) string {
	if b.Min == b.Max {
		return formatNum(b.Min)
	}
	return formatNum(b.Min) + "–" + formatNum(b.Max)
}

// degreesFigure is the histogram of the peer degrees: how many peers the
// instances list (out) and by how many instances the hosts are listed
// (in).
func (d *Dashboard) degreesFigure(dg stats.Degrees, q stats.Query) (figure, error) {
	f := figure{
		ID: "degrees", Heading: "Peer degrees",
		Hint: "Out: how many peers the instances' peer lists name. In: by how many instances each listed host is named. " +
			"In buckets of powers of ten.",
		APIPath: withQuery(apiDegrees, q),
		Table: tableView{Caption: "Table: hosts per degree", Empty: "No peer list was read on this day.",
			Head: []column{{Label: "Degree"}, {Label: "Instances (out)", Num: true}, {Label: "Hosts (in)", Num: true}}},
	}
	if dg.Out.Instances > 0 {
		f.Hint += " Median out-degree " + formatNum(dg.Out.Median) + " over " + formatNum(dg.Out.Instances) + " instances; median in-degree " +
			formatNum(dg.In.Median) + " over " + formatNum(dg.In.Instances) + " hosts."
	}
	onDay(&f, dg.Day)
	// The two histograms over the union of their buckets.
	counts := map[int64][2]int64{}
	bounds := map[int64]stats.DegreeBucket{}
	for i, h := range [][]stats.DegreeBucket{dg.Out.Histogram, dg.In.Histogram} {
		for _, b := range h {
			c := counts[b.Min]
			c[i] += b.Hosts
			counts[b.Min], bounds[b.Min] = c, b
		}
	}
	var mins []int64
	for m := range bounds {
		mins = append(mins, m)
	}
	slices.Sort(mins)
	labels := make([]string, len(mins))
	out, in := barSeries{name: "Out: instances"}, barSeries{name: "In: hosts"}
	for i, m := range mins {
		labels[i] = degreeLabel(bounds[m])
		out.values, in.values = append(out.values, counts[m][0]), append(in.values, counts[m][1])
		f.Table.Rows = append(f.Table.Rows, []cell{textCell(labels[i]), numCell(counts[m][0]), numCell(counts[m][1])})
	}
	if !d.chartsReady || len(mins) == 0 {
		return f, nil
	}
	c, err := barsChart("degrees-chart", "Hosts per degree", labels, false, false, out, in)
	if err != nil {
		return figure{}, err
	}
	f.Charts = []chartView{c}
	return f, nil
}

// peeredFigure is the hosts the most instances list as peers.
func (d *Dashboard) peeredFigure(mp stats.MostPeeredHosts, q stats.Query) (figure, error) {
	f := figure{
		ID: "most-peered", Heading: "Most-peered hosts",
		Hint:    "The hosts the most instances name in their peer lists, with their own figures when they answered that day.",
		APIPath: withQuery(apiMostPeered, q),
		Table: tableView{Caption: "Table: the most-peered hosts", Empty: "No peer list was read on this day.",
			Head: []column{{Label: "Host"}, {Label: "Software"}, {Label: "Users", Num: true}, {Label: "Listed by", Num: true},
				{Label: "Lists", Num: true}, {Label: "Graph"}}},
	}
	onDay(&f, mp.Day)
	hosts := mp.Hosts[:min(len(mp.Hosts), rankShown)]
	labels := make([]string, len(hosts))
	values := make([]int64, len(hosts))
	for i, h := range hosts {
		labels[i], values[i] = clip(60, h.Host), h.InDegree
		sw := "(not in the census)"
		if h.Known {
			sw = clip(40, softwareLabel(h.Software))
		}
		ego := textCell("")
		if p := aroundPath(h.Host, sizeByDegree); p != "" && d.graph != nil {
			ego = linkCell("around it", p)
		}
		f.Table.Rows = append(f.Table.Rows, []cell{linkCell(clip(80, h.Host), instancePath(h.Host)), textCell(sw), optCell(h.Accounts),
			numCell(h.InDegree), readCell(h.OutDegree), ego})
	}
	if !d.chartsReady || len(hosts) == 0 {
		return f, nil
	}
	c, err := barChart("most-peered-chart", "Instances listing the host", "Listed by", labels, values)
	if err != nil {
		return figure{}, err
	}
	f.Charts = []chartView{c}
	return f, nil
}

// watchCategories are the Threads view's categories in their order, with
// their colours and what they mean.
var watchCategories = []struct {
	name, colour string
	of           func(stats.WatchSplit) stats.Weighted
}{
	{"Suspend", colourSuspend, func(w stats.WatchSplit) stats.Weighted { return w.Suspend }},
	{"Limit", colourSilence, func(w stats.WatchSplit) stats.Weighted { return w.Limit }},
	{"Federate", colourFederate, func(w stats.WatchSplit) stats.Weighted { return w.Federate }},
	{"Neither", colourNeither, func(w stats.WatchSplit) stats.Weighted { return w.Neither }},
	{"Unknown", colourUnknown, func(w stats.WatchSplit) stats.Weighted { return w.Unknown }},
}

// threadsHint explains the categories once per domain.
const threadsHint = "Suspend or limit: the instance's public block list restricts the domain. Federate: its peer list names the domain " +
	"and its list does not restrict it. Neither: its public list does not restrict the domain and its peer list does not name it. " +
	"Unknown: it publishes no block list and does not list the domain; it may block it, so it is never counted as not blocking."

// threadsOverTimeFigure is one watched domain's split per period, by
// instances and weighted by accounts.
func (d *Dashboard) threadsOverTimeFigure(i int, s stats.WatchSeries, q stats.Query) (figure, error) {
	f := figure{
		ID: "threads-" + idPart(i), Heading: s.Domain + " over time",
		Hint:    "How the instances treat " + s.Domain + " on the last day with data of each period. " + threadsHint,
		APIPath: withQuery(apiThreads, q),
		Table: tableView{Caption: "Table: instances (and their accounts) per category and period", Empty: "No day in this range has data.",
			Head: []column{{Label: "Period"}}},
	}
	for _, c := range watchCategories {
		f.Table.Head = append(f.Table.Head, column{Label: c.name, Num: true})
	}
	for _, c := range watchCategories {
		f.Table.Head = append(f.Table.Head, column{Label: c.name + ": accounts", Num: true})
	}
	labels := make([]string, len(s.Points))
	byInst, byUsers := make([]barSeries, len(watchCategories)), make([]barSeries, len(watchCategories))
	for j, c := range watchCategories {
		byInst[j] = barSeries{name: c.name, color: c.colour}
		byUsers[j] = barSeries{name: c.name, color: c.colour}
	}
	for p, pt := range s.Points {
		labels[p] = dayLabel(pt.Period)
		row := []cell{textCell(labels[p])}
		var users []cell
		for j, c := range watchCategories {
			w := c.of(pt.WatchSplit)
			byInst[j].values = append(byInst[j].values, w.Instances)
			byUsers[j].values = append(byUsers[j].values, w.Accounts)
			row = append(row, numCell(w.Instances))
			users = append(users, numCell(w.Accounts))
		}
		f.Table.Rows = append(f.Table.Rows, append(row, users...))
	}
	if !d.chartsReady || len(s.Points) == 0 {
		return f, nil
	}
	for _, c := range []struct {
		id, title string
		series    []barSeries
	}{
		{f.ID + "-instances", "Instances and " + s.Domain, byInst},
		{f.ID + "-accounts", "Accounts and " + s.Domain, byUsers},
	} {
		cv, err := barsChart(c.id, c.title, labels, false, true, c.series...)
		if err != nil {
			return figure{}, err
		}
		f.Charts = append(f.Charts, cv)
	}
	return f, nil
}

// threadsSoftwareFigure is one watched domain's split on the day, in all
// and by software (the barsShown softwares with the most instances, the
// rest summed).
func (d *Dashboard) threadsSoftwareFigure(i int, a stats.WatchAt, q stats.Query) (figure, error) {
	f := figure{
		ID: "threads-software-" + idPart(i), Heading: a.Domain + " by software",
		Hint:    "How the instances of each software treat " + a.Domain + ".",
		APIPath: withQuery(apiThreads, q),
		Table: tableView{Caption: "Table: instances per category and software", Empty: "No instance on this day.",
			Head: []column{{Label: "Software"}}},
	}
	onDay(&f, a.Day)
	for _, c := range watchCategories {
		f.Table.Head = append(f.Table.Head, column{Label: c.name, Num: true})
	}
	f.Table.Head = append(f.Table.Head, column{Label: "Instances", Num: true}, column{Label: "Accounts", Num: true})
	rows := a.BySoftware
	var rest stats.WatchSplit
	others := 0
	if len(rows) > barsShown {
		for _, s := range rows[barsShown:] {
			rest = addSplit(rest, s.WatchSplit)
		}
		others = len(rows) - barsShown
		rows = rows[:barsShown]
	}
	if a.All.Total().Instances > 0 {
		f.Table.Rows = append(f.Table.Rows, splitRow(textCell("All software"), a.All))
	}
	series := make([]barSeries, len(watchCategories))
	for j, c := range watchCategories {
		series[j] = barSeries{name: c.name, color: c.colour}
	}
	var labels []string
	add := func(label cell, split stats.WatchSplit) {
		f.Table.Rows = append(f.Table.Rows, splitRow(label, split))
		labels = append(labels, label.Text)
		for j, c := range watchCategories {
			series[j].values = append(series[j].values, c.of(split).Instances)
		}
	}
	for _, s := range rows {
		add(linkCell(clip(40, softwareLabel(s.Software)), softwarePath(s.Software, q)), s.WatchSplit)
	}
	if others > 0 {
		add(textCell(othersLabel(others)), rest)
	}
	if !d.chartsReady || len(labels) == 0 {
		return f, nil
	}
	c, err := barsChart(f.ID+"-chart", a.Domain+" by software", labels, true, true, series...)
	if err != nil {
		return figure{}, err
	}
	f.Charts = []chartView{c}
	return f, nil
}

// splitRow is a table row of a split: its label, the instances per
// category, and the instances and accounts in all.
func splitRow(label cell, split stats.WatchSplit) []cell {
	row := []cell{label}
	for _, c := range watchCategories {
		row = append(row, numCell(c.of(split).Instances))
	}
	total := split.Total()
	return append(row, numCell(total.Instances), numCell(total.Accounts))
}

// addSplit sums two splits.
func addSplit(a, b stats.WatchSplit) stats.WatchSplit {
	add := func(x, y stats.Weighted) stats.Weighted {
		return stats.Weighted{Instances: x.Instances + y.Instances, Accounts: x.Accounts + y.Accounts, ActiveMonth: x.ActiveMonth + y.ActiveMonth}
	}
	return stats.WatchSplit{Suspend: add(a.Suspend, b.Suspend), Limit: add(a.Limit, b.Limit), Federate: add(a.Federate, b.Federate),
		Neither: add(a.Neither, b.Neither), Unknown: add(a.Unknown, b.Unknown)}
}
