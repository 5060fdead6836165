package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"
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
	job, err := setupCrawl(ctx, &c, &f, log, stderr)
	if err != nil {
		return err
	}
	defer job.close()
	if !*once {
		return job.m.Run(ctx, time.Minute)
	}
	stats, err := job.m.RunOnce(ctx)
	if err != nil {
		return fmt.Errorf("crawl pass: %w", err)
	}
	fmt.Fprintf(stdout, "crawl pass done: %d hosts visited, %d ok, %d failed, %d known, in %s\n",
		stats.Visited, stats.OK, stats.Failed, stats.Known, stats.Duration.Round(time.Millisecond))
	return nil
}
