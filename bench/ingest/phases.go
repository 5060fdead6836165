package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/bench/internal/benchmd"
	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/indexer/indexbench"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
)

// crawlResult is the `fedilens crawl --once` as measured.
type crawlResult struct {
	Wall time.Duration // the child process, start to exit
	benchenv.PassSummary
	benchenv.ChildSample
	User, System time.Duration // the child's CPU time
	// SimCPU is this process's CPU time during the crawl (the
	// simulator's), ClickHouseCPU the managed server's (-1: unknown).
	SimCPU, ClickHouseCPU time.Duration
	Requests              int // entries in the simulator's request log
	Conns                 int // connections (TLS handshakes) the simulator accepted
	Load                  float64
	// Prerender is how long the simulator took to render its Mastodon
	// API entities before the clock started (0: not prerendered).
	Prerender time.Duration
	// Truth is len(Truth.Posts): the posts a correct crawl stores;
	// SimPosts all the simulator's posts, public or not.
	Truth, SimPosts int
	// Stored posts: distinct URIs in ClickHouse, its PostCount, and posts
	// in the Bleve index (Dump).
	ClickHouse, ClickHouseCount, Bleve int
}

// aloneResult is Bleve alone on the dumped posts.
type aloneResult struct {
	indexbench.Result
	// BaseRSS is the bench process's resident set just before (the
	// dumped posts, held in memory, and the Go runtime), PeakRSS its
	// high-water mark during the run.
	BaseRSS, PeakRSS int64
	// CPU is the bench process's CPU time while Bleve alone ran (-1:
	// unknown).
	CPU time.Duration
}

// crawl serves the simulated world, crawls it with the fedilens binary
// and checks what it stored; it returns the posts of the index, dumped.
func (b *bench) crawl(ctx context.Context, res *results) ([]model.Post, error) {
	cfg := b.cfg
	b.log.Info("building the simulated world", "instances", cfg.instances, "post_scale", cfg.postScale)
	env, err := benchenv.StartSim(ctx, fedisim.Options{Seed: cfg.SimSeed, Instances: cfg.instances, PostScale: cfg.postScale,
		NoHostile: true, RequestLogSize: requestLogSize}, filepath.Join(b.work, "sim"))
	if err != nil {
		return nil, err
	}
	defer env.Close()
	r := &res.Crawl
	if cfg.prerender {
		t0 := time.Now()
		env.Sim.Prerender()
		r.Prerender = time.Since(t0)
		b.log.Info("simulator prerendered", "took", r.Prerender.Round(time.Millisecond))
	}
	truth := env.Sim.Truth()
	want := map[string]bool{}
	for _, p := range truth.Posts(env.Sim.Seeds(), time.Time{}) {
		want[p.URI] = true
	}
	r.Truth = len(want)
	for _, in := range truth.Instances {
		for _, a := range in.Accounts {
			r.SimPosts += len(a.Posts)
		}
	}
	if r.Truth == 0 {
		return nil, fmt.Errorf("the simulated world (%d instances, post scale %d) has no post to store", cfg.instances, cfg.postScale)
	}
	b.log.Info("simulator ready", "addr", env.Server.Addr, "posts_to_store", r.Truth, "posts_in_world", r.SimPosts)

	db := fmt.Sprintf("ingest_bench_%d", os.Getpid())
	data := filepath.Join(b.work, "crawl")
	logPath := data + ".log"
	defer func() {
		if err := b.ch.Drop(context.WithoutCancel(ctx), db); err != nil {
			b.log.Warn("dropping database", "err", err)
		}
	}()
	args := append(crawlArgs(cfg, data, b.ch.DSN(db)), env.CrawlArgs...)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating crawler log: %w", err)
	}
	defer logFile.Close()
	var stdout bytes.Buffer
	cmd := benchenv.ExecCommand(ctx, b.bin, args...)
	cmd.Env = benchenv.ChildEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = &stdout, logFile

	debug.FreeOSMemory()
	cpu0, err := benchenv.SelfCPU()
	if err != nil {
		return nil, err
	}
	chCPU0 := b.ch.CPU()
	conns0 := env.Server.Accepted()
	r.Load = benchenv.LoadAverage()
	b.log.Info("crawling", "log", logPath)
	stopProfile, err := benchenv.StartCPUProfile(cfg.simProfile)
	if err != nil {
		return nil, err
	}
	child, err := benchenv.RunChild(cmd, cfg.CrawlerNofile)
	stopProfile()
	if child.State == nil {
		return nil, err
	}
	r.Wall, r.ChildSample = child.Wall, child.Sample
	r.User, r.System = child.State.UserTime(), child.State.SystemTime()
	if cpu1, cerr := benchenv.SelfCPU(); cerr == nil {
		r.SimCPU = cpu1 - cpu0
	}
	r.ClickHouseCPU = -1
	if chCPU1 := b.ch.CPU(); chCPU0 >= 0 && chCPU1 >= 0 {
		r.ClickHouseCPU = chCPU1 - chCPU0
	}
	r.Conns = int(env.Server.Accepted() - conns0)
	if err != nil {
		return nil, fmt.Errorf("running %s: %w\n%s", b.bin, err, benchenv.FileTail(logPath, 3000))
	}
	if r.HWM == 0 {
		return nil, fmt.Errorf("reading the crawler's peak RSS from /proc: none seen")
	}
	if r.PassSummary, err = benchenv.ParsePassLine(stdout.String()); err != nil {
		return nil, err
	}
	r.Requests = len(env.Sim.Requests())
	if r.Requests >= requestLogSize {
		return nil, fmt.Errorf("the simulator's request log filled up (%d entries): raise requestLogSize", r.Requests)
	}

	if err := b.checkClickHouse(ctx, db, want, r); err != nil {
		return nil, err
	}
	posts, err := dumpIndex(ctx, filepath.Join(data, "index"))
	if err != nil {
		return nil, err
	}
	r.Bleve = len(posts)
	uris := make([]string, len(posts))
	for i, p := range posts {
		uris[i] = p.URI
	}
	if missing, extra, ex := diff(want, uris); missing+extra > 0 {
		return nil, fmt.Errorf("the Bleve index holds %d posts, the ground truth %d: %d missing, %d extra (%s)", len(posts), r.Truth, missing, extra, ex)
	}
	b.log.Info("crawl done", "wall", r.Wall.Round(time.Millisecond), "pass", r.Pass, "posts", r.Bleve,
		"posts_per_s", fmt.Sprintf("%.0f", rate(r.Bleve, r.Wall)), "requests", r.Requests,
		"max_rss_mb", fmt.Sprintf("%.0f", mb(r.HWM)))
	if !cfg.Keep {
		_ = os.RemoveAll(data)
	}
	return posts, nil
}

// checkClickHouse compares the posts in ClickHouse with the ground truth.
func (b *bench) checkClickHouse(ctx context.Context, db string, want map[string]bool, r *crawlResult) error {
	st, err := b.ch.OpenStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.PostCount(ctx)
	if err != nil {
		return fmt.Errorf("counting stored posts: %w", err)
	}
	uris, err := st.PostURIs(ctx)
	if err != nil {
		return fmt.Errorf("listing stored posts: %w", err)
	}
	r.ClickHouseCount, r.ClickHouse = int(n), len(uris)
	missing, extra, ex := diff(want, uris)
	if missing+extra > 0 || r.ClickHouseCount != r.Truth {
		return fmt.Errorf("ClickHouse holds %d posts (PostCount %d), the ground truth %d: %d missing, %d extra (%s)",
			len(uris), n, r.Truth, missing, extra, ex)
	}
	return nil
}

// dumpIndex reads every post of the crawler's index, after the crawler
// exited.
func dumpIndex(ctx context.Context, dir string) ([]model.Post, error) {
	ix, err := indexer.Open(indexer.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	var posts []model.Post
	err = ix.Dump(ctx, func(p model.Post) error {
		posts = append(posts, p)
		return nil
	})
	if cerr := ix.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the crawler's index: %w", cerr)
	}
	return posts, err
}

// bleveAlone indexes the dumped posts through Bleve alone into a fresh
// directory. The simulator is gone by now; this process's high-water mark
// is reset first (best effort), so the peak is this phase's.
func (b *bench) bleveAlone(ctx context.Context, posts []model.Post, res *results) error {
	dir := filepath.Join(b.work, "alone")
	defer func() {
		if !b.cfg.Keep {
			_ = os.RemoveAll(dir)
		}
	}()
	debug.FreeOSMemory()
	runtime.GC()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	a := &res.Alone
	a.BaseRSS = selfStatus("VmRSS")
	b.log.Info("bleve alone", "posts", len(posts))
	cpu0, cpuErr := benchenv.SelfCPU()
	r, err := indexbench.BleveAlone(ctx, dir, len(posts), func(i int) model.Post { return posts[i] })
	if err != nil {
		return fmt.Errorf("indexing through bleve alone: %w", err)
	}
	a.CPU = -1
	if cpu1, err := benchenv.SelfCPU(); err == nil && cpuErr == nil {
		a.CPU = cpu1 - cpu0
	}
	a.Result, a.PeakRSS = r, selfStatus("VmHWM")
	b.log.Info("bleve alone done", "elapsed", r.Elapsed.Round(time.Millisecond), "posts_per_s", fmt.Sprintf("%.0f", r.DocsPerSec()))
	return nil
}

// selfStatus is a size of this process's /proc/self/status in bytes (0
// when unknown).
func selfStatus(key string) int64 {
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return benchmd.ProcKB(st, key)
}

// rate is n per second over d.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// mb is bytes in MB (10^6).
func mb(b int64) float64 { return float64(b) / 1e6 }
