package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/fedisim"
)

// runSim serves the simulated fediverse alone, and prints the flags that
// crawl it, so demos, tests and benchmarks can use a separate process.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	var c common
	c.register(fs)
	instances := fs.Int("instances", 2000, "number of simulated instances")
	seed := fs.Int64("sim-seed", 1, "seed: the same seed and size give the same fediverse")
	httpsAddr := fs.String("https", "127.0.0.1:8443", "HTTPS listen address (loopback)")
	httpAddr := fs.String("http", "", "plain HTTP listen address (optional)")
	caOut := fs.String("ca-out", "", "where to write the simulator's CA certificate (default DATA/sim/ca.pem)")
	truthOut := fs.String("truth-out", "", "write the ground truth as JSON to this file")
	noHostile := fs.Bool("no-hostile", false, "turn off the hostile and broken instances")
	postScale := fs.Int("post-scale", 1, "multiply the posts per account (3,000 instances at scale 8 hold about 237,000 posts)")
	plant := fs.Bool("plant-relevance", false, "add the planted posts of the relevance cases (Truth.RelevanceCases)")
	optIn := fs.String("opt-in-word", "", "an opt-in word that half the accounts without an indexable flag write in their bio (crawl with the same --opt-in-word)")
	if err := parseFlags(fs, &c, args); err != nil {
		return err
	}
	if *optIn != "" {
		if err := consent.ValidOptInWord(*optIn); err != nil {
			return usageErr("--opt-in-word: %v", err)
		}
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	if *instances <= 0 {
		return usageErr("--instances must be positive")
	}
	for _, a := range []string{*httpsAddr, *httpAddr} {
		if a == "" {
			continue
		}
		ap, err := netip.ParseAddrPort(a)
		if err != nil || !ap.Addr().IsLoopback() {
			return usageErr("the simulator listens on loopback only (got %q)", a)
		}
	}
	sim := fedisim.New(fedisim.Options{Seed: *seed, Instances: *instances, NoHostile: *noHostile, PostScale: *postScale,
		PlantRelevance: *plant, OptInWord: *optIn, Logger: log})
	if *caOut == "" {
		*caOut = filepath.Join(c.data, "sim", "ca.pem")
	}
	if err := os.MkdirAll(filepath.Dir(*caOut), 0o750); err != nil {
		return fmt.Errorf("creating CA directory: %w", err)
	}
	if err := os.WriteFile(*caOut, sim.CACertPEM(), 0o644); err != nil {
		return fmt.Errorf("writing CA: %w", err)
	}
	if *truthOut != "" {
		b, err := json.MarshalIndent(sim.Truth(), "", " ")
		if err != nil {
			return fmt.Errorf("encoding truth: %w", err)
		}
		if err := os.WriteFile(*truthOut, b, 0o644); err != nil {
			return fmt.Errorf("writing truth: %w", err)
		}
	}
	srv, err := sim.Start(ctx, *httpsAddr, *httpAddr)
	if err != nil {
		return fmt.Errorf("starting simulator: %w", err)
	}
	defer srv.Close()
	ap, _ := netip.ParseAddrPort(srv.HTTPSAddr)
	var seeds []string
	for _, s := range sim.Seeds() {
		seeds = append(seeds, "--seed https://"+s)
	}
	fmt.Fprintf(stdout, "simulated fediverse: %d instances on https://%s", *instances, srv.HTTPSAddr)
	if srv.HTTPAddr != "" {
		fmt.Fprintf(stdout, " and http://%s", srv.HTTPAddr)
	}
	fmt.Fprintf(stdout, "\ncrawl it with:\n  fedilens crawl --once %s --resolve '*=%s' --allow-net %s/32 --ca-file %s\n",
		strings.Join(seeds, " "), srv.HTTPSAddr, ap.Addr(), *caOut)
	<-ctx.Done()
	return nil
}
