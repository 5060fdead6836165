package dashboard

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// Figures the census pages share: a ranking of shares (software, versions,
// languages) with a chart per measure, and shares over time as stacked
// lines. Chart and table are built from the same rows, so they agree.

// measure is one way to weigh a share.
type measure struct {
	// id suffixes the chart ID; name labels the series and the column.
	id, name string
	value    func(stats.Share) int64
}

var (
	byInstances = measure{"instances", "Instances", func(s stats.Share) int64 { return s.Instances }}
	byAccounts  = measure{"accounts", "Accounts", func(s stats.Share) int64 { return s.Accounts }}
	byActive    = measure{"active", "Monthly active users", func(s stats.Share) int64 { return s.ActiveMonth }}
)

// shareSpec describes a share figure.
type shareSpec struct {
	id, heading, hint string
	// keyHead heads the key column ("Software", "Version", "Language").
	keyHead string
	// label shows a key; path links it ("" for no link).
	label, path func(key string) string
	// charts are the measures charted, one chart each; the table shows
	// every measure.
	charts []measure
	// top is how many keys get a row and a bar; the rest are summed.
	top int
	// noPercent leaves the share columns out, where the groups overlap
	// (an instance lists several languages).
	noPercent bool
	apiPath   string
	empty     string
}

// shareRowsBy ranks shares by m (ties by key) and folds those past top
// into one "N others" share.
func shareRowsBy(shares []stats.Share, m measure, top int) (rows []stats.Share, others int) {
	sorted := slices.Clone(shares)
	slices.SortStableFunc(sorted, func(a, b stats.Share) int {
		return cmp.Or(cmp.Compare(m.value(b), m.value(a)), strings.Compare(a.Key, b.Key))
	})
	if len(sorted) <= top {
		return sorted, 0
	}
	var rest stats.Share
	for _, s := range sorted[top:] {
		rest.Instances += s.Instances
		rest.Accounts += s.Accounts
		rest.ActiveMonth += s.ActiveMonth
	}
	return append(sorted[:top:top], rest), len(sorted) - top
}

// othersLabel names the row of the groups past the top ones.
func othersLabel(n int) string {
	if n == 1 {
		return "1 other"
	}
	return fmt.Sprintf("%d others", n)
}

// shareFigure builds a ranking figure from one day's shares.
func (d *Dashboard) shareFigure(sh stats.Shares, spec shareSpec) (figure, error) {
	all := []measure{byInstances, byAccounts, byActive}
	totals := make([]int64, len(all))
	for _, s := range sh.Shares {
		for i, m := range all {
			totals[i] += max(m.value(s), 0)
		}
	}
	f := figure{ID: spec.id, Heading: spec.heading, Hint: spec.hint, APIPath: spec.apiPath}
	if !sh.Day.IsZero() {
		f.Hint = strings.TrimSpace(f.Hint + " On " + dayLabel(sh.Day) + ".")
	}
	f.Table = tableView{Caption: "Table: " + lowerFirst(spec.heading), Empty: spec.empty,
		Head: []column{{Label: spec.keyHead}}}
	for _, m := range all {
		f.Table.Head = append(f.Table.Head, column{Label: m.name, Num: true})
		if !spec.noPercent {
			f.Table.Head = append(f.Table.Head, column{Label: "Share", Num: true})
		}
	}
	rows, others := shareRowsBy(sh.Shares, byInstances, spec.top)
	for i, s := range rows {
		var c cell
		if others > 0 && i == len(rows)-1 {
			c = textCell(othersLabel(others))
		} else {
			c = linkCell(spec.label(s.Key), spec.path(s.Key))
		}
		row := []cell{c}
		for j, m := range all {
			row = append(row, numCell(m.value(s)))
			if !spec.noPercent {
				row = append(row, pctCell(share(m.value(s), totals[j])))
			}
		}
		f.Table.Rows = append(f.Table.Rows, row)
	}
	if !d.chartsReady || len(sh.Shares) == 0 {
		return f, nil
	}
	for _, m := range spec.charts {
		rows, others := shareRowsBy(sh.Shares, m, spec.top)
		labels := make([]string, len(rows))
		values := make([]int64, len(rows))
		for i, s := range rows {
			labels[i], values[i] = spec.label(s.Key), max(m.value(s), 0)
			if others > 0 && i == len(rows)-1 {
				labels[i] = othersLabel(others)
			}
		}
		c, err := barChart(spec.id+"-"+m.id, spec.heading+" by "+strings.ToLower(m.name), m.name, labels, values)
		if err != nil {
			return figure{}, err
		}
		f.Charts = append(f.Charts, c)
	}
	return f, nil
}

// overTimeSpec describes a figure of shares over time.
type overTimeSpec struct {
	id, heading, hint, keyHead string
	label                      func(key string) string
	apiPath                    string
	empty                      string
}

// overTimeFigure charts shares over time by instances: the seriesShown
// largest groups of the last period each get a band, the rest one band
// "other", so the chart stays readable with hundreds of versions.
func (d *Dashboard) overTimeFigure(pts []stats.Shares, spec overTimeSpec) (figure, error) {
	f := figure{ID: spec.id, Heading: spec.heading, Hint: spec.hint, APIPath: spec.apiPath}
	var keys []string
	if len(pts) > 0 {
		rows, _ := shareRowsBy(pts[len(pts)-1].Shares, byInstances, seriesShown)
		for _, s := range rows[:min(len(rows), seriesShown)] {
			keys = append(keys, s.Key)
		}
	}
	// Groups of the last period only rank; any other group is "other".
	index := make(map[string]int, len(keys))
	for i, k := range keys {
		index[k] = i
	}
	values := make([][]int64, len(keys)+1) // the last one is "other"
	for i := range values {
		values[i] = make([]int64, len(pts))
	}
	hasOther := false
	for p, pt := range pts {
		for _, s := range pt.Shares {
			i, ok := index[s.Key]
			if !ok {
				i, hasOther = len(keys), true
			}
			values[i][p] += s.Instances
		}
	}
	names := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		names = append(names, spec.label(k))
	}
	if hasOther {
		names = append(names, "other")
	} else {
		values = values[:len(keys)]
	}
	f.Table = tableView{Caption: "Table: " + lowerFirst(spec.heading) + ", instances per period",
		Empty: spec.empty, Head: []column{{Label: "Period"}}}
	for _, n := range names {
		f.Table.Head = append(f.Table.Head, column{Label: clip(40, n), Num: true})
	}
	labels := make([]string, len(pts))
	for p, pt := range pts {
		labels[p] = dayLabel(pt.Period)
		row := []cell{textCell(labels[p])}
		for i := range values {
			row = append(row, numCell(values[i][p]))
		}
		f.Table.Rows = append(f.Table.Rows, row)
	}
	if !d.chartsReady || len(pts) == 0 {
		return f, nil
	}
	series := make([]lineSeries, len(values))
	for i := range values {
		series[i] = lineSeries{name: names[i], values: make([]*int64, len(pts))}
		for p, v := range values[i] {
			series[i].values[p] = model.Int64(v)
		}
	}
	c, err := stackedLineChart(spec.id+"-chart", spec.heading, labels, series...)
	if err != nil {
		return figure{}, err
	}
	f.Charts = []chartView{c}
	return f, nil
}

// lowerFirst lower-cases the first letter of a heading for a caption.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
