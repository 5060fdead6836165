package dashboard

import (
	"html/template"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"
)

// The federation graph's chart: an echarts graph series whose nodes sit
// where internal/graph placed them (layout "none": the browser computes no
// layout, only draws), sized by a measure and coloured by software (the
// series' categories, which the legend lists).
//
// Tooltips: a node's tooltip names its host, software and counts, all
// remote strings. echarts substitutes a template's {a}/{b}/{c} escaped but
// inserts the template's own text as HTML, so every remote string in a
// node's formatter is escaped here (tipText), braces included, and the
// formatter is only ever built by graphTip.

// graphHeight is the graph's canvas height: taller than the other charts,
// as a graph needs room in both directions.
const graphHeight = "520px"

// graphCategory is one colour of the graph: a software, or the hosts of
// other or unknown software.
type graphCategory struct {
	name, colour string
}

// graphPalette colours the softwares of a graph: echarts' default palette
// and one more, so that graphCategories softwares never share a colour.
var graphPalette = []string{"#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc", "#8d6e63"}

// graphPoint is one node of the chart.
type graphPoint struct {
	// name is the node's host: its label and id in echarts.
	name string
	// x and y are the layout's coordinates in [0, 1].
	x, y float64
	// size is the symbol's diameter in pixels.
	size float64
	// category indexes the chart's categories.
	category int
	// tip are the tooltip's lines, as text.
	tip []string
	// centre marks the ego view's host: it is labelled.
	centre bool
}

// graphChart draws nodes and the edges between them (pairs of node
// indexes) with the layout's coordinates.
func graphChart(id, title string, categories []graphCategory, nodes []graphPoint, edges [][2]int) (chartView, error) {
	g := charts.NewGraph()
	init := initOpts(id)
	init.Height = graphHeight
	g.SetGlobalOptions(
		charts.WithInitializationOpts(init),
		charts.WithTitleOpts(opts.Title{Title: title}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithAriaOpts(&opts.Aria{Enabled: opts.Bool(true)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(len(categories) > 1), Type: "scroll", Bottom: "0"}),
		charts.WithAnimation(false),
	)
	cats := make([]*opts.GraphCategory, len(categories))
	for i, c := range categories {
		cats[i] = &opts.GraphCategory{Name: c.name, ItemStyle: &opts.ItemStyle{Color: c.colour}}
	}
	data := make([]opts.GraphNode, len(nodes))
	for i, n := range nodes {
		data[i] = opts.GraphNode{
			Name: n.name,
			// go-echarts leaves out a zero coordinate (omitempty), and a
			// node without one is not drawn: the unit square is moved
			// off zero. echarts fits the picture to the canvas anyway.
			X:          float32(10 + 1000*n.x),
			Y:          float32(10 + 1000*n.y),
			Category:   n.category,
			SymbolSize: n.size,
			Tooltip:    &opts.Tooltip{Formatter: types.FuncStr(graphTip(n.tip))},
		}
		if n.centre {
			data[i].ItemStyle = &opts.ItemStyle{BorderColor: "#1d2330", BorderWidth: 2}
		}
	}
	links := make([]opts.GraphLink, len(edges))
	for i, e := range edges {
		links[i] = opts.GraphLink{Source: e[0], Target: e[1]}
	}
	g.AddSeries("Peer links", data, links,
		charts.WithGraphChartOpts(opts.GraphChart{
			Layout:     "none",
			Roam:       opts.Bool(false),
			Categories: cats,
			EdgeSymbol: []string{"none", "arrow"},
			// Arrows stay small: the picture has hundreds of links.
			EdgeSymbolSize: 4,
		}),
		charts.WithLineStyleOpts(opts.LineStyle{Opacity: opts.Float(0.25), Width: 0.7}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(false)}),
		charts.WithEmphasisOpts(opts.Emphasis{Focus: "adjacency", Label: &opts.Label{Show: opts.Bool(true)}}),
	)
	return snippet(id, g)
}

// graphTip is a node's tooltip formatter: its lines escaped, one per
// line.
func graphTip(lines []string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = tipText(l)
	}
	return strings.Join(out, "<br>")
}

// tipEscaper escapes the template syntax of echarts' tooltips.
var tipEscaper = strings.NewReplacer("{", "&#123;", "}", "&#125;")

// tipText is s as text in an echarts tooltip template: HTML-escaped, and
// with braces that echarts cannot take for a placeholder.
func tipText(s string) string {
	return tipEscaper.Replace(template.HTMLEscapeString(s))
}
