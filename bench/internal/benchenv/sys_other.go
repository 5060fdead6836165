//go:build !linux

package benchenv

import (
	"errors"
	"os"
	"time"
)

// errNotLinux: the crawler's peak RSS and open files come from Linux's
// /proc, its limits from prlimit(2).
var errNotLinux = errors.New("the benchmarks measure the crawler through Linux interfaces: run it on Linux")

// Off Linux every measurement fails with errNotLinux; sys_linux.go
// documents what each one reads.

func ChildCPU(*os.ProcessState) (time.Duration, error) { return 0, errNotLinux }
func OpenFileLimit() (uint64, error)                   { return 0, errNotLinux }
func RaiseOpenFileLimit() (uint64, error)              { return 0, errNotLinux }
func SetChildOpenFileLimit(int, uint64) error          { return errNotLinux }
func OpenFiles(int) (int, error)                       { return 0, errNotLinux }
func SelfCPU() (time.Duration, error)                  { return 0, errNotLinux }
func ProcessCPU(int) (time.Duration, error)            { return 0, errNotLinux }
