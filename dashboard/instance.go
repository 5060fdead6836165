package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/store"
)

// BlockStore is the part of the store behind an instance's public block
// list. The ClickHouse store (*store.Store) satisfies it; with a Store
// that does not, the instance page leaves the list out.
type BlockStore interface {
	// Blocks returns host's public domain-block list at t (zero: now),
	// sorted by domain; it wraps model.ErrNotFound when no list of host
	// was ever read.
	Blocks(ctx context.Context, host string, t time.Time) ([]store.BlockLink, error)
}

// ListSizeStore is the part of the store behind an instance's peer and
// block counts over time. The ClickHouse store (*store.Store) satisfies
// it; with a Store that does not, the instance page leaves the chart out.
type ListSizeStore interface {
	// ListSizeHistory returns host's list sizes per UTC day between the
	// days of from and to (zero: unbounded), oldest first.
	ListSizeHistory(ctx context.Context, host string, from, to time.Time) ([]store.ListSizes, error)
}

type instanceData struct {
	Instance    model.Instance
	Name        string
	ExternalURL string
	// Stats is set when the daily figures are available (Options.Stats).
	Stats bool
	// Daily are the charts and table of the daily figures, with the
	// time range's form.
	Daily figure
	// Lists are the peer and block counts over time, when the store has
	// them.
	Lists *figure
	// Snapshots are the latest snapshots, newest first, at most
	// maxHistoryRows of SnapshotTotal.
	Snapshots     []model.Snapshot
	SnapshotTotal int
	Peers         []peerView
	PeerCount     int
	// Blocks is the public domain-block list, when the store has it.
	Blocks *blocksView
	// PostLinks are the links seen in the instance's stored posts, when
	// the store has them.
	PostLinks *postLinksView
	// APIPath is the instance in the API.
	APIPath string
	// GraphPath is the federation graph around the instance, "" without
	// the graph.
	GraphPath string
	// Flags explains the sanity flags of the latest figures.
	Flags []flagView
}

type peerView struct {
	Host string
	// Path is the peer's dashboard page, "" when the entry is not a host.
	Path string
}

// blocksView is an instance's public domain-block list.
type blocksView struct {
	// Read is false when fedilens never read a list of the instance.
	Read    bool
	Entries []blockView
	Total   int
}

type blockView struct {
	Domain, Severity, Reason string
	// Path is the blocked domain's dashboard page, "" when it is not a
	// host name (wildcards, obfuscated names).
	Path  string
	Since time.Time
}

// instance is one instance's page: its latest figures, its daily history
// over the range in the URL, its peers and its public block list.
func (d *Dashboard) instance(r *http.Request) (pageResult, error) {
	host, err := normaliseHost(r.PathValue("host"))
	if err != nil {
		return pageResult{}, err
	}
	q, err := parseStatsQuery(r)
	if err != nil {
		return pageResult{}, err
	}
	// The host fixes software and language, and its history is daily.
	q = stats.Query{From: q.From, To: q.To, IncludeFlagged: q.IncludeFlagged}

	in, snapshots, err := d.store.Instance(r.Context(), host)
	if errors.Is(err, model.ErrNotFound) {
		return pageResult{}, &pageError{status: http.StatusNotFound, message: "fedilens knows no instance by that name."}
	}
	if err != nil {
		return pageResult{}, fmt.Errorf("get instance %s: %w", host, err)
	}
	var (
		peers  []string
		daily  []stats.HostPoint
		sizes  []store.ListSizes
		blocks []store.BlockLink
	)
	bs, hasBlocks := d.store.(BlockStore)
	ls, hasSizes := d.store.(ListSizeStore)
	noDaily := false
	blocksRead := true
	g, ctx := errgroup.WithContext(r.Context())
	g.Go(func() (err error) {
		peers, err = d.store.Peers(ctx, host)
		if errors.Is(err, model.ErrNotFound) {
			return nil
		}
		return wrap("get peers of "+host, err)
	})
	if d.stats != nil {
		g.Go(func() (err error) {
			daily, err = d.stats.History(ctx, host, q)
			if errors.Is(err, model.ErrNotFound) {
				noDaily = true
				return nil
			}
			return statsError("get history of "+host, err)
		})
	}
	if hasSizes {
		g.Go(func() (err error) {
			sizes, err = ls.ListSizeHistory(ctx, host, q.From, q.To)
			return wrap("get list sizes of "+host, err)
		})
	}
	if hasBlocks {
		g.Go(func() (err error) {
			blocks, err = bs.Blocks(ctx, host, time.Time{})
			if errors.Is(err, model.ErrNotFound) {
				blocksRead = false
				return nil
			}
			return wrap("get blocks of "+host, err)
		})
	}
	var postLinks *postLinksView
	if ps, ok := d.store.(PostLinkStore); ok {
		g.Go(func() (err error) {
			postLinks, err = d.postLinks(ctx, ps, host)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return pageResult{}, err
	}

	data := instanceData{
		Instance:      in,
		Name:          cmp.Or(strings.TrimSpace(in.Title), in.Host),
		ExternalURL:   externalURL(in.Host),
		SnapshotTotal: len(snapshots),
		PeerCount:     len(peers),
		APIPath:       "/api/v1/instances/" + url.PathEscape(in.Host),
		Flags:         flagViews(in.Flags),
		Stats:         d.stats != nil,
		PostLinks:     postLinks,
	}
	if d.graph != nil {
		data.GraphPath = aroundPath(in.Host, sizeByDegree)
	}
	for i := len(snapshots) - 1; i >= 0 && len(data.Snapshots) < maxHistoryRows; i-- {
		data.Snapshots = append(data.Snapshots, snapshots[i])
	}
	for _, p := range peers[:min(len(peers), maxPeersShown)] {
		data.Peers = append(data.Peers, peerView{Host: p, Path: instancePath(p)})
	}
	if hasBlocks {
		data.Blocks = &blocksView{Read: blocksRead, Total: len(blocks)}
		for _, b := range blocks[:min(len(blocks), maxBlocksShown)] {
			data.Blocks.Entries = append(data.Blocks.Entries, blockView{Domain: b.Domain, Severity: b.Severity,
				Reason: b.Reason, Path: instancePath(b.Domain), Since: b.Since})
		}
	}
	if d.stats != nil {
		if data.Daily, err = d.dailyFigure(in.Host, data.Name, daily, q); err != nil {
			return pageResult{}, err
		}
		form := newFilterForm("/instances/"+url.PathEscape(in.Host), q, false)
		form.NoSoftware, form.Title = true, "Time range"
		data.Daily.Form = &form
		if noDaily {
			data.Daily.Notice = "No daily figures of this instance in this range."
			if !q.IncludeFlagged {
				data.Daily.Notice += " Days with suspect figures are left out unless included."
			}
		}
	}
	if hasSizes {
		f, err := d.listsFigure(sizes)
		if err != nil {
			return pageResult{}, err
		}
		data.Lists = &f
	}
	return pageResult{name: "instance", title: data.Name, data: data, charts: true}, nil
}

// dailyFigure charts one instance's daily points: users, active users
// and posts, with the days as a table.
func (d *Dashboard) dailyFigure(host, name string, pts []stats.HostPoint, q stats.Query) (figure, error) {
	pts = pts[max(0, len(pts)-maxHistoryPoints):]
	f := figure{
		ID: "history", Heading: "History",
		Hint:    "The instance's last snapshot of each UTC day.",
		APIPath: withQuery("/api/v1/instances/"+url.PathEscape(host)+"/history", q),
		Table: tableView{Caption: "Table: daily figures, newest first", Empty: "No daily figures in this range.",
			Head: []column{{Label: "Day (UTC)"}, {Label: "Version"}, {Label: "Registrations"}, {Label: "Users", Num: true},
				{Label: "Active (month)", Num: true}, {Label: "Active (half-year)", Num: true}, {Label: "Local posts", Num: true}}},
	}
	labels := make([]string, len(pts))
	users, month, half, posts := make([]*int64, len(pts)), make([]*int64, len(pts)), make([]*int64, len(pts)), make([]*int64, len(pts))
	for i, p := range pts {
		labels[i] = dayLabel(p.Day)
		users[i], month[i], half[i], posts[i] = p.Accounts, p.ActiveMonth, p.ActiveHalfyear, p.LocalPosts
	}
	for i := len(pts) - 1; i >= 0 && len(f.Table.Rows) < maxHistoryRows; i-- {
		p := pts[i]
		reg := "closed"
		if p.OpenRegistrations {
			reg = "open"
		}
		version := clip(40, p.Version)
		if p.Suspect {
			version += " (suspect figures)"
		}
		f.Table.Rows = append(f.Table.Rows, []cell{textCell(labels[i]), textCell(version), textCell(reg),
			optCell(p.Accounts), optCell(p.ActiveMonth), optCell(p.ActiveHalfyear), optCell(p.LocalPosts)})
	}
	if len(pts) > maxHistoryRows {
		f.Table.Caption = fmt.Sprintf("Table: the latest %d of %d days, newest first", maxHistoryRows, len(pts))
	}
	if !d.chartsReady || len(pts) == 0 {
		return f, nil
	}
	title := clip(60, name)
	for _, c := range []struct {
		id, title string
		series    []lineSeries
	}{
		{"history-users", "Users of " + title, []lineSeries{{name: "Users", values: users}}},
		{"history-active", "Active users of " + title, []lineSeries{{name: "Monthly active", values: month}, {name: "Half-year active", values: half}}},
		{"history-posts", "Local posts of " + title, []lineSeries{{name: "Local posts", values: posts}}},
	} {
		cv, err := lineChart(c.id, c.title, labels, c.series...)
		if err != nil {
			return figure{}, err
		}
		f.Charts = append(f.Charts, cv)
	}
	return f, nil
}

// listsFigure charts the sizes of the instance's peer and block lists
// over the days they were read.
func (d *Dashboard) listsFigure(sizes []store.ListSizes) (figure, error) {
	sizes = sizes[max(0, len(sizes)-maxHistoryPoints):]
	f := figure{
		ID: "lists", Heading: "Peers and blocks over time",
		Hint: "How many instances its peer list names and how many domains its public block list holds, on the days fedilens read them " +
			"(from the stored snapshots; the JSON API does not serve these counts yet).",
		Table: tableView{Caption: "Table: list sizes, newest first", Empty: "fedilens has read neither list of this instance in this range.",
			Head: []column{{Label: "Day (UTC)"}, {Label: "Peers", Num: true}, {Label: "Blocked domains", Num: true}}},
	}
	labels := make([]string, len(sizes))
	peers, blocks := make([]*int64, len(sizes)), make([]*int64, len(sizes))
	for i, s := range sizes {
		labels[i], peers[i], blocks[i] = dayLabel(s.Day), s.Peers, s.Blocks
	}
	for i := len(sizes) - 1; i >= 0 && len(f.Table.Rows) < maxHistoryRows; i-- {
		f.Table.Rows = append(f.Table.Rows, []cell{textCell(labels[i]), readCell(peers[i]), readCell(blocks[i])})
	}
	if !d.chartsReady || len(sizes) == 0 {
		return f, nil
	}
	c, err := multiLineChart("lists-chart", "Peers and blocked domains", labels,
		lineSeries{name: "Peers", values: peers}, lineSeries{name: "Blocked domains", values: blocks})
	if err != nil {
		return figure{}, err
	}
	f.Charts = []chartView{c}
	return f, nil
}

// readCell shows a list size, or that the list was not read that day.
func readCell(v *int64) cell {
	if v == nil {
		return cell{Text: "not read", Num: true}
	}
	return numCell(*v)
}
