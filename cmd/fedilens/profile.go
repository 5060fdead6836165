package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// profileFlags are the crawl command's profiling flags. They exist for the
// census benchmark (bench/census): where a crawl spends its CPU time, and
// what its heap holds at its largest, as go tool pprof files.
type profileFlags struct {
	cpu, mem string
}

func (p *profileFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	fs.StringVar(&p.mem, "memprofile", "", "write a heap profile to this file, taken when the heap in use was largest (go tool pprof)")
}

// heapCheckEvery is how often the heap is looked at for a new peak.
const heapCheckEvery = 2 * time.Second

// start starts the profiles asked for; stop ends them and writes the files.
func (p *profileFlags) start(log *slog.Logger) (stop func(), err error) {
	var stops []func() error
	stopAll := func() {
		for _, s := range stops {
			if err := s(); err != nil {
				log.Error("writing profile failed", "err", err)
			}
		}
	}
	if p.cpu != "" {
		f, err := os.Create(p.cpu)
		if err != nil {
			return nil, fmt.Errorf("creating CPU profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("starting CPU profile: %w", err)
		}
		stops = append(stops, func() error {
			pprof.StopCPUProfile()
			return f.Close()
		})
	}
	if p.mem != "" {
		stops = append(stops, peakHeapProfile(p.mem, log))
	}
	return stopAll, nil
}

// peakHeapProfile writes a heap profile to path every time the heap in use
// has grown past its previous peak (checked every heapCheckEvery), and once
// more at stop if that is the peak, so the file shows what the heap held
// at its largest rather than after the work is done.
func peakHeapProfile(path string, log *slog.Logger) func() error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var peak uint64
	var werr error
	check := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		defer mu.Unlock()
		if ms.HeapInuse <= peak {
			return
		}
		peak = ms.HeapInuse
		if err := writeHeapProfile(path); err != nil {
			werr = err
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(heapCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				check()
			}
		}
	}()
	return func() error {
		close(done)
		wg.Wait()
		check()
		log.Info("heap profile written", "file", path, "peak_heap_inuse_mb", peak>>20)
		return werr
	}
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating heap profile: %w", err)
	}
	werr := pprof.Lookup("heap").WriteTo(f, 0)
	return errors.Join(werr, f.Close())
}
