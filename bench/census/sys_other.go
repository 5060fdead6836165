//go:build !linux

package main

import (
	"errors"
	"os"
	"time"
)

// errNotLinux: the crawler's peak RSS and open files come from Linux's
// /proc, its limits from prlimit(2).
var errNotLinux = errors.New("the census bench measures the crawler through Linux interfaces: run it on Linux")

func childCPU(*os.ProcessState) (time.Duration, error) { return 0, errNotLinux }
func openFileLimit() (uint64, error)                   { return 0, errNotLinux }
func raiseOpenFileLimit() (uint64, error)              { return 0, errNotLinux }
func setChildOpenFileLimit(int, uint64) error          { return errNotLinux }
func openFiles(int) (int, error)                       { return 0, errNotLinux }
func selfCPU() (time.Duration, error)                  { return 0, errNotLinux }
func processCPU(int) (time.Duration, error)            { return 0, errNotLinux }
