package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"github.com/fedilens/fedilens/api"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/fedilens/fedilens/crawler"
	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/chserver"
	"github.com/fedilens/fedilens/internal/config"
	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/httpclient"
	"github.com/fedilens/fedilens/internal/store"
)

// common holds the flags every command shares.
type common struct {
	configFile string
	data       string
	clickhouse string
	listen     string
	// apiRate and apiBurst are every client address's token bucket for
	// the API's read endpoints (apiRate 0: no limit).
	apiRate   float64
	apiBurst  int
	seeds     config.StringList
	userAgent string
	contact   string
	resolve   config.StringList
	allowNet  config.StringList
	caFile    string
	logLevel  string
	logFormat string

	// The operator's controls (controls.go).
	deny       config.StringList
	denyFile   string
	adminToken string
	ctl        *controls // set by openControls

	// publicURL is --public-url of serve and run (publicurl.go).
	publicURL publicURL

	// clickhouseCluster and clickhouseReplicated select the store's
	// cluster mode (store.Options.Cluster and ClusterReplicated; schema.go).
	clickhouseCluster    string
	clickhouseReplicated bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.configFile, "config", "", "YAML file with settings (keys are flag names)")
	fs.StringVar(&c.data, "data", "./data", "data directory (index, managed ClickHouse, datasets)")
	fs.StringVar(&c.clickhouse, "clickhouse", "", "ClickHouse address host:port or clickhouse:// DSN; empty: start a managed local server under --data")
	c.registerCluster(fs)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "address of the API and dashboard")
	fs.Float64Var(&c.apiRate, "api-rate", api.DefaultReadPerSecond, "requests per second each client address may make to the JSON API on average (0: no limit, for a proxy that limits)")
	fs.IntVar(&c.apiBurst, "api-burst", api.DefaultReadBurst, "requests a client address may make at once before --api-rate applies")
	fs.Var(&c.seeds, "seed", "seed instance URL (repeatable); https unless http:// is written out")
	fs.StringVar(&c.userAgent, "user-agent", "", "User-Agent product (default fedilens/VERSION); the contact is appended")
	fs.StringVar(&c.contact, "contact", "", "operator contact (URL or email) put in the User-Agent; required for the real network")
	fs.Var(&c.resolve, "resolve", "HOST=ADDR: send requests for HOST (optionally HOST:PORT, or * for every host) to ADDR (repeatable)")
	fs.Var(&c.allowNet, "allow-net", "CIDR of a private or loopback network the crawler may reach (repeatable; none by default)")
	fs.StringVar(&c.caFile, "ca-file", "", "PEM file with extra trusted root certificates")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	c.registerControls(fs)
}

// parse parses args into fs and applies environment and config file.
func parseFlags(fs *flag.FlagSet, c *common, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Fprintf(os.Stdout, "Usage of fedilens %s:\n", fs.Name())
			fs.PrintDefaults()
			return flag.ErrHelp
		}
		return usageErr("%v (see fedilens %s --help)", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	// --config itself may come from the environment.
	if c.configFile == "" {
		c.configFile = os.Getenv(config.EnvName("config"))
	}
	if err := config.Apply(fs, c.configFile, os.Getenv); err != nil {
		return usageErr("%v", err)
	}
	switch {
	case c.apiRate < 0 || math.IsNaN(c.apiRate) || math.IsInf(c.apiRate, 0):
		return usageErr("--api-rate must be 0 (no limit) or a positive number of requests per second")
	case c.apiBurst < 1:
		return usageErr("--api-burst must be at least 1")
	}
	return nil
}

func (c *common) logger(stderr io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, usageErr("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, usageErr("--log-format must be text or json")
}

// ua is the User-Agent: product/version plus the operator's contact.
func (c *common) ua() string {
	product := c.userAgent
	if product == "" {
		product = "fedilens/" + Version
	}
	if c.contact != "" {
		return fmt.Sprintf("%s (+%s)", product, c.contact)
	}
	return product
}

// httpClient builds the one hardened client from the flags. extraCA is
// added to the trusted roots (the simulator's CA).
func (c *common) httpClient(log *slog.Logger, extraCA []byte) (*httpclient.Client, error) {
	opts := httpclient.Options{UserAgent: c.ua(), Logger: log, Resolve: map[string]string{}}
	for _, r := range c.resolve {
		k, v, err := httpclient.ParseResolve(r)
		if err != nil {
			return nil, usageErr("--resolve %q: %v", r, err)
		}
		opts.Resolve[k] = v
	}
	for _, a := range c.allowNet {
		p, err := httpclient.ParseAllowNet(a)
		if err != nil {
			return nil, usageErr("--allow-net %q: %v", a, err)
		}
		opts.AllowNets = append(opts.AllowNets, p)
	}
	switch {
	case c.caFile != "":
		pool, err := httpclient.LoadCAFile(c.caFile)
		if err != nil {
			return nil, fmt.Errorf("loading --ca-file: %w", err)
		}
		opts.RootCAs = pool
	case extraCA != nil:
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		opts.RootCAs = pool
	}
	if extraCA != nil && !opts.RootCAs.AppendCertsFromPEM(extraCA) {
		return nil, errors.New("adding the simulator's CA failed")
	}
	return httpclient.New(opts)
}

// openStore connects to ClickHouse, starting a managed server when no
// address is given. The returned stop func closes the store and stops the
// managed server; call it with a context that is not cancelled.
func (c *common) openStore(ctx context.Context, log *slog.Logger) (*store.Store, func(context.Context), error) {
	addr := c.clickhouse
	if err := c.checkCluster(); err != nil {
		return nil, nil, err
	}
	var srv *chserver.Server
	if addr == "" {
		var err error
		log.Info("starting managed ClickHouse", "dir", filepath.Join(c.data, "clickhouse"))
		srv, err = chserver.Start(ctx, chserver.Options{DataDir: filepath.Join(c.data, "clickhouse"), Logger: log.With("component", "clickhouse")})
		if err != nil {
			return nil, nil, fmt.Errorf("starting managed ClickHouse: %w", err)
		}
		addr = srv.Addr()
	}
	st, err := store.Open(ctx, store.Options{Addr: addr, Logger: log.With("component", "store"),
		Cluster: c.clickhouseCluster, ClusterReplicated: c.clickhouseReplicated})
	if err != nil {
		if srv != nil {
			_ = srv.Stop(context.Background())
		}
		return nil, nil, fmt.Errorf("opening ClickHouse store at %s: %w", addr, err)
	}
	stop := func(ctx context.Context) {
		if err := st.Close(); err != nil {
			log.Warn("closing store", "err", err)
		}
		if srv != nil {
			if err := srv.Stop(ctx); err != nil {
				log.Warn("stopping managed ClickHouse", "err", err)
			}
		}
	}
	return st, stop, nil
}

// indexDir is the search index's directory under the data directory.
func (c *common) indexDir() string { return filepath.Join(c.data, "index") }

func (c *common) openIndex(log *slog.Logger, reg prometheus.Registerer) (*indexer.Index, error) {
	return indexer.Open(indexer.Options{Dir: c.indexDir(), Logger: log.With("component", "indexer"), Registerer: reg})
}

func (c *common) ensureData() error {
	if err := os.MkdirAll(c.data, 0o750); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	probe := filepath.Join(c.data, ".write-test")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", c.data, err)
	}
	return os.Remove(probe)
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// DefaultPostRetention is how long posts are kept: 90 days.
const DefaultPostRetention = 90 * 24 * time.Hour

// crawlFlags are the crawl settings of run and crawl.
type crawlFlags struct {
	hostDelay     time.Duration
	maxCrawlDelay time.Duration
	workers       int
	maxInFlight   int
	recrawlAfter  time.Duration
	posts         bool
	// The posts crawl: retention, revalidation, per-visit budget.
	postRetention       time.Duration
	postRevalidateAfter time.Duration
	maxPostRequests     int
	optInWord           string
	// postState is set by setupCrawl (cursors and stored posts), not a flag.
	postState    crawler.PostState
	simInstances int
	simSeed      int64
	progress     io.Writer // a terminal for the live progress line, or nil

	// The per-domain cap of unproven hosts and the dead-host rule
	// (crawler/farms.go).
	maxUnprovenPerDomain int
	deadAfter            time.Duration
}

// terminal returns w when it is a terminal, for live progress lines.
func terminal(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return w
}

func (f *crawlFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.hostDelay, "host-delay", time.Second, "minimum gap between two requests to one host (robots.txt Crawl-delay wins when larger)")
	fs.DurationVar(&f.maxCrawlDelay, "max-crawl-delay", 0, "cap on how long a robots.txt Crawl-delay is honoured (0: no cap)")
	fs.IntVar(&f.workers, "workers", 256, "hosts visited at once")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 64, "requests in flight over all hosts")
	fs.DurationVar(&f.recrawlAfter, "recrawl-after", crawler.RecrawlDefault, "how long a snapshot stays fresh; 0 means every host is due now")
	fs.BoolVar(&f.posts, "posts", true, "ingest public posts of authors who opted in")
	fs.DurationVar(&f.postRetention, "post-retention", DefaultPostRetention, "posts older than this are not read and are expired from the index and the store; 0: keep forever")
	fs.DurationVar(&f.postRevalidateAfter, "post-revalidate-after", 7*24*time.Hour, "how often an author's stored posts are listed in full to notice deletions; 0: at every visit")
	fs.IntVar(&f.maxPostRequests, "max-post-requests", crawler.DefaultMaxPostRequests, "requests one visit's posts crawl may send; the next visit continues")
	fs.StringVar(&f.optInWord, "opt-in-word", "", "a word (e.g. #fedilens) with which authors on software without an indexable flag opt in, in their bio or a profile field; empty: off")
	fs.IntVar(&f.simInstances, "sim", 0, "crawl an in-process simulated fediverse of this many instances (offline demo); sets seeds, --resolve, --allow-net and the CA")
	fs.Int64Var(&f.simSeed, "sim-seed", 1, "seed of the simulated fediverse")
	fs.IntVar(&f.maxUnprovenPerDomain, "max-unproven-per-domain", crawler.DefaultMaxUnprovenPerDomain,
		"per registrable domain and pass, how many hosts that never answered as an instance may be pending or failed before the rest wait for a later pass (spam farms); 0: no cap")
	fs.DurationVar(&f.deadAfter, "dead-after", crawler.DefaultDeadAfter,
		"a host without a successful visit for this long (since its last success or since first seen) is marked dead and retried weekly; 0: never")
}

// simSetup starts the simulated fediverse in-process and points the crawl
// at it: the same crawler code path as for the real network, with every
// host resolved to the simulator's loopback listener.
func simSetup(ctx context.Context, c *common, f *crawlFlags, log *slog.Logger) (ca []byte, stop func(), err error) {
	if f.simInstances <= 0 {
		return nil, func() {}, nil
	}
	// The simulated present is today (whole days, so one day's runs are
	// the same world): its posts are recent, as a demo's should be, and
	// the retention limit does not expire them.
	sim := fedisim.New(fedisim.Options{Seed: f.simSeed, Instances: f.simInstances, Now: time.Now().UTC().Truncate(24 * time.Hour),
		Logger: log.With("component", "sim")})
	srv, err := sim.Start(ctx, "127.0.0.1:0", "")
	if err != nil {
		return nil, nil, fmt.Errorf("starting simulated fediverse: %w", err)
	}
	ap, err := netip.ParseAddrPort(srv.HTTPSAddr)
	if err != nil {
		_ = srv.Close()
		return nil, nil, fmt.Errorf("simulator address: %w", err)
	}
	c.resolve = append(c.resolve, "*="+srv.HTTPSAddr)
	c.allowNet = append(c.allowNet, ap.Addr().String()+"/32")
	if len(c.seeds) == 0 {
		for _, s := range sim.Seeds() {
			c.seeds = append(c.seeds, "https://"+s)
		}
	}
	log.Info("simulated fediverse started", "instances", f.simInstances, "addr", srv.HTTPSAddr, "seeds", strings.Join(c.seeds, ","))
	return sim.CACertPEM(), func() { _ = srv.Close() }, nil
}

// validate checks the crawl settings that have no seeds in them, before
// anything (the simulator included) is started.
func (f *crawlFlags) validate() error {
	for _, d := range []struct {
		name, zero string
		v          time.Duration
	}{
		{"--post-retention", "keep posts forever", f.postRetention},
		{"--post-revalidate-after", "at every visit", f.postRevalidateAfter},
	} {
		if d.v < 0 {
			return usageErr("%s %s: must not be negative (0 means %s)", d.name, d.v, d.zero)
		}
	}
	if f.maxPostRequests < 1 {
		return usageErr("--max-post-requests %d: must be at least 1", f.maxPostRequests)
	}
	if f.optInWord != "" {
		if err := consent.ValidOptInWord(f.optInWord); err != nil {
			return usageErr("--opt-in-word: %v", err)
		}
	}
	return nil
}

// crawlSeeds validates the seeds and the contact rule before anything is
// started: crawling the real network requires an operator contact.
func crawlSeeds(c *common, f *crawlFlags) ([]crawler.Seed, error) {
	var seeds []crawler.Seed
	for _, s := range c.seeds {
		seed, err := crawler.ParseSeed(s)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		seeds = append(seeds, seed)
	}
	realNetwork := f.simInstances == 0
	for _, r := range c.resolve {
		if strings.HasPrefix(r, "*=") {
			realNetwork = false
		}
	}
	if realNetwork && c.contact == "" {
		return nil, usageErr("crawling the real fediverse needs --contact (a URL or email admins can reach you at); it goes into the User-Agent")
	}
	return seeds, nil
}

// newCrawler builds the crawler from the flags.
func newCrawler(c *common, f *crawlFlags, seeds []crawler.Seed, client *httpclient.Client, sink crawler.Sink, states crawler.StateSource, log *slog.Logger, reg prometheus.Registerer) (*crawler.Manager, error) {
	hostDelay := f.hostDelay
	if hostDelay == 0 {
		hostDelay = -1 // explicit zero: no gap (benchmarks only)
	}
	return crawler.New(crawler.Options{
		Seeds:         seeds,
		Client:        client.HTTPClient(),
		ReleaseHost:   func(h string) { client.CloseHost(h) },
		UserAgent:     c.ua(),
		HostDelay:     hostDelay,
		MaxCrawlDelay: f.maxCrawlDelay,
		Workers:       f.workers,
		MaxInFlight:   f.maxInFlight,
		RecrawlAfter:  f.recrawlAfter,
		Posts:         f.posts,
		PostState:     f.postState,
		PostRetention: f.postRetention,
		// 0 (every visit) is the crawler's zero value too.
		PostRevalidateAfter: f.postRevalidateAfter,
		MaxPostRequests:     f.maxPostRequests,
		OptInWord:           f.optInWord,
		Progress:            f.progress,
		Policy:              c.ctl.hostPolicy(),
		Controls:            c.ctl.crawlerControls(),

		MaxUnprovenPerDomain: offIfZero(f.maxUnprovenPerDomain),
		DeadAfter:            offIfZero(f.deadAfter),
	}, sink, states, log.With("component", "crawler"), reg)
}

// offIfZero maps a flag's 0 ("off") to the crawler's negative "off"; the
// crawler reads 0 as "default".
func offIfZero[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}
