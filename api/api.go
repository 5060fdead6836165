// Package api serves fedilens's read-only JSON API: the instance census
// (the instance explorer, one instance with its history and peers), the
// observatory's statistics (internal/stats, the same figures and URL
// parameters as the dashboard's charts) and the search over opted-in
// public posts.
//
// Handlers are plain functions from a request to a value or an error; one
// wrapper turns them into HTTP responses, so JSON encoding, error mapping,
// caching headers, CORS and metrics are decided in exactly one place.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fedilens/fedilens/internal/model"
)

// Store is the part of the census store the API reads. The ClickHouse
// store (*store.Store) satisfies it; tests use an in-memory fake. The
// statistics come from Options.Stats.
type Store interface {
	// ListInstances lists one page of the instance explorer. An invalid
	// sort, order, filter or cursor wraps model.ErrBadQuery.
	ListInstances(ctx context.Context, q model.InstanceListQuery) (model.InstancePage, error)
	// Instance returns the latest state of host and its history, oldest
	// first. An unknown host wraps model.ErrNotFound.
	Instance(ctx context.Context, host string) (model.Instance, []model.Snapshot, error)
	// InstanceLinkCounts returns the sizes of host's latest peer and block
	// lists read. An unknown host wraps model.ErrNotFound.
	InstanceLinkCounts(ctx context.Context, host string) (model.LinkCounts, error)
	// Peers returns host's latest published peer list.
	Peers(ctx context.Context, host string) ([]string, error)
	// PostCount is the number of posts stored, for the summary.
	PostCount(ctx context.Context) (uint64, error)
	// LastCrawl is the time of the newest snapshot (zero: none), for the
	// summary.
	LastCrawl(ctx context.Context) (time.Time, error)
}

// Searcher is the post search the API exposes. The Bleve index
// (*indexer.Index) satisfies it. A query it cannot parse wraps
// model.ErrBadQuery with a message that is safe to show.
type Searcher interface {
	Search(ctx context.Context, q model.SearchQuery) (model.SearchResult, error)
}

// Options configures an API. Store is required; everything else is optional.
type Options struct {
	// Store answers the census endpoints.
	Store Store
	// Stats answers the statistics under /api/v1/stats/ and the history
	// of an instance (stats.New over the store). Nil answers them with
	// not_found, for tests of the other endpoints.
	Stats Stats
	// Search answers /api/v1/search. Nil answers it with not_found, for
	// deployments that run the census without the post index.
	Search Searcher
	// Graph answers /api/v1/graph without parameters: graph.New over the
	// same statistics with the zero graph.Options.Query, whose cached top
	// graph serves the default query (a filtered one is laid out per
	// request from Stats). Nil answers it with not_found.
	Graph Graph
	// WatchedDomains are the platforms /api/v1/stats/threads may be asked
	// about (default stats.DefaultWatchedDomains, whose daily summaries
	// the rollup keeps); its platform parameter is bounded to them.
	WatchedDomains []string
	// Logger receives internal errors with their detail (clients only ever
	// see a generic message). Nil discards.
	Logger *slog.Logger
	// Registerer receives the request metrics. Nil registers nothing.
	Registerer prometheus.Registerer
	// Version is sent as the X-Fedilens-Version header so that API users
	// can tell which release produced an answer when reporting problems.
	Version string
	// ReadPerSecond and ReadBurst are the token bucket every client
	// address gets for the read endpoints (defaults DefaultReadPerSecond
	// and DefaultReadBurst); a negative ReadPerSecond turns the limit off
	// (tests, or a deployment that limits at its proxy).
	ReadPerSecond float64
	ReadBurst     int
	// MaxClients bounds the limiter's memory (default DefaultMaxClients).
	MaxClients int
	// Now is the limiter's clock (tests).
	Now func() time.Time
}

// Defaults of the read rate limit: a person clicking through the
// dashboard's links or a script paging through the instances at a steady
// ten requests a second is never limited; a crawler of the API hammering
// in parallel is slowed to that pace.
const (
	DefaultReadPerSecond = 10
	DefaultReadBurst     = 60
	DefaultMaxClients    = 100_000
)

// Route patterns, for the mux and as the metrics' route label.
const (
	RouteInstances         = "GET /api/v1/instances"
	RouteInstance          = "GET /api/v1/instances/{host}"
	RouteSearch            = "GET /api/v1/search"
	RouteSummary           = "GET /api/v1/stats/summary"
	RouteSoftware          = "GET /api/v1/stats/software"
	RouteInstancesOverTime = "GET /api/v1/stats/instances-over-time"
	// RouteUnknown catches every other GET under /api/v1/, so that unknown
	// endpoints get the JSON error envelope rather than the mux's text.
	RouteUnknown = "GET /api/v1/"
)

// Paging bounds. They keep a single request cheap for the store and the
// index no matter what a client asks for.
const (
	DefaultLimit      = 50
	MaxInstancesLimit = 1000
	MaxSearchLimit    = 100
)

// API is the JSON API. Create it with New and mount it with Register.
type API struct {
	store   Store
	stats   Stats
	search  Searcher
	graph   Graph
	watched []string
	log     *slog.Logger
	metrics *metrics
	version string
	// openAPIDoc is the OpenAPI document, built once.
	openAPIDoc []byte
	// limiter is the per-client bucket of every GET route (nil: none).
	limiter *limiter
}

// New builds an API from opts. It panics if opts.Store is nil: that is a
// wiring mistake, not a runtime condition.
func New(opts Options) *API {
	if opts.Store == nil {
		panic("api: Options.Store is nil")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &API{
		store:      opts.Store,
		stats:      opts.Stats,
		search:     opts.Search,
		graph:      opts.Graph,
		watched:    watchedDomains(opts.WatchedDomains),
		log:        logger,
		metrics:    newMetrics(opts.Registerer),
		version:    opts.Version,
		openAPIDoc: OpenAPI(opts.Version),
	}
	if opts.ReadPerSecond >= 0 {
		rate, burst, clients := opts.ReadPerSecond, opts.ReadBurst, opts.MaxClients
		if rate == 0 {
			rate = DefaultReadPerSecond
		}
		if burst <= 0 {
			burst = DefaultReadBurst
		}
		if clients <= 0 {
			clients = DefaultMaxClients
		}
		now := opts.Now
		if now == nil {
			now = time.Now
		}
		a.limiter = newLimiter(rate, float64(burst), clients, now)
	}
	return a
}

// Register mounts every endpoint on mux, using Go 1.22 method patterns so
// that other methods are answered 405 by the mux itself. RouteUnknown claims
// GET /api/v1/...: other components may add method-qualified routes there
// ("GET /api/v1/x", "POST /api/v1/x"); a route without a method would
// conflict with it and make the mux panic at start-up.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle(RouteOpenAPI, a.wrap(RouteOpenAPI, a.openAPI))
	mux.Handle(RouteInstances, a.wrap(RouteInstances, a.instances))
	mux.Handle(RouteInstance, a.wrap(RouteInstance, a.instance))
	mux.Handle(RouteSearch, a.wrap(RouteSearch, a.searchPosts))
	a.registerCensusStats(mux)
	a.registerHostStats(mux)
	a.registerPostStats(mux)
	a.registerLinkStats(mux)
	mux.Handle(RouteUnknown, a.wrap(RouteUnknown, func(*http.Request) (any, error) {
		return nil, notFound("unknown endpoint")
	}))
}
