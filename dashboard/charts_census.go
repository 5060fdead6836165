package dashboard

import (
	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// The census pages' charts beyond charts.go's one-series bars and plain
// lines: stacked lines for shares over time and bars with several series
// (open and closed registrations, new, returning and dead instances).
// They go through snippet like every chart, so their options reach the
// page as escaped JSON.

// stackedLineChart draws each series as an area stacked on the previous
// ones, so the top line is the total and each band a group's part of it.
func stackedLineChart(id, title string, labels []string, series ...lineSeries) (chartView, error) {
	line := charts.NewLine()
	line.SetGlobalOptions(append(commonOpts(id, title, "56"),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)}}),
		// A scrolling legend stays on one line on a phone however many
		// series there are.
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Type: "scroll", Bottom: "0"}),
	)...)
	line.SetXAxis(labels)
	for _, s := range series {
		line.AddSeries(s.name, lineData(s.values),
			charts.WithLineChartOpts(opts.LineChart{Stack: "total", ShowSymbol: opts.Bool(false)}),
			charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.5)}))
	}
	return snippet(id, line)
}

// multiLineChart is lineChart whose points are drawn only where known and
// joined across gaps: a count an instance published on some days only
// (its peer list is not read at every visit) still makes a line.
func multiLineChart(id, title string, labels []string, series ...lineSeries) (chartView, error) {
	bottom := "2%"
	if len(series) > 1 {
		bottom = "36"
	}
	line := charts.NewLine()
	line.SetGlobalOptions(append(commonOpts(id, title, bottom),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)}}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(len(series) > 1), Type: "scroll", Bottom: "0"}),
	)...)
	line.SetXAxis(labels)
	for _, s := range series {
		line.AddSeries(s.name, lineData(s.values), charts.WithLineChartOpts(opts.LineChart{ConnectNulls: opts.Bool(true)}))
	}
	return snippet(id, line)
}

// lineData converts values to echarts points; nil is a gap.
func lineData(values []*int64) []opts.LineData {
	data := make([]opts.LineData, len(values))
	for i, v := range values {
		if v == nil {
			data[i] = opts.LineData{Value: "-"} // echarts' notation for a missing point
		} else {
			data[i] = opts.LineData{Value: *v}
		}
	}
	return data
}

// barSeries is one series of a bar chart with several.
type barSeries struct {
	name   string
	values []int64
	// color fixes the series' colour ("" for the palette's), where the
	// colour carries meaning (a block's severity).
	color string
}

// barsChart draws several series over the same labels: side by side, or
// stacked (stack), upright with labels on the x axis (periods), or
// horizontal with labels down the y axis (rankings: horizontal).
func barsChart(id, title string, labels []string, horizontal, stack bool, series ...barSeries) (chartView, error) {
	bar := charts.NewBar()
	global := append(commonOpts(id, title, "36"),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(len(series) > 1), Type: "scroll", Bottom: "0"}))
	if horizontal {
		global = append(global,
			charts.WithXAxisOpts(opts.XAxis{Type: "value", SplitNumber: 3, AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)}}),
			charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true), AxisLabel: &opts.AxisLabel{Width: 100, Overflow: "truncate"}}))
	} else {
		global = append(global,
			charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)}}),
			charts.WithYAxisOpts(opts.YAxis{Type: "value", AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)}}))
	}
	bar.SetGlobalOptions(global...)
	bar.SetXAxis(labels)
	if horizontal {
		bar.XYReversal()
	}
	for _, s := range series {
		data := make([]opts.BarData, len(s.values))
		for i, v := range s.values {
			data[i] = opts.BarData{Value: v}
		}
		var so []charts.SeriesOpts
		if stack {
			so = append(so, charts.WithBarChartOpts(opts.BarChart{Stack: "total"}))
		}
		if s.color != "" {
			so = append(so, charts.WithItemStyleOpts(opts.ItemStyle{Color: s.color}))
		}
		bar.AddSeries(s.name, data, so...)
	}
	return snippet(id, bar)
}
