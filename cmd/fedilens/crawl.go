package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/fedilens/fedilens/internal/pipeline"
)

func runCrawl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("crawl", flag.ContinueOnError)
	var c common
	var f crawlFlags
	c.register(fs)
	f.register(fs)
	var prof profileFlags
	prof.register(fs)
	once := fs.Bool("once", false, "run one full crawl pass, then exit")
	if err := parseFlags(fs, &c, args); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	stopProfiles, err := prof.start(log)
	if err != nil {
		return err
	}
	defer stopProfiles()
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
	defer func() {
		// Final writes on a context detached from the cancelled one, bounded.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := pipe.Close(fctx); err != nil {
			log.Error("final flush failed", "err", err)
		}
	}()
	m, err := newCrawler(&c, &f, seeds, client, pipe, st, log, reg)
	if err != nil {
		return err
	}
	if !*once {
		return m.Run(ctx, time.Minute)
	}
	stats, err := m.RunOnce(ctx)
	if err != nil {
		return fmt.Errorf("crawl pass: %w", err)
	}
	fmt.Fprintf(stdout, "crawl pass done: %d hosts visited, %d ok, %d failed, %d known, in %s\n",
		stats.Visited, stats.OK, stats.Failed, stats.Known, stats.Duration.Round(time.Millisecond))
	return nil
}
