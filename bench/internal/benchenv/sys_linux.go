package benchenv

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// ChildCPU reads a finished child's CPU time (user plus system). Its
// ru_maxrss is not used: see SampleChild.
func ChildCPU(ps *os.ProcessState) (time.Duration, error) {
	if _, ok := ps.SysUsage().(*syscall.Rusage); !ok {
		return 0, errors.New("reading the crawler's rusage: none recorded")
	}
	return ps.UserTime() + ps.SystemTime(), nil
}

// OpenFileLimit is this process's RLIMIT_NOFILE hard limit: what a
// fedilens started from the same shell gets (the Go runtime raises the
// soft limit to the hard one).
func OpenFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("reading the open-file limit: %w", err)
	}
	return l.Max, nil
}

// RaiseOpenFileLimit lifts this process's open-file limit as far as the
// system allows: the simulator in this process plays tens of thousands of
// servers, and its sockets must not be what limits the crawl.
func RaiseOpenFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("reading the open-file limit: %w", err)
	}
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		var n uint64
		if _, err := fmt.Sscan(string(b), &n); err == nil && n > l.Max {
			want := syscall.Rlimit{Cur: n, Max: n}
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
				return n, nil
			}
		}
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("raising the open-file limit: %w", err)
	}
	return l.Max, nil
}

// SetChildOpenFileLimit sets a started child's RLIMIT_NOFILE (soft and
// hard) with prlimit(2), so the crawler runs with the limit of the
// environment and not with the bench's raised one.
func SetChildOpenFileLimit(pid int, n uint64) error {
	l := syscall.Rlimit{Cur: n, Max: n}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(syscall.RLIMIT_NOFILE),
		uintptr(unsafe.Pointer(&l)), 0, 0, 0)
	if errno != 0 {
		return fmt.Errorf("setting the crawler's open-file limit to %d: %w", n, errno)
	}
	return nil
}

// OpenFiles counts the open file descriptors of process pid (sockets
// included).
func OpenFiles(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, fmt.Errorf("listing open files of %d: %w", pid, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return 0, fmt.Errorf("listing open files of %d: %w", pid, err)
	}
	return len(names), nil
}

// SelfCPU is this process's CPU time so far (user plus system): the
// simulator's and the plain loop's, which run here.
func SelfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("reading this process's rusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture's user ABI.
const userHZ = 100

// ProcessCPU is the CPU time (user plus system) process pid has used.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading CPU time of %d: %w", pid, err)
	}
	d, err := StatCPU(string(b))
	if err != nil {
		return 0, fmt.Errorf("reading CPU time of %d: %w", pid, err)
	}
	return d, nil
}

// StatCPU reads utime and stime (fields 14 and 15) of a /proc/PID/stat
// line. The command name (field 2) may hold spaces and parentheses, so
// fields are counted from its last closing parenthesis.
func StatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, errors.New("malformed stat: too few fields")
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
