package main

import (
	"context"
	"flag"
	"io"
	"sync"
	"time"
)

// runRun is the main job: crawl continuously and serve the API and
// dashboard from the same process.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	var f crawlFlags
	c.register(fs)
	c.registerPublicURL(fs)
	f.register(fs)
	if err := parseFlags(fs, &c, args); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	job, err := setupCrawl(ctx, &c, &f, log, stderr)
	if err != nil {
		return err
	}
	// Intake stops first (below); the pipeline is flushed and storage
	// released last.
	defer job.close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var crawlErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		crawlErr = job.m.Run(ctx, time.Minute)
		if crawlErr != nil {
			log.Error("crawler stopped", "err", crawlErr)
			cancel()
		}
	}()
	serveErr := serveHTTP(ctx, &c, job.st, job.ix, job.reg, log, stdout)
	cancel()
	wg.Wait()
	if serveErr != nil {
		return serveErr
	}
	return crawlErr
}
