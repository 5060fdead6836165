// Package dashboard serves fedilens's human-facing pages: the census
// overview, software and versions, registrations and languages with
// go-echarts charts over the observatory's statistics (internal/stats),
// the instance explorer and one page per instance, the federation graph
// (/graph) and the blocks and federation page (/blocks), the posts page, a
// search page that works without JavaScript, the datasets page, and an
// about page that tells administrators what is crawled and how to opt out.
//
// The census pages' filters (time range, interval, software, language,
// suspect figures) live in the URL (stats.ParseQuery), so a view can be
// shared, and every chart has a table alternative and a link to the API
// query behind it: the same path as the API's, with the same parameters.
//
// Everything the pages load comes from this server: echarts is vendored from
// npm into assets/ and embedded, and no page makes a third-party request.
// Every remote string (titles, software names, hosts, versions, peers) is
// untrusted and reaches the page only through html/template's contextual
// escaping, including the chart options (see charts.go for why go-echarts's
// own script snippet is not used).
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/fedilens/fedilens/internal/model"
)

// Store is the part of the census store the dashboard reads. The ClickHouse
// store (*store.Store) satisfies it; tests use an in-memory fake.
type Store interface {
	// Instances lists one page of instances (the overview's largest
	// instances).
	Instances(ctx context.Context, q model.InstanceQuery) (model.InstancePage, error)
	// ListInstances lists one page of the instance explorer, filtered,
	// sorted and paged as q says, with each instance's peer and block
	// counts. A query it rejects (a cursor of another sort, a malformed
	// one) wraps model.ErrBadQuery.
	ListInstances(ctx context.Context, q model.InstanceListQuery) (model.InstancePage, error)
	// Instance returns the latest state of host and its history, oldest
	// first. An unknown host wraps model.ErrNotFound.
	Instance(ctx context.Context, host string) (model.Instance, []model.Snapshot, error)
	// Peers returns host's latest published peer list.
	Peers(ctx context.Context, host string) ([]string, error)
	// Summary returns the headline numbers of the latest state (the
	// overview shows how many instances publish suspect figures).
	Summary(ctx context.Context) (model.Summary, error)
}

// Searcher is the post search behind /search. The Bleve index
// (*indexer.Index) satisfies it. A query it cannot parse wraps
// model.ErrBadQuery with a message that is safe to show.
type Searcher interface {
	Search(ctx context.Context, q model.SearchQuery) (model.SearchResult, error)
}

// Options configures a Dashboard. Store is required.
type Options struct {
	// Store answers every census page.
	Store Store
	// Search answers /search. Nil makes /search say that search is not
	// enabled, for deployments without the post index.
	Search Searcher
	// Stats answers the census pages (the overview, software and
	// versions, registrations, languages, and /blocks when it also has
	// the link statistics, LinkStats) and the instances' daily
	// history: *stats.Stats over the same store. Nil makes those pages say
	// that statistics are not available, and the instance pages show
	// their snapshots only.
	Stats Stats
	// Graph answers /graph, the federation graph, and gives the instance
	// pages their link to it: *graph.Graphs over the same statistics. Nil
	// makes /graph say that the graph is not available.
	Graph Graphs
	// Logger receives internal errors with their detail (visitors only see
	// a generic page). Nil discards.
	Logger *slog.Logger
	// Version is shown in the page footer, so bug reports name a release.
	Version string
	// Contact is how administrators reach the operator (e-mail address or
	// URL), shown on /about: opting out must not require guessing.
	Contact string
	// UserAgent is the crawler's User-Agent string, shown on /about so that
	// administrators can recognise fedilens in their logs and robots.txt.
	UserAgent string
	// BaseURL is the public address of this server ("https://fedilens.example"),
	// for the absolute links the OpenSearch description and the Atom feeds
	// need. Empty: taken from each request (scheme and a checked Host
	// header), which is right unless a proxy rewrites them.
	BaseURL string
}

// ErrNoStore is returned by New when Options.Store is nil.
var ErrNoStore = errors.New("dashboard: Options.Store is nil")

// Dashboard serves the HTML pages and their assets. Create it with New and
// mount it with Register.
type Dashboard struct {
	store  Store
	search Searcher
	stats  Stats
	graph  Graphs
	log    *slog.Logger
	opts   Options
	pages  map[string]*template.Template
	assets map[string]asset
	// chartsReady is false when echarts.min.js was not installed: pages
	// then show a notice and their data tables instead of charts.
	chartsReady bool
	// listSize is the explorer's page size (listPageSize; tests page
	// through a small census with a smaller one).
	listSize int
}

// New builds a Dashboard: it parses the page templates and loads the
// embedded assets once, so that a broken build fails at start-up rather
// than on the first visitor.
func New(opts Options) (*Dashboard, error) {
	return newDashboard(opts, embeddedAssets())
}

// newDashboard is New with the asset files given, so tests can run the
// dashboard as if `make assets` had not been run.
func newDashboard(opts Options, assetFS fs.FS) (*Dashboard, error) {
	if opts.Store == nil {
		return nil, ErrNoStore
	}
	if err := checkBaseURL(opts.BaseURL); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	assets, err := loadAssets(assetFS)
	if err != nil {
		return nil, fmt.Errorf("load assets: %w", err)
	}
	_, chartsReady := assets[echartsFile]
	if !chartsReady {
		logger.Warn("echarts assets missing: run make assets; charts fall back to tables", "file", "dashboard/assets/"+echartsFile)
	}
	return &Dashboard{
		store:       opts.Store,
		search:      opts.Search,
		stats:       opts.Stats,
		graph:       opts.Graph,
		log:         logger,
		opts:        opts,
		pages:       pages,
		assets:      assets,
		chartsReady: chartsReady,
		listSize:    listPageSize,
	}, nil
}

// Register mounts the pages and the assets on mux. "/{$}" matches only the
// root, so the dashboard does not swallow paths other components mount.
func (d *Dashboard) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", d.page(d.overview))
	mux.Handle("GET /instances", d.page(d.instanceList))
	mux.Handle("GET /instances/{host}", d.page(d.instance))
	d.registerCensus(mux)
	d.registerSearch(mux)
	d.registerPostStats(mux)
	mux.Handle("GET /graph", d.page(d.graphPage))
	mux.Handle("GET /blocks", d.page(d.blocksPage))
	mux.Handle("GET /about", d.page(d.about))
	mux.Handle("GET /assets/{name}", securityHeaders(http.HandlerFunc(d.serveAsset)))
}
