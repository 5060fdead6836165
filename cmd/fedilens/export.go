package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/fedilens/fedilens/datasets"
)

// runExport writes a dated dataset snapshot of what is stored.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var c common
	c.register(fs)
	out := fs.String("out", "", "folder for the dated snapshots (default DATA/datasets)")
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
	if *out == "" {
		*out = filepath.Join(c.data, "datasets")
	}
	st, stopStore, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer stopStore(context.Background())
	man, err := datasets.Export(ctx, st, datasets.Options{Dir: *out, Version: Version})
	if err != nil {
		return fmt.Errorf("exporting: %w", err)
	}
	fmt.Fprintf(stdout, "snapshot written to %s (%d instances)\n", man.Path, man.Tables["instances"])
	return nil
}
