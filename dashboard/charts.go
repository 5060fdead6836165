package dashboard

import (
	"encoding/json"
	"fmt"
	"html/template"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/render"
)

// Why go-echarts's script snippet is not used: in v2.6.7 the snippet's
// <script> embeds the options as JSONNotEscaped (json.Encoder with
// SetEscapeHTML(false)) piped through its safeJS template function, so an
// instance title of "</script><img src=x onerror=alert(1)>" ends the script
// element and injects markup. The options are therefore taken from
// chart.JSON() after RenderSnippet has validated the chart, marshalled with
// encoding/json (which escapes <, > and &), and handed to the page in a
// data-echarts-option attribute that html/template escapes once more.
// /assets/charts.js reads the attribute with JSON.parse and calls
// echarts.init/setOption, so the pages need no inline script at all and the
// Content-Security-Policy can keep script-src to 'self'.

// chartView is a chart ready for a page template.
type chartView struct {
	// ID is the DOM id of the chart container.
	ID string
	// Element is go-echarts's container markup (built from ID and fixed
	// sizes only, never from remote data).
	Element template.HTML
	// Option is the echarts option object as JSON; templates put it in an
	// attribute, where html/template escapes it.
	Option string
}

// chartHeight is the canvas height; the width follows the page, so charts
// fit a phone screen.
const chartHeight = "360px"

func initOpts(id string) opts.Initialization {
	return opts.Initialization{
		ChartID:  id,
		Width:    "100%",
		Height:   chartHeight,
		Renderer: "canvas",
		// Only used if someone calls Render*: never load from the CDN.
		AssetsHost: "/assets/",
		PageTitle:  "fedilens",
	}
}

// commonOpts are the options every fedilens chart shares: a tooltip, aria
// descriptions for screen readers, and a grid that keeps long labels inside
// (bottom leaves room for a legend where there is one).
func commonOpts(id, title, bottom string) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(initOpts(id)),
		charts.WithTitleOpts(opts.Title{Title: title}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithAriaOpts(&opts.Aria{Enabled: opts.Bool(true)}),
		charts.WithGridOpts(opts.Grid{Left: "2%", Right: "4%", Top: "48", Bottom: bottom, ContainLabel: opts.Bool(true)}),
		charts.WithAnimation(false),
	}
}

// barChart draws one horizontal bar per label, largest first from the top.
func barChart(id, title, series string, labels []string, values []int64) (chartView, error) {
	bar := charts.NewBar()
	bar.SetGlobalOptions(append(commonOpts(id, title, "2%"),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", SplitNumber: 3, AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)}}),
		// Long software names are cut on the canvas (the table has them whole),
		// so the bars keep their room on a phone.
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true), AxisLabel: &opts.AxisLabel{Width: 100, Overflow: "truncate"}}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
	)...)
	data := make([]opts.BarData, len(values))
	for i, v := range values {
		data[i] = opts.BarData{Value: v}
	}
	bar.SetXAxis(labels).XYReversal().AddSeries(series, data)
	return snippet(id, bar)
}

// lineSeries is one line of a line chart; nil values are gaps.
type lineSeries struct {
	name   string
	values []*int64
}

func lineChart(id, title string, labels []string, series ...lineSeries) (chartView, error) {
	bottom := "2%"
	if len(series) > 1 {
		bottom = "36"
	}
	line := charts.NewLine()
	line.SetGlobalOptions(append(commonOpts(id, title, bottom),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)}}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(len(series) > 1), Bottom: "0"}),
	)...)
	line.SetXAxis(labels)
	for _, s := range series {
		data := make([]opts.LineData, len(s.values))
		for i, v := range s.values {
			if v == nil {
				data[i] = opts.LineData{Value: "-"} // echarts' notation for a missing point
			} else {
				data[i] = opts.LineData{Value: *v}
			}
		}
		line.AddSeries(s.name, data)
	}
	return snippet(id, line)
}

// echartsChart is what every go-echarts chart offers: a renderer and its
// option object.
type echartsChart interface {
	render.Renderer
	JSON() map[string]any
}

// snippet renders the chart's container with go-echarts (which also runs
// the chart's Validate step that fills in axis data) and marshals the
// options safely. go-echarts panics on template errors; that is turned into
// an error so one broken chart cannot take the process down.
func snippet(id string, c echartsChart) (cv chartView, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("render chart %s: %v", id, p)
		}
	}()
	s := c.RenderSnippet()
	option, err := json.Marshal(c.JSON())
	if err != nil {
		return chartView{}, fmt.Errorf("encode chart %s options: %w", id, err)
	}
	return chartView{
		ID:      id,
		Element: template.HTML(s.Element), //nolint:gosec // built from our ID and sizes only
		Option:  string(option),
	}, nil
}
