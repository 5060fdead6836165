package benchenv

import (
	"context"
	"os"
	"runtime"
	"strings"

	"github.com/fedilens/fedilens/bench/internal/benchmd"
)

// Machine describes where the figures were measured, for the report's
// machine line: figures from a shared 2-core machine mean little without
// it.
type Machine struct {
	CPUs       int
	CPUModel   string
	MemTotal   string
	Kernel     string
	GoVersion  string
	ClickHouse string
	Revision   string // of the fedilens binary, from its build info
}

// DescribeMachine reads /proc and the build information of the binary
// bin; what cannot be read is reported as "unknown".
func DescribeMachine(ctx context.Context, bin, chVersion string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), ClickHouse: chVersion,
		CPUModel: "unknown", MemTotal: "unknown", Kernel: "unknown", Revision: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if v := benchmd.ProcField(b, "model name"); v != "" {
			m.CPUModel = v
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if v := benchmd.ProcField(b, "MemTotal"); v != "" {
			m.MemTotal = benchmd.HumanKiB(v)
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := ExecCommand(ctx, "go", "version", "-m", bin).Output(); err == nil {
		m.Revision = BuildRevision(string(out))
	}
	if m.Revision == "unknown" {
		// Built without VCS stamping (-buildvcs=false): name the commit the
		// working tree is based on; rev-parse only reads.
		if out, err := ExecCommand(ctx, "git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
			m.Revision = "tree based on " + strings.TrimSpace(string(out))
		}
	}
	return m
}

// BuildRevision reads vcs.revision and vcs.modified from the output of
// `go version -m`.
func BuildRevision(out string) string {
	var rev, modified string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "build" {
			switch k, v, _ := strings.Cut(f[1], "="); k {
			case "vcs.revision":
				rev = v
			case "vcs.modified":
				modified = v
			}
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += " (with uncommitted changes)"
	}
	return rev
}
