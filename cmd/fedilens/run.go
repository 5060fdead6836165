package main

import (
	"context"
	"flag"
	"io"
	"sync"
	"time"

	"github.com/fedilens/fedilens/internal/pipeline"
)

// runRun is the main job: crawl continuously and serve the API and
// dashboard from the same process.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	var f crawlFlags
	c.register(fs)
	f.register(fs)
	if err := parseFlags(fs, &c, args); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	if err := c.ensureData(); err != nil {
		return err
	}
	ca, stopSim, err := simSetup(ctx, &c, &f, log)
	if err != nil {
		return err
	}
	defer stopSim()
	f.progress = terminal(stderr)
	seeds, err := crawlSeeds(&c, &f)
	if err != nil {
		return err
	}
	client, err := c.httpClient(log, ca)
	if err != nil {
		return err
	}
	reg := newRegistry()
	st, stopStore, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer stopStore(context.Background())
	ix, err := c.openIndex(log, reg)
	if err != nil {
		return err
	}
	defer ix.Close()
	if _, err := c.openControls(ctx, st, ix, log); err != nil {
		return err
	}

	pipe := pipeline.New(st, ix, pipeline.Options{Logger: log.With("component", "pipeline")})
	m, err := newCrawler(&c, &f, seeds, client, pipe, st, log, reg)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var crawlErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		crawlErr = m.Run(ctx, time.Minute)
		if crawlErr != nil {
			log.Error("crawler stopped", "err", crawlErr)
			cancel()
		}
	}()
	serveErr := serveHTTP(ctx, &c, st, ix, reg, log, stdout)
	cancel()
	wg.Wait()
	// Intake has stopped; flush storage last, on a detached bounded context.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer fcancel()
	if err := pipe.Close(fctx); err != nil {
		log.Error("final flush failed", "err", err)
	}
	if serveErr != nil {
		return serveErr
	}
	return crawlErr
}
