package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fedilens/fedilens/api"
	"github.com/fedilens/fedilens/dashboard"
	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/store"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fs)
	c.registerPublicURL(fs)
	if err := parseFlags(fs, &c, args); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	reg := newRegistry()
	s, err := c.openStorage(ctx, log, reg)
	if err != nil {
		return err
	}
	defer s.close()
	// No crawler runs here to keep the opt-outs fresh and purge the index.
	defer c.ctl.refreshLoop(ctx, serveRefreshEvery)()
	return serveHTTP(ctx, &c, s.st, s.ix, reg, log, stdout)
}

// newHandler assembles the API, the dashboard, /metrics and the health
// endpoints on one mux.
func newHandler(c *common, st *store.Store, ix *indexer.Index, reg *prometheus.Registry, log *slog.Logger) (http.Handler, error) {
	mux := http.NewServeMux()
	rate := c.apiRate
	if rate == 0 {
		rate = -1 // api.Options: negative is no limit
	}
	// One statistics reader and one graph (its layout cached between
	// refreshes) behind both the API and the dashboard.
	sts := stats.New(st, stats.Options{Logger: log.With("component", "stats")})
	graphs := graph.New(sts, graph.Options{Logger: log.With("component", "graph")})
	a := api.New(api.Options{Store: st, Search: ix, Logger: log.With("component", "api"), Registerer: reg, Version: Version,
		ReadPerSecond: rate, ReadBurst: c.apiBurst, Stats: sts, Graph: graphs})
	a.Register(mux)
	c.ctl.registerAPI(a, mux)
	d, err := dashboard.New(dashboard.Options{Store: st, Search: ix, Logger: log.With("component", "dashboard"), Version: Version, Contact: c.contact, UserAgent: c.ua(), BaseURL: c.publicURL.String(),
		Stats: sts, Graph: graphs})
	if err != nil {
		return nil, fmt.Errorf("building dashboard: %w", err)
	}
	d.Register(mux)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if _, err := st.PostCount(ctx); err != nil {
			log.Warn("readiness check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "clickhouse unavailable\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	return mux, nil
}

// serveHTTP serves until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, c *common, st *store.Store, ix *indexer.Index, reg *prometheus.Registry, log *slog.Logger, stdout io.Writer) error {
	h, err := newHandler(c, st, ix, reg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", c.listen, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	fmt.Fprintf(stdout, "fedilens dashboard: http://%s/\n", ln.Addr())
	log.Info("serving", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutting down http server: %w", err)
	}
	return nil
}
