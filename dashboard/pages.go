package dashboard

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fedilens/fedilens/internal/model"
)

// Page sizes: enough to be useful, small enough to render on a phone.
const (
	topInstances   = 20
	topSoftware    = 12
	maxPeersShown  = 200
	maxHistoryRows = 100
	// maxHistoryPoints bounds the chart's inline JSON for long-lived hosts.
	maxHistoryPoints = 1000
	searchPageSize   = 20
	maxQueryLen      = 1024
	maxCursorLen     = 1024
)

// shareView is one software-share chart with its table alternative.
type shareView struct {
	// ID names the chart container and the section heading.
	ID      string
	Heading string
	Metric  string
	Chart   chartView
	Rows    []shareRow
	APIPath string
}

type shareRow struct {
	Software string
	Value    int64
	Percent  float64
}

type overviewData struct {
	Summary     model.Summary
	ByInstances shareView
	ByActive    shareView
	OverTime    chartView
	Days        []model.DayCount
	Top         []model.Instance
	TopAPIPath  string
	// FlaggedPath lists the instances left out of the figures above
	// (Summary.Flagged of them).
	FlaggedPath string
}

func (d *Dashboard) overview(r *http.Request) (pageResult, error) {
	var (
		data   overviewData
		shares []model.SoftwareShare
		page   model.InstancePage
	)
	g, ctx := errgroup.WithContext(r.Context())
	g.Go(func() (err error) {
		data.Summary, err = d.store.Summary(ctx)
		return wrap("get summary", err)
	})
	g.Go(func() (err error) {
		shares, err = d.store.SoftwareShare(ctx)
		return wrap("get software share", err)
	})
	g.Go(func() (err error) {
		data.Days, err = d.store.InstancesOverTime(ctx)
		return wrap("get instances over time", err)
	})
	g.Go(func() (err error) {
		page, err = d.store.Instances(ctx, model.InstanceQuery{Sort: "users", Limit: topInstances, Flagged: model.FlaggedExclude})
		return wrap("list top instances", err)
	})
	if err := g.Wait(); err != nil {
		return pageResult{}, err
	}
	data.Top = page.Instances
	data.TopAPIPath = fmt.Sprintf("/api/v1/instances?sort=users&limit=%d&flagged=%s", topInstances, model.FlaggedExclude)
	data.FlaggedPath = flaggedListPath

	var err error
	data.ByInstances, err = d.shareView("software-instances", "Software by instances", "Instances", shares,
		func(s model.SoftwareShare) int64 { return int64(min(s.Instances, 1<<62)) })
	if err != nil {
		return pageResult{}, err
	}
	data.ByActive, err = d.shareView("software-active", "Software by monthly active users", "Monthly active users", shares,
		func(s model.SoftwareShare) int64 { return s.ActiveMonth })
	if err != nil {
		return pageResult{}, err
	}
	if d.chartsReady {
		labels := make([]string, len(data.Days))
		counts := make([]*int64, len(data.Days))
		for i, dc := range data.Days {
			labels[i] = dc.Day.UTC().Format(time.DateOnly)
			counts[i] = model.Int64(int64(min(dc.Count, 1<<62)))
		}
		data.OverTime, err = lineChart("instances-over-time", "Known instances over time", labels,
			lineSeries{name: "Instances", values: counts})
		if err != nil {
			return pageResult{}, err
		}
	}
	return pageResult{name: "overview", title: "Fediverse census", data: data, charts: true}, nil
}

// shareView ranks softwares by metric, keeps the top ones and folds the
// rest into one "other" row, so chart and table stay readable however
// many softwares the census finds.
func (d *Dashboard) shareView(id, heading, metric string, shares []model.SoftwareShare, value func(model.SoftwareShare) int64) (shareView, error) {
	sorted := slices.Clone(shares)
	slices.SortStableFunc(sorted, func(a, b model.SoftwareShare) int {
		return cmp.Or(cmp.Compare(value(b), value(a)), strings.Compare(a.Software, b.Software))
	})
	var total int64
	for _, s := range sorted {
		total += max(value(s), 0)
	}
	rows := make([]shareRow, 0, min(len(sorted), topSoftware+1))
	var other int64
	for i, s := range sorted {
		v := max(value(s), 0)
		if i >= topSoftware {
			other += v
			continue
		}
		name := s.Software
		if name == "" {
			name = "(unknown)"
		}
		rows = append(rows, shareRow{Software: name, Value: v})
	}
	if n := len(sorted) - topSoftware; n > 0 {
		rows = append(rows, shareRow{Software: fmt.Sprintf("%d others", n), Value: other})
	}
	for i := range rows {
		if total > 0 {
			rows[i].Percent = 100 * float64(rows[i].Value) / float64(total)
		}
	}
	v := shareView{ID: id, Heading: heading, Metric: metric, Rows: rows, APIPath: "/api/v1/stats/software"}
	if !d.chartsReady || len(rows) == 0 {
		return v, nil
	}
	labels := make([]string, len(rows))
	values := make([]int64, len(rows))
	for i, row := range rows {
		labels[i], values[i] = row.Software, row.Value
	}
	var err error
	v.Chart, err = barChart(id, heading, metric, labels, values)
	return v, err
}

type instanceData struct {
	Instance     model.Instance
	Name         string
	ExternalURL  string
	Chart        chartView
	History      []model.Snapshot // newest first, at most maxHistoryRows
	HistoryTotal int
	Peers        []peerView
	PeerCount    int
	APIPath      string
	// Flags explains the sanity flags of the latest figures.
	Flags []flagView
}

type peerView struct {
	Host string
	// Path is the peer's dashboard page, "" when the entry is not a host.
	Path string
}

func (d *Dashboard) instance(r *http.Request) (pageResult, error) {
	host, err := normaliseHost(r.PathValue("host"))
	if err != nil {
		return pageResult{}, err
	}
	in, history, err := d.store.Instance(r.Context(), host)
	if errors.Is(err, model.ErrNotFound) {
		return pageResult{}, &pageError{status: http.StatusNotFound, message: "fedilens knows no instance by that name."}
	}
	if err != nil {
		return pageResult{}, fmt.Errorf("get instance %s: %w", host, err)
	}
	peers, err := d.store.Peers(r.Context(), host)
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return pageResult{}, fmt.Errorf("get peers of %s: %w", host, err)
	}

	data := instanceData{
		Instance:     in,
		Name:         cmp.Or(strings.TrimSpace(in.Title), in.Host),
		ExternalURL:  externalURL(in.Host),
		HistoryTotal: len(history),
		PeerCount:    len(peers),
		APIPath:      "/api/v1/instances/" + url.PathEscape(in.Host),
		Flags:        flagViews(in.Flags),
	}
	for i := len(history) - 1; i >= 0 && len(data.History) < maxHistoryRows; i-- {
		data.History = append(data.History, history[i])
	}
	for _, p := range peers[:min(len(peers), maxPeersShown)] {
		data.Peers = append(data.Peers, peerView{Host: p, Path: instancePath(p)})
	}
	if d.chartsReady && len(history) > 0 {
		points := history[max(0, len(history)-maxHistoryPoints):]
		labels := make([]string, len(points))
		users := make([]*int64, len(points))
		active := make([]*int64, len(points))
		for i, s := range points {
			labels[i] = s.CrawledAt.UTC().Format("2006-01-02 15:04")
			users[i], active[i] = s.UsersTotal, s.UsersActiveMonth
		}
		data.Chart, err = lineChart("instance-history", "Users of "+clip(80, data.Name), labels,
			lineSeries{name: "Users", values: users}, lineSeries{name: "Monthly active", values: active})
		if err != nil {
			return pageResult{}, err
		}
	}
	return pageResult{name: "instance", title: data.Name, data: data, charts: true}, nil
}

type aboutData struct {
	UserAgent string
	Contact   string
	Version   string
}

func (d *Dashboard) about(*http.Request) (pageResult, error) {
	return pageResult{name: "about", title: "About fedilens", data: aboutData{
		UserAgent: d.opts.UserAgent,
		Contact:   d.opts.Contact,
		Version:   d.opts.Version,
	}}, nil
}

// wrap adds action context to err, keeping nil nil.
func wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", action, err)
}
