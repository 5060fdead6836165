package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
)

// requestLogSize bounds the simulator's request log: far above the
// requests of any census the bench runs, and checked after every phase,
// so a log that filled up fails the run instead of undercounting.
const requestLogSize = 20_000_000

// simEnv is a simulated fediverse served by this process, with its
// ground truth and the flags that point a crawler at it.
type simEnv struct {
	sim       *fedisim.Sim
	srv       *benchenv.SimServer
	instances int
	census    map[string]bool // hosts the ground truth says a crawl stores
	crawlArgs []string
}

// startSim builds and serves a simulated fediverse of n instances (see
// benchenv.StartSim: certificates are issued before the first run).
func startSim(ctx context.Context, seed int64, n int, dir string) (*simEnv, error) {
	se, err := benchenv.StartSim(ctx, fedisim.Options{Seed: seed, Instances: n, RequestLogSize: requestLogSize}, dir)
	if err != nil {
		return nil, err
	}
	env := &simEnv{sim: se.Sim, srv: se.Server, instances: n, census: map[string]bool{}, crawlArgs: se.CrawlArgs}
	for _, in := range se.Sim.Truth().Census(se.Sim.Seeds()) {
		env.census[in.Host] = true
	}
	return env, nil
}

func (e *simEnv) close() { _ = e.srv.Close() }

// crawlResult is one `fedilens crawl --once` as measured.
type crawlResult struct {
	Wall time.Duration // the child process, start to exit
	// Pass and the host counts are what the crawler printed.
	Pass                         time.Duration
	Visited, OK, Failed, Known   int64
	Requests                     int           // entries in the simulator's log
	Span                         time.Duration // first request's start to last response's end
	MaxRSS                       int64         // bytes, the crawler's VmHWM (see benchenv.SampleChild)
	CPU                          time.Duration // user + system
	Stored, Want, Missing, Extra int
	Statuses                     map[string]int
	MinGap                       time.Duration // smallest gap between two requests to one host (-1: none)
	benchenv.ChildSample
	Load   float64 // 1-minute load average before the crawl
	Hosts  int     // distinct hosts in the simulator's log
	Shape  logShape
	SimCPU time.Duration // this process's CPU time during the crawl: the simulator's
	// Conns is how many connections (TLS handshakes) the simulator
	// accepted during the crawl.
	Conns int
	// ClickHouseCPU is the managed ClickHouse's CPU time during the crawl
	// (-1: unknown).
	ClickHouseCPU time.Duration
	// Failures counts the stored host states by status and reason (host
	// names replaced), for the log when the census is off.
	Failures map[string]int
	log      []fedisim.Request
}

// parsePassLine reads the crawler's summary line.
func parsePassLine(out string, r *crawlResult) error {
	p, err := benchenv.ParsePassLine(out)
	if err != nil {
		return err
	}
	r.Visited, r.OK, r.Failed, r.Known, r.Pass = p.Visited, p.OK, p.Failed, p.Known, p.Pass
	return nil
}

// crawl runs the crawler as a child process on a fresh database and
// measures it. delay is --host-delay; a negative delay leaves the flag
// out (the default, 1 s).
func (b *bench) crawl(ctx context.Context, env *simEnv, delay time.Duration, extraArgs, extraEnv []string) (crawlResult, error) {
	b.seq++
	db := fmt.Sprintf("census_bench_%d_%d", os.Getpid(), b.seq)
	data := filepath.Join(b.work, fmt.Sprintf("crawl-%d", b.seq))
	logPath := data + ".log"
	args := []string{"crawl", "--once", "--data", data, "--clickhouse", b.ch.DSN(db), "--log-level", "warn",
		"--workers", strconv.Itoa(b.cfg.Workers), "--max-in-flight", strconv.Itoa(b.cfg.MaxInFlight),
		// The simulated posts are dated before the simulator's fixed
		// present: with a retention limit measured from today, fewer of
		// them (and of the hosts their mentions name) would be crawled
		// every day, and the census would no longer equal the truth.
		"--post-retention", "0"}
	if delay >= 0 {
		args = append(args, "--host-delay", delay.String())
	}
	args = append(args, env.crawlArgs...)
	args = append(args, extraArgs...)
	defer func() {
		if err := b.ch.Drop(context.WithoutCancel(ctx), db); err != nil {
			b.log.Warn("dropping database", "err", err)
		}
		if !b.cfg.Keep {
			_ = os.RemoveAll(data)
			_ = os.Remove(logPath)
		}
	}()

	env.sim.ResetState()
	env.sim.ResetRequests()
	gcNow()
	logFile, err := os.Create(logPath)
	if err != nil {
		return crawlResult{}, fmt.Errorf("creating crawler log: %w", err)
	}
	defer logFile.Close()
	var stdout bytes.Buffer
	cmd := benchenv.ExecCommand(ctx, b.bin, args...)
	cmd.Env = append(benchenv.ChildEnv(os.Environ()), extraEnv...)
	cmd.Stdout, cmd.Stderr = &stdout, logFile
	b.log.Info("crawling", "instances", env.instances, "host_delay", delayText(delay), "log", logPath)
	cpu0, err := benchenv.SelfCPU()
	if err != nil {
		return crawlResult{}, err
	}
	chCPU0 := b.ch.CPU()
	conns0 := env.srv.Accepted()
	r := crawlResult{Load: benchenv.LoadAverage()}
	child, err := benchenv.RunChild(cmd, b.cfg.CrawlerNofile)
	if child.State == nil {
		return r, err
	}
	r.Wall, r.ChildSample = child.Wall, child.Sample
	if cpu1, cerr := benchenv.SelfCPU(); cerr == nil {
		r.SimCPU = cpu1 - cpu0
	}
	r.Conns = int(env.srv.Accepted() - conns0)
	r.ClickHouseCPU = -1
	if chCPU1 := b.ch.CPU(); chCPU0 >= 0 && chCPU1 >= 0 {
		r.ClickHouseCPU = chCPU1 - chCPU0
	}
	if err != nil {
		return r, fmt.Errorf("running %s %s: %w\n%s", b.bin, strings.Join(args, " "), err, benchenv.FileTail(logPath, 3000))
	}
	if r.CPU, err = benchenv.ChildCPU(cmd.ProcessState); err != nil {
		return r, err
	}
	r.MaxRSS = r.HWM
	if r.MaxRSS == 0 {
		return r, errors.New("the crawler's peak RSS could not be read from /proc")
	}
	if err := parsePassLine(stdout.String(), &r); err != nil {
		return r, err
	}
	r.log = env.sim.Requests()
	if len(r.log) >= requestLogSize {
		return r, fmt.Errorf("the simulator's request log filled up (%d entries): raise requestLogSize", len(r.log))
	}
	// Hosts the truth does not list (none, as far as the bench knows) got
	// their certificate during this crawl; issue them now for the next.
	benchenv.PrewarmCerts(env.sim, logHosts(r.log))
	r.Requests = len(r.log)
	r.Span = logSpan(r.log)
	r.Statuses = statusHistogram(r.log)
	r.MinGap = minHostGap(r.log)
	r.Hosts = distinctHosts(r.log)
	r.Shape = shapeOf(r.log)
	if err := b.checkCensus(ctx, env, db, &r); err != nil {
		return r, err
	}
	b.log.Info("crawl done", "wall", r.Wall.Round(time.Millisecond), "pass", r.Pass, "visited", r.Visited,
		"requests", r.Requests, "req_per_s", fmt.Sprintf("%.0f", rate(r.Requests, r.Span)),
		"max_rss_mb", fmt.Sprintf("%.0f", mb(r.MaxRSS)), "rss_anon_mb_at_peak", fmt.Sprintf("%.0f", mb(r.RSSAnon)),
		"rss_file_mb_at_peak", fmt.Sprintf("%.0f", mb(r.RSSFile)), "threads_at_peak", r.Threads, "peak_at", r.PeakAt.Round(time.Second),
		"peak_open_files", r.PeakFDs, "stored", r.Stored, "want", r.Want)
	return r, nil
}

// checkCensus compares the stored instances with the ground truth.
func (b *bench) checkCensus(ctx context.Context, env *simEnv, db string, r *crawlResult) error {
	st, err := b.ch.OpenStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	stored := map[string]bool{}
	q := model.InstanceQuery{Sort: "host", Limit: 1000}
	for {
		page, err := st.Instances(ctx, q)
		if err != nil {
			return fmt.Errorf("reading stored instances: %w", err)
		}
		for _, in := range page.Instances {
			stored[in.Host] = true
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	r.Stored, r.Want = len(stored), len(env.census)
	for h := range env.census {
		if !stored[h] {
			r.Missing++
		}
	}
	for h := range stored {
		if !env.census[h] {
			r.Extra++
		}
	}
	if r.Missing+r.Extra == 0 {
		return nil
	}
	var missing, extra []string
	for h := range env.census {
		if !stored[h] {
			missing = append(missing, h)
		}
	}
	for h := range stored {
		if !env.census[h] {
			extra = append(extra, h)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	b.log.Warn("census differs from the truth", "missing", r.Missing, "extra", r.Extra,
		"first_missing", strings.Join(missing[:min(len(missing), 10)], ","),
		"first_extra", strings.Join(extra[:min(len(extra), 10)], ","))
	states, err := st.HostStates(ctx)
	if err != nil {
		return fmt.Errorf("reading host states: %w", err)
	}
	r.Failures = map[string]int{}
	for _, s := range states {
		if s.Status != model.StatusOK {
			r.Failures[string(s.Status)+": "+benchenv.Truncate(strings.ReplaceAll(s.Reason, s.Host, "HOST"), 160)]++
		}
	}
	type kv struct {
		k string
		n int
	}
	var top []kv
	for k, n := range r.Failures {
		top = append(top, kv{k, n})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].k < top[j].k })
	for _, e := range top[:min(len(top), 12)] {
		b.log.Warn("census differs from the truth: failed hosts", "count", e.n, "state", e.k)
	}
	return nil
}

// logSpan is the time from the first request's arrival to the last
// response's end.
func logSpan(log []fedisim.Request) time.Duration {
	if len(log) == 0 {
		return 0
	}
	first, last := log[0].Start, log[0].End
	for _, r := range log[1:] {
		if r.Start.Before(first) {
			first = r.Start
		}
		if r.End.After(last) {
			last = r.End
		}
	}
	return last.Sub(first)
}

// logShape says how busy the simulator was over a log's span.
type logShape struct {
	// MedianPerSecond is the median of the requests started in each whole
	// second of the span: the steady rate, without ramp-up and tail.
	MedianPerSecond float64
	// Tail is the time the last 5% of the requests (by start) took to
	// start after the first 95% had.
	Tail time.Duration
}

func shapeOf(log []fedisim.Request) logShape {
	span := logSpan(log)
	if len(log) == 0 || span <= 0 {
		return logShape{}
	}
	starts := make([]time.Time, len(log))
	for i, r := range log {
		starts[i] = r.Start
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	first := starts[0]
	perSec := make([]float64, int(span/time.Second)+1)
	for _, t := range starts {
		perSec[int(t.Sub(first)/time.Second)]++
	}
	if len(perSec) > 1 {
		perSec = perSec[:len(perSec)-1] // the last second is partial
	}
	i95 := (len(starts)*95+99)/100 - 1 // the start by which 95% had started
	return logShape{
		MedianPerSecond: median(perSec),
		Tail:            starts[len(starts)-1].Sub(starts[i95]),
	}
}

// distinctHosts counts the hosts named in the log.
func distinctHosts(log []fedisim.Request) int { return len(logHosts(log)) }

// logHosts lists the hosts named in the log, once each.
func logHosts(log []fedisim.Request) []string {
	seen := map[string]struct{}{}
	var out []string
	for _, r := range log {
		if _, ok := seen[r.Host]; !ok {
			seen[r.Host] = struct{}{}
			out = append(out, r.Host)
		}
	}
	return out
}

// statusHistogram counts the answers by status ("TLS" for refused
// handshakes, "0" for dropped connections).
func statusHistogram(log []fedisim.Request) map[string]int {
	h := map[string]int{}
	for _, r := range log {
		k := strconv.Itoa(r.Status)
		if r.Method == "TLS" {
			k = "TLS"
		}
		h[k]++
	}
	return h
}

// histogramDistance is how many answers of b would have to change to
// give a's histogram: half the sum of the differences.
func histogramDistance(a, b map[string]int) int {
	d := 0
	for k, v := range a {
		d += abs(v - b[k])
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d += v
		}
	}
	return d / 2
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// minHostGap is the smallest gap between the end of one request to a host
// and the start of the next (refused handshakes left out); -1 when no
// host got two requests.
func minHostGap(log []fedisim.Request) time.Duration {
	byHost := map[string][]fedisim.Request{}
	for _, r := range log {
		if r.Method != "TLS" {
			byHost[r.Host] = append(byHost[r.Host], r)
		}
	}
	gap := time.Duration(-1)
	for _, rs := range byHost {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) })
		for i := 1; i < len(rs); i++ {
			if g := rs[i].Start.Sub(rs[i-1].End); gap < 0 || g < gap {
				gap = g
			}
		}
	}
	return gap
}

func delayText(d time.Duration) string {
	if d < 0 {
		return "default"
	}
	return d.String()
}
