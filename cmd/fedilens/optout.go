package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

const optoutUsage = `Usage:
  fedilens optout add HOST [--reason TEXT]   record that HOST's admin opted out
  fedilens optout remove HOST                lift the opt-out of HOST
  fedilens optout list                       list the opt-outs in force

An opted-out host gets no request from fedilens, is left out of the API,
the dashboard and the datasets, and its posts are removed from the search
index. The list lives in ClickHouse: a running 'fedilens run' or 'serve'
picks a change up within a minute. Every command also takes the common
flags (--data, --clickhouse, --config, ...); see 'fedilens optout list --help'.
`

// maxOptOutReason bounds the operator's note, as the admin API does.
const maxOptOutReason = 1000

// runOptOut manages the opt-out list from the command line.
func runOptOut(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, optoutUsage)
		return usageErr("optout needs an action: add, remove or list")
	}
	action, rest := args[0], args[1:]
	switch action {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, optoutUsage)
		return flag.ErrHelp
	}
	if strings.HasPrefix(action, "-") {
		// Flags before the action ("optout --data d list"): the add flag
		// set knows every flag of every action.
		flags, positional, err := splitInterspersed("add", args)
		if err != nil || len(positional) == 0 {
			fmt.Fprint(stderr, optoutUsage)
			return usageErr("optout needs an action: add, remove or list")
		}
		action, rest = positional[0], append(flags, positional[1:]...)
	}
	switch action {
	case "add", "remove", "list":
	default:
		return usageErr("unknown action %q: use add, remove or list", action)
	}

	fs, c, reason := optoutFlags(action)
	flagArgs, positional, err := splitInterspersed(action, rest)
	if err != nil {
		flagArgs = rest // let parseFlags report it (or print the help)
	}
	if err := parseFlags(fs, c, flagArgs); err != nil {
		return err
	}
	var host string
	switch {
	case action == "list" && len(positional) > 0:
		return usageErr("unexpected arguments: %s", strings.Join(positional, " "))
	case action != "list" && len(positional) != 1:
		return usageErr("optout %s takes exactly one HOST", action)
	case action != "list":
		h, err := hostname.Normalize(positional[0])
		if err != nil {
			return usageErr("%v", err)
		}
		host = h
	}
	note, err := cleanNote(*reason)
	if err != nil {
		return err
	}

	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	st, closeStore, err := c.openControlStore(ctx, log)
	if err != nil {
		return err
	}
	defer closeStore(context.Background())

	switch action {
	case "add":
		if err := st.AddOptOut(ctx, model.OptOut{Host: host, Reason: note}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "opted out: %s\n", host)
	case "remove":
		err := st.RemoveOptOut(ctx, host)
		if errors.Is(err, model.ErrNotFound) {
			return fmt.Errorf("%s is not on the opt-out list", host)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "opt-out lifted: %s\n", host)
	case "list":
		list, err := st.OptOuts(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "HOST\tADDED\tREASON")
		for _, o := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Host, o.AddedAt.UTC().Format(time.RFC3339), o.Reason)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write list: %w", err)
		}
	}
	return nil
}

// optoutFlags is the flag set of one optout action.
func optoutFlags(action string) (*flag.FlagSet, *common, *string) {
	fs := flag.NewFlagSet("optout "+action, flag.ContinueOnError)
	c := &common{}
	c.register(fs)
	reason := new(string)
	if action == "add" {
		fs.StringVar(reason, "reason", "", "the operator's note: who asked, when, how (shown to the operator only)")
	}
	return fs, c, reason
}

// splitInterspersed separates flags from positional arguments, so the
// HOST may come before or after the flags ("add HOST --reason x"), which
// the flag package alone does not allow. Everything after "--" is
// positional.
func splitInterspersed(action string, args []string) (flags, positional []string, err error) {
	fs, _, _ := optoutFlags(action)
	return splitFlagArgs(fs, args)
}

// splitFlagArgs separates the flags fs knows from positional arguments
// given before, between or after them; everything after "--" is
// positional. fs is used for parsing only (its output is discarded).
func splitFlagArgs(fs *flag.FlagSet, args []string) (flags, positional []string, err error) {
	fs.SetOutput(io.Discard)
	rest := args
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return nil, nil, err
		}
		consumed := rest[:len(rest)-fs.NArg()]
		flags = append(flags, consumed...)
		rest = fs.Args()
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return flags, append(positional, rest...), nil
		}
		if len(rest) > 0 {
			positional = append(positional, rest[0])
			rest = rest[1:]
		}
	}
	return flags, positional, nil
}

// cleanNote keeps an operator's note on one printable line, bounded.
func cleanNote(s string) (string, error) {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
	if len(s) > maxOptOutReason {
		return "", usageErr("--reason is longer than %d bytes", maxOptOutReason)
	}
	return s, nil
}

// openControlStore opens the store for a short command that only writes to
// ClickHouse. In managed mode, a fedilens already running on the same --data
// keeps its server: chserver.Start shares it instead of starting another.
func (c *common) openControlStore(ctx context.Context, log *slog.Logger) (*store.Store, func(context.Context), error) {
	if err := c.ensureData(); err != nil {
		return nil, nil, err
	}
	return c.openStore(ctx, log)
}
