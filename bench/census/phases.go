package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"
)

// runResult is one zero-delay run: the crawl, then the plain loop over
// the same requests.
type runResult struct {
	Crawl crawlResult
	Plain plainResult
	// Ratio is the crawler's requests per second over the plain loop's,
	// both as the simulator logged them.
	Ratio float64
	// StatusDiff counts the answers that differ between the two request
	// logs (by status); near zero means the loop replayed the same work.
	StatusDiff int
}

// delayResult is the census with the default per-host delay.
type delayResult struct {
	Instances int
	Crawl     crawlResult
}

// throughput runs the zero-delay crawls and their plain loops on one
// simulator.
func (b *bench) throughput(ctx context.Context) ([]runResult, error) {
	env, err := startSim(ctx, b.cfg.SimSeed, b.cfg.instances, filepath.Join(b.work, "sim"))
	if err != nil {
		return nil, err
	}
	defer env.close()
	b.log.Info("simulator ready", "instances", b.cfg.instances, "census", len(env.census), "addr", env.srv.Addr)
	var out []runResult
	for i := range b.cfg.runs {
		c, err := b.crawl(ctx, env, 0, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		reqs := replayList(c.log)
		c.log = nil
		b.log.Info("plain loop", "requests", len(reqs), "concurrency", b.cfg.MaxInFlight)
		p, err := plainLoop(ctx, env, reqs, b.cfg.MaxInFlight, b.cfg.plainHTTP2)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		r := runResult{Crawl: c, Plain: p, StatusDiff: histogramDistance(c.Statuses, p.Statuses)}
		if pr := rate(p.Requests, p.Span); pr > 0 {
			r.Ratio = rate(c.Requests, c.Span) / pr
		}
		b.log.Info("run done", "run", i+1, "crawler_req_per_s", fmt.Sprintf("%.0f", rate(c.Requests, c.Span)),
			"plain_req_per_s", fmt.Sprintf("%.0f", rate(p.Requests, p.Span)), "ratio", fmt.Sprintf("%.2f", r.Ratio),
			"plain_errors", p.Errors, "status_diff", r.StatusDiff)
		out = append(out, r)
	}
	if b.cfg.profileDir != "" {
		if err := b.profile(ctx, env, "crawl", 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// profile crawls once more with the crawler's profiles on, writing
// NAME-cpu.pprof and NAME-heap.pprof; the run is not part of the figures
// (profiling costs a few percent).
func (b *bench) profile(ctx context.Context, env *simEnv, name string, delay time.Duration) error {
	dir, err := filepath.Abs(b.cfg.profileDir)
	if err != nil {
		return fmt.Errorf("locating profile directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("creating profile directory: %w", err)
	}
	cpu, mem := filepath.Join(dir, name+"-cpu.pprof"), filepath.Join(dir, name+"-heap.pprof")
	// gctrace puts the heap's size at every collection into the crawler's
	// log (kept with -keep).
	c, err := b.crawl(ctx, env, delay, []string{"--cpuprofile", cpu, "--memprofile", mem}, []string{"GODEBUG=gctrace=1"})
	if err != nil {
		return fmt.Errorf("profiled run: %w", err)
	}
	b.log.Info("profiles written", "cpu", cpu, "heap", mem, "max_rss_mb", fmt.Sprintf("%.0f", mb(c.MaxRSS)),
		"hint", "go tool pprof -top "+b.bin+" "+cpu)
	return nil
}

// delayCensus crawls a second simulator with the default 1 s delay.
func (b *bench) delayCensus(ctx context.Context) (delayResult, error) {
	env, err := startSim(ctx, b.cfg.SimSeed, b.cfg.delayInstances, filepath.Join(b.work, "sim-delay"))
	if err != nil {
		return delayResult{}, err
	}
	defer env.close()
	c, err := b.crawl(ctx, env, -1, nil, nil)
	if err != nil {
		return delayResult{}, fmt.Errorf("census with the default delay: %w", err)
	}
	c.log = nil
	if b.cfg.profileDir != "" {
		if err := b.profile(ctx, env, "crawl-delay", -1); err != nil {
			return delayResult{}, err
		}
	}
	return delayResult{Instances: b.cfg.delayInstances, Crawl: c}, nil
}

// rate is n per second over d.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// mb is bytes in MB (10^6), the unit of the memory target.
func mb(b int64) float64 { return float64(b) / 1e6 }

// gcNow returns the bench process's garbage to the OS between phases, so
// that one phase's leftovers do not cost the next one CPU.
func gcNow() { debug.FreeOSMemory() }
