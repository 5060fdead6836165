package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// The federation graph (/graph): the most-peered hosts and the peer links
// among them, or one host's neighbourhood (/graph?around=host), drawn
// where internal/graph laid them out, so a phone only draws. The nodes'
// table is the chart's text alternative and links each host's instance
// page and its own neighbourhood.

// Graphs is what /graph reads: *graph.Graphs, which lays the graphs out
// once and caches the top graph.
type Graphs interface {
	// Top returns the n most-peered hosts and the links among them.
	Top(ctx context.Context, n int) (graph.Graph, error)
	// Around returns host and up to n of its neighbours; a host without
	// links or census row wraps model.ErrNotFound.
	Around(ctx context.Context, host string, n int) (graph.Graph, error)
	// MaxNodes bounds n.
	MaxNodes() int
}

var _ Graphs = (*graph.Graphs)(nil)

// The graph page's parameters and their defaults.
const (
	graphTopParam    = "top"
	graphAroundParam = "around"
	graphNParam      = "n"
	graphSizeParam   = "size"

	// defaultGraphTop is the top view's size: a readable picture.
	defaultGraphTop = 100
	// defaultGraphAround is the ego view's number of neighbours.
	defaultGraphAround = 50
	// graphCategories is how many softwares get a colour of their own;
	// the others share "other software".
	graphCategories = 10

	sizeByDegree = "degree"
	sizeByUsers  = "users"
)

// apiGraph is the API path of the laid-out graphs.
const apiGraph = "/api/v1/graph"

// errNoGraph is the graph page of a deployment without the graph.
var errNoGraph = &pageError{status: http.StatusNotFound, message: "The federation graph is not available on this server."}

// graphQuery is what the graph page shows, all of it in the URL.
type graphQuery struct {
	// Around is the ego view's host, "" for the top view.
	Around string
	// N is the number of hosts (top) or neighbours (around).
	N int
	// Size is sizeByDegree or sizeByUsers.
	Size string
}

// values are q's parameters, defaults left out.
func (q graphQuery) values() url.Values {
	v := url.Values{}
	if q.Around != "" {
		v.Set(graphAroundParam, q.Around)
		if q.N != defaultGraphAround {
			v.Set(graphNParam, strconv.Itoa(q.N))
		}
	} else if q.N != defaultGraphTop {
		v.Set(graphTopParam, strconv.Itoa(q.N))
	}
	if q.Size != sizeByDegree {
		v.Set(graphSizeParam, q.Size)
	}
	return v
}

// path is the graph page showing q.
func (q graphQuery) path() string { return withValues("/graph", q.values()) }

// apiPath is the API query of q's graph (the API takes top, or around and
// n, always written out).
func (q graphQuery) apiPath() string {
	v := url.Values{}
	if q.Around != "" {
		v.Set(graphAroundParam, q.Around)
		v.Set(graphNParam, strconv.Itoa(q.N))
	} else {
		v.Set(graphTopParam, strconv.Itoa(q.N))
	}
	return withValues(apiGraph, v)
}

// aroundPath is the ego view of host, "" when host is not a host name.
func aroundPath(host, size string) string {
	if !linkableHost(host) {
		return ""
	}
	return graphQuery{Around: host, N: defaultGraphAround, Size: size}.path()
}

// parseGraphQuery reads the graph page's parameters; a bad one is a 400
// page that says which.
func parseGraphQuery(v url.Values, maxNodes int) (graphQuery, error) {
	bad := func(msg string) error { return &pageError{status: http.StatusBadRequest, message: msg} }
	q := graphQuery{N: min(defaultGraphTop, maxNodes), Size: sizeByDegree}
	number := func(name string) (int, bool, error) {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxNodes {
			return 0, false, bad(fmt.Sprintf("Invalid graph size: %s must be a number from 1 to %d.", name, maxNodes))
		}
		return n, true, nil
	}
	top, hasTop, err := number(graphTopParam)
	if err != nil {
		return q, err
	}
	n, hasN, err := number(graphNParam)
	if err != nil {
		return q, err
	}
	if around := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(v.Get(graphAroundParam))), "."); around != "" {
		if !linkableHost(around) {
			return q, bad("Invalid host: around must be a host name such as mastodon.social.")
		}
		if hasTop {
			return q, bad("Invalid graph: choose the top hosts or the hosts around one, not both.")
		}
		q.Around, q.N = around, min(defaultGraphAround, maxNodes)
		if hasN {
			q.N = n
		}
	} else {
		if hasN {
			return q, bad("Invalid graph: n counts the hosts around one; use top for the most-peered hosts.")
		}
		if hasTop {
			q.N = top
		}
	}
	switch s := strings.TrimSpace(v.Get(graphSizeParam)); s {
	case "", sizeByDegree:
	case sizeByUsers:
		q.Size = sizeByUsers
	default:
		return q, bad("Invalid size: size the nodes by degree or users.")
	}
	return q, nil
}

// graphData is what templates/graph.html shows.
type graphData struct {
	Heading, Intro string
	// Around is the ego view's host ("" in the top view) and TopPath the
	// top view with the same sizing.
	Around  string
	TopPath string
	// N, NMax and NName are the size field of the form.
	N, NMax int
	NName   string
	Sizes   []option
	// SizeLinks switch the nodes' measure.
	SizeLinks []filterLink
	// Empty says that there are no links to draw.
	Empty  bool
	Figure figure
}

// graphPage is the federation graph: the top view, or the ego view of
// ?around=host.
func (d *Dashboard) graphPage(r *http.Request) (pageResult, error) {
	if d.graph == nil {
		return pageResult{}, errNoGraph
	}
	q, err := parseGraphQuery(r.URL.Query(), d.graph.MaxNodes())
	if err != nil {
		return pageResult{}, err
	}
	var g graph.Graph
	if q.Around != "" {
		g, err = d.graph.Around(r.Context(), q.Around, q.N)
	} else {
		g, err = d.graph.Top(r.Context(), q.N)
	}
	switch {
	case errors.Is(err, model.ErrNotFound):
		return pageResult{}, &pageError{status: http.StatusNotFound,
			message: "fedilens knows no peer links of that instance: it is not in the census and no instance lists it."}
	case errors.Is(err, stats.ErrBadQuery):
		return pageResult{}, &pageError{status: http.StatusBadRequest, message: badQueryMessage(err)}
	case err != nil:
		return pageResult{}, fmt.Errorf("get the federation graph: %w", err)
	}

	data := graphData{N: q.N, NMax: d.graph.MaxNodes(), NName: graphTopParam, Around: q.Around, Empty: len(g.Nodes) == 0,
		TopPath: graphQuery{N: min(defaultGraphTop, d.graph.MaxNodes()), Size: q.Size}.path()}
	data.Heading = "Federation graph"
	data.Intro = "The " + strconv.Itoa(len(g.Nodes)) + " hosts the most instances list as peers, and which of them list which."
	if q.Around != "" {
		data.Heading = "Federation graph around " + q.Around
		data.Intro = "The hosts " + q.Around + " lists as peers and the instances that list it (up to " + strconv.Itoa(q.N) +
			", those linked both ways first, then the largest), and the links among them."
		data.NName = graphNParam
	}
	for _, s := range []struct{ value, label string }{{sizeByDegree, "Degree"}, {sizeByUsers, "Users"}} {
		data.Sizes = append(data.Sizes, option{Value: s.value, Label: s.label, Selected: s.value == q.Size})
		sq := q
		sq.Size = s.value
		data.SizeLinks = append(data.SizeLinks, filterLink{Label: "size by " + strings.ToLower(s.label), Path: sq.path(), Current: s.value == q.Size})
	}
	data.Figure, err = d.graphFigure(g, q)
	if err != nil {
		return pageResult{}, err
	}
	return pageResult{name: "graph", title: data.Heading, data: data, charts: true}, nil
}

// graphFigure is the graph's chart and its table of nodes.
func (d *Dashboard) graphFigure(g graph.Graph, q graphQuery) (figure, error) {
	f := figure{
		ID: "graph", Heading: "Peer links",
		Hint: "Each dot is a host, coloured by its software and sized by " + map[string]string{
			sizeByDegree: "how many instances list it as a peer",
			sizeByUsers:  "its accounts (hosts not in the census are the smallest)",
		}[q.Size] + "; an arrow points from an instance to a host its peer list names. Places come from a force-directed layout computed on the server.",
		APIPath: q.apiPath(),
		Table: tableView{Caption: "Table: the hosts of the graph", Empty: "No peer links are known yet.",
			Head: []column{{Label: "Host"}, {Label: "Software"}, {Label: "Users", Num: true}, {Label: "Listed by", Num: true},
				{Label: "Lists", Num: true}, {Label: "Graph"}}},
	}
	if !g.Day.IsZero() {
		f.Hint += " Peer lists as of " + dayLabel(g.Day) + "."
	}
	for _, n := range g.Nodes {
		ego := ""
		if n.Host != q.Around {
			ego = aroundPath(n.Host, q.Size)
		}
		egoCell := textCell("")
		if ego != "" {
			egoCell = linkCell("around it", ego)
		}
		f.Table.Rows = append(f.Table.Rows, []cell{linkCell(clip(80, n.Host), instancePath(n.Host)), textCell(clip(40, softwareName(n))),
			optCell(n.Users), numCell(n.Degree), readCell(n.OutDegree), egoCell})
	}
	if !d.chartsReady || len(g.Nodes) == 0 {
		return f, nil
	}
	categories, category := graphSoftware(g.Nodes)
	measure := func(n graph.Node) float64 { return float64(n.Degree) }
	if q.Size == sizeByUsers {
		measure = func(n graph.Node) float64 {
			if n.Users == nil {
				return 0
			}
			return float64(max(*n.Users, 0))
		}
	}
	var most float64
	for _, n := range g.Nodes {
		most = max(most, measure(n))
	}
	index := make(map[string]int, len(g.Nodes))
	points := make([]graphPoint, len(g.Nodes))
	for i, n := range g.Nodes {
		index[n.Host] = i
		size := 6.0
		if most > 0 {
			// Area grows with the measure.
			size += 26 * math.Sqrt(measure(n)/most)
		}
		tip := []string{clip(80, n.Host), "Software: " + clip(40, softwareName(n)), "Users: " + formatOptional(n.Users),
			"Listed by " + formatNum(n.Degree) + " instances", "Lists " + listSize(n.OutDegree) + " peers"}
		points[i] = graphPoint{name: n.Host, x: n.X, y: n.Y, size: math.Round(size*10) / 10,
			category: category(n.Software), tip: tip, centre: n.Host == q.Around}
	}
	edges := make([][2]int, 0, len(g.Edges))
	for _, e := range g.Edges {
		a, okA := index[e.Source]
		b, okB := index[e.Target]
		if okA && okB {
			edges = append(edges, [2]int{a, b})
		}
	}
	title := "The " + strconv.Itoa(len(g.Nodes)) + " most-peered hosts"
	if q.Around != "" {
		title = clip(60, q.Around) + " and its neighbours"
	}
	c, err := graphChart("graph-chart", title, categories, points, edges)
	if err != nil {
		return figure{}, err
	}
	f.Charts = []chartView{c}
	return f, nil
}

// softwareName is the node's software as shown: "(not in the census)"
// for hosts that did not answer that day.
func softwareName(n graph.Node) string {
	if n.Software == "" {
		if n.Users == nil {
			return "(not in the census)"
		}
		return "(unknown)"
	}
	return n.Software
}

// graphSoftware names the graph's colours: the graphCategories softwares
// with the most nodes (ties by name), then "other software" and "software
// unknown" when there are such nodes; category gives a software's
// index.
func graphSoftware(nodes []graph.Node) (names []graphCategory, category func(string) int) {
	count := map[string]int{}
	for _, n := range nodes {
		if n.Software != "" {
			count[n.Software]++
		}
	}
	ranked := make([]string, 0, len(count))
	for s := range count {
		ranked = append(ranked, s)
	}
	slices.SortFunc(ranked, func(a, b string) int { return cmp.Or(cmp.Compare(count[b], count[a]), strings.Compare(a, b)) })
	index := map[string]int{}
	for i, s := range ranked[:min(len(ranked), graphCategories)] {
		index[s] = i
		names = append(names, graphCategory{name: clip(40, s), colour: graphPalette[i%len(graphPalette)]})
	}
	other, unknown := -1, -1
	if len(ranked) > graphCategories {
		other = len(names)
		names = append(names, graphCategory{name: "other software", colour: "#7f8c8d"})
	}
	if len(count) == 0 || slices.ContainsFunc(nodes, func(n graph.Node) bool { return n.Software == "" }) {
		unknown = len(names)
		names = append(names, graphCategory{name: "software unknown", colour: "#c8ccd4"})
	}
	return names, func(s string) int {
		if i, ok := index[s]; ok {
			return i
		}
		if s == "" {
			return unknown
		}
		return other
	}
}
