package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchmd"
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
	srv       *simServer
	instances int
	census    map[string]bool // hosts the ground truth says a crawl stores
	crawlArgs []string
}

// startSim builds and serves a simulated fediverse of n instances. Every
// certificate the crawl will ask for is issued before the first run, so
// that no run (the crawler's first above all) pays for issuing them.
func startSim(ctx context.Context, seed int64, n int, dir string) (*simEnv, error) {
	sim := fedisim.New(fedisim.Options{Seed: seed, Instances: n, RequestLogSize: requestLogSize})
	truth := sim.Truth()
	env := &simEnv{sim: sim, instances: n, census: map[string]bool{}}
	for _, in := range truth.Census(sim.Seeds()) {
		env.census[in.Host] = true
	}
	hosts := append(sim.Hosts(), truth.DeadHosts...)
	prewarmCerts(sim, append(hosts, truth.FarmHosts...))
	sim.ResetRequests()

	srv, err := serveSim(ctx, sim)
	if err != nil {
		return nil, err
	}
	env.srv = srv
	if err := os.MkdirAll(dir, 0o750); err != nil {
		_ = srv.close()
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	ca := filepath.Join(dir, "sim-ca.pem")
	if err := sim.WriteCA(ca); err != nil {
		_ = srv.close()
		return nil, err
	}
	for _, s := range sim.Seeds() {
		env.crawlArgs = append(env.crawlArgs, "--seed", "https://"+s)
	}
	env.crawlArgs = append(env.crawlArgs,
		"--resolve", "*="+srv.addr,
		// As in the end-to-end test: the trap host (named in peer lists)
		// resolves to an address --allow-net does not include.
		"--resolve", fedisim.TrapHost+"="+fedisim.TrapIP,
		"--allow-net", "127.0.0.1/32",
		"--ca-file", ca,
	)
	return env, nil
}

func (e *simEnv) close() { _ = e.srv.close() }

// prewarmCerts asks the simulator's TLS configuration for every host's
// certificate, on every core.
func prewarmCerts(sim *fedisim.Sim, hosts []string) {
	tc := sim.TLSConfig()
	var wg sync.WaitGroup
	workers := max(1, numCPU())
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(hosts); i += workers {
				// Down hosts refuse on purpose; the rest are cached.
				_, _ = tc.GetCertificate(&tls.ClientHelloInfo{ServerName: hosts[i]})
			}
		}()
	}
	wg.Wait()
}

// crawlResult is one `fedilens crawl --once` as measured.
type crawlResult struct {
	Wall time.Duration // the child process, start to exit
	// Pass and the host counts are what the crawler printed.
	Pass                         time.Duration
	Visited, OK, Failed, Known   int64
	Requests                     int           // entries in the simulator's log
	Span                         time.Duration // first request's start to last response's end
	MaxRSS                       int64         // bytes, the crawler's VmHWM (see sampleChild)
	CPU                          time.Duration // user + system
	Stored, Want, Missing, Extra int
	Statuses                     map[string]int
	MinGap                       time.Duration // smallest gap between two requests to one host (-1: none)
	childSample
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

// pass line of `fedilens crawl --once`.
var passRE = regexp.MustCompile(`(\d+) hosts visited, (\d+) ok, (\d+) failed, (\d+) known, in (\S+)`)

// parsePassLine reads the crawler's summary line.
func parsePassLine(out string, r *crawlResult) error {
	m := passRE.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("no pass summary in the crawler's output %q", truncate(out, 300))
	}
	var err error
	for i, p := range []*int64{&r.Visited, &r.OK, &r.Failed, &r.Known} {
		if *p, err = strconv.ParseInt(m[i+1], 10, 64); err != nil {
			return fmt.Errorf("parsing pass summary %q: %w", m[0], err)
		}
	}
	if r.Pass, err = time.ParseDuration(m[5]); err != nil {
		return fmt.Errorf("parsing pass duration %q: %w", m[5], err)
	}
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
	args := []string{"crawl", "--once", "--data", data, "--clickhouse", b.ch.dsn(db), "--log-level", "warn",
		"--workers", strconv.Itoa(b.cfg.workers), "--max-in-flight", strconv.Itoa(b.cfg.maxInFlight),
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
		if err := b.ch.drop(context.WithoutCancel(ctx), db); err != nil {
			b.log.Warn("dropping database", "err", err)
		}
		if !b.cfg.keep {
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
	cmd := execCommand(ctx, b.bin, args...)
	cmd.Env = append(childEnv(os.Environ()), extraEnv...)
	cmd.Stdout, cmd.Stderr = &stdout, logFile
	b.log.Info("crawling", "instances", env.instances, "host_delay", delayText(delay), "log", logPath)
	cpu0, err := selfCPU()
	if err != nil {
		return crawlResult{}, err
	}
	chCPU0 := b.ch.cpu()
	conns0 := env.srv.accepted.Load()
	start := time.Now()
	r := crawlResult{Load: loadAverage()}
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("starting %s: %w", b.bin, err)
	}
	if err := setChildOpenFileLimit(cmd.Process.Pid, b.cfg.crawlerNofile); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return r, err
	}
	sample := sampleChild(cmd.Process.Pid)
	err = cmd.Wait()
	r.Wall = time.Since(start)
	r.childSample = sample()
	if cpu1, cerr := selfCPU(); cerr == nil {
		r.SimCPU = cpu1 - cpu0
	}
	r.Conns = int(env.srv.accepted.Load() - conns0)
	r.ClickHouseCPU = -1
	if chCPU1 := b.ch.cpu(); chCPU0 >= 0 && chCPU1 >= 0 {
		r.ClickHouseCPU = chCPU1 - chCPU0
	}
	if err != nil {
		return r, fmt.Errorf("running %s %s: %w\n%s", b.bin, strings.Join(args, " "), err, fileTail(logPath, 3000))
	}
	if r.CPU, err = childCPU(cmd.ProcessState); err != nil {
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
	prewarmCerts(env.sim, logHosts(r.log))
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
	st, err := b.ch.openStore(ctx, db)
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
			r.Failures[string(s.Status)+": "+truncate(strings.ReplaceAll(s.Reason, s.Host, "HOST"), 160)]++
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

// childSample is what sampleChild saw of the crawler process.
type childSample struct {
	// HWM is the crawler's peak resident set (VmHWM: the high-water mark
	// of its own address space since exec), as last read before it exited.
	HWM                 int64
	PeakFDs, SimPeakFDs int // open files of the crawler and of this process
	// At the crawler's largest resident set seen: the anonymous (heap,
	// stacks) and file-backed parts, the threads, and when it was.
	RSSAnon, RSSFile int64
	Threads          int
	PeakAt           time.Duration
}

// Sampling periods of sampleChild: /proc/PID/status is cheap to read and
// VmHWM only grows, so the last read before exit misses at most the last
// statusEvery of the crawler's life.
const (
	statusEvery = 100 * time.Millisecond
	fdsEvery    = 500 * time.Millisecond
)

// sampleChild reads the crawler's /proc status every statusEvery, and its
// open files and this process's (the simulator's sockets) every fdsEvery,
// until the returned func is called, which returns what it saw.
//
// The peak RSS comes from VmHWM, not from the rusage of wait4: Go starts
// children with vfork (CLONE_VM), so the kernel folds the parent's
// high-water mark into the child's ru_maxrss at exec, and the crawler would
// be charged with the simulator's memory.
func sampleChild(pid int) func() childSample {
	stop := make(chan struct{})
	done := make(chan childSample)
	start := time.Now()
	go func() {
		var c childSample
		var peakRSS int64
		var lastFDs time.Time
		t := time.NewTicker(statusEvery)
		defer t.Stop()
		for {
			if time.Since(lastFDs) >= fdsEvery {
				lastFDs = time.Now()
				if n, err := openFiles(pid); err == nil {
					c.PeakFDs = max(c.PeakFDs, n)
				}
				if n, err := openFiles(os.Getpid()); err == nil {
					c.SimPeakFDs = max(c.SimPeakFDs, n)
				}
			}
			if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				c.HWM = max(c.HWM, benchmd.ProcKB(st, "VmHWM"))
				if rss := benchmd.ProcKB(st, "VmRSS"); rss > peakRSS {
					peakRSS = rss
					c.RSSAnon, c.RSSFile = benchmd.ProcKB(st, "RssAnon"), benchmd.ProcKB(st, "RssFile")
					c.Threads = int(benchmd.ProcKB(st, "Threads"))
					c.PeakAt = time.Since(start)
				}
			}
			select {
			case <-stop:
				done <- c
				return
			case <-t.C:
			}
		}
	}()
	return func() childSample {
		close(stop)
		return <-done
	}
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

// loadAverage is the 1-minute load average (0 when unknown): the machine
// is shared, and the figures are only as quiet as it was.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
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

// childEnv is the environment of the crawler: this one without FEDILENS_
// variables, so that the flags alone configure it.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "FEDILENS_") {
			out = append(out, kv)
		}
	}
	return out
}

// execCommand is exec.CommandContext that asks a child to stop with
// SIGINT (fedilens flushes and exits) before killing it.
func execCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 30 * time.Second
	return cmd
}

func delayText(d time.Duration) string {
	if d < 0 {
		return "default"
	}
	return d.String()
}

func fileTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return truncateLeft(string(b), n)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func truncateLeft(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
