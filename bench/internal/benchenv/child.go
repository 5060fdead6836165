package benchenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchmd"
)

// BuildFedilens builds the binary under test from this tree (the current
// directory must be the module root).
func BuildFedilens(ctx context.Context, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(out), err)
	}
	cmd := ExecCommand(ctx, "go", "build", "-o", out, "./cmd/fedilens")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building fedilens: %w\n%s", err, b)
	}
	return nil
}

// CommandLine is the shell command that reproduces a run of the bench
// package pkg ("./bench/census") with args, for the report; arguments
// the shell would split or expand are quoted.
func CommandLine(pkg string, args []string) string {
	parts := []string{"go", "run", pkg}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// ChildEnv is the environment of the crawler: env without FEDILENS_
// variables, so that the flags alone configure it.
func ChildEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "FEDILENS_") {
			out = append(out, kv)
		}
	}
	return out
}

// ExecCommand is exec.CommandContext that asks a child to stop with
// SIGINT (fedilens flushes and exits) before killing it.
func ExecCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 30 * time.Second
	return cmd
}

// ChildRun is a child process as RunChild measured it.
type ChildRun struct {
	// Wall runs from just before the start to the end of the wait.
	Wall   time.Duration
	Sample ChildSample
	// State is the exited process (nil when it could not be started).
	State *os.ProcessState
}

// RunChild starts cmd, sets its open-file limit to nofile (0: leaves it
// as inherited), samples it with SampleChild and waits for it. An error
// with a nil State means it never ran; otherwise the error is cmd.Wait's.
func RunChild(cmd *exec.Cmd, nofile uint64) (ChildRun, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return ChildRun{}, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	if nofile > 0 {
		if err := SetChildOpenFileLimit(cmd.Process.Pid, nofile); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return ChildRun{}, err
		}
	}
	sample := SampleChild(cmd.Process.Pid)
	err := cmd.Wait()
	r := ChildRun{Wall: time.Since(start), State: cmd.ProcessState}
	r.Sample = sample()
	return r, err
}

// ChildSample is what SampleChild saw of the crawler process.
type ChildSample struct {
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

// Sampling periods of SampleChild: /proc/PID/status is cheap to read and
// VmHWM only grows, so the last read before exit misses at most the last
// statusEvery of the crawler's life.
const (
	statusEvery = 100 * time.Millisecond
	fdsEvery    = 500 * time.Millisecond
)

// SampleChild reads the crawler's /proc status every statusEvery, and its
// open files and this process's (the simulator's sockets) every fdsEvery,
// until the returned func is called, which returns what it saw.
//
// The peak RSS comes from VmHWM, not from the rusage of wait4: Go starts
// children with vfork (CLONE_VM), so the kernel folds the parent's
// high-water mark into the child's ru_maxrss at exec, and the crawler would
// be charged with the simulator's memory.
func SampleChild(pid int) func() ChildSample {
	stop := make(chan struct{})
	done := make(chan ChildSample)
	start := time.Now()
	go func() {
		var c ChildSample
		var peakRSS int64
		var lastFDs time.Time
		t := time.NewTicker(statusEvery)
		defer t.Stop()
		for {
			if time.Since(lastFDs) >= fdsEvery {
				lastFDs = time.Now()
				if n, err := OpenFiles(pid); err == nil {
					c.PeakFDs = max(c.PeakFDs, n)
				}
				if n, err := OpenFiles(os.Getpid()); err == nil {
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
	return func() ChildSample {
		close(stop)
		return <-done
	}
}

// PassSummary is the summary line `fedilens crawl --once` prints.
type PassSummary struct {
	Visited, OK, Failed, Known int64
	Pass                       time.Duration
}

// passRE matches the pass line of `fedilens crawl --once`.
var passRE = regexp.MustCompile(`(\d+) hosts visited, (\d+) ok, (\d+) failed, (\d+) known, in (\S+)`)

// ErrNoPassSummary means the crawler's output holds no pass summary line:
// it did not finish its pass.
var ErrNoPassSummary = errors.New("no pass summary in the crawler's output")

// ParsePassLine reads the crawler's summary line out of its output.
func ParsePassLine(out string) (PassSummary, error) {
	var s PassSummary
	m := passRE.FindStringSubmatch(out)
	if m == nil {
		return s, fmt.Errorf("reading crawler output %q: %w", Truncate(out, 300), ErrNoPassSummary)
	}
	var err error
	for i, p := range []*int64{&s.Visited, &s.OK, &s.Failed, &s.Known} {
		if *p, err = strconv.ParseInt(m[i+1], 10, 64); err != nil {
			return s, fmt.Errorf("parsing pass summary %q: %w", m[0], err)
		}
	}
	if s.Pass, err = time.ParseDuration(m[5]); err != nil {
		return s, fmt.Errorf("parsing pass duration %q: %w", m[5], err)
	}
	return s, nil
}

// LoadAverage is the 1-minute load average (0 when unknown): the machine
// is shared, and the figures are only as quiet as it was.
func LoadAverage() float64 {
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

// FileTail is the last n bytes of the file at path ("" when unreadable),
// for the crawler's log in an error.
func FileTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	s := string(b)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Truncate shortens s to n bytes, marking the cut.
func Truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
