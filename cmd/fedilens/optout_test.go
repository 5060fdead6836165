package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOptOutCommand(t *testing.T) {
	dsn := freshDSN(t)
	data := t.TempDir()
	flags := []string{"--clickhouse", dsn, "--data", data, "--log-level", "warn"}
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), append(args, flags...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, out, errOut := run("optout", "list")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "HOST  ADDED  REASON\n", out)

	// The host may come before or after the flags.
	code, out, errOut = run("optout", "add", "Gone.Example.", "--reason", "asked by mail\non 2026-01-02")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "opted out: gone.example\n", out)
	var stdout, stderr bytes.Buffer
	code = Main(context.Background(), append([]string{"optout", "add", "--reason", "form"}, append(flags, "other.example")...), &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())

	code, out, _ = run("optout", "list")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	require.Regexp(t, `^gone\.example\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+asked by mail on 2026-01-02$`, lines[1])
	require.Regexp(t, `^other\.example\s+\S+\s+form$`, lines[2])

	code, out, _ = run("optout", "remove", "gone.example")
	require.Equal(t, 0, code)
	require.Equal(t, "opt-out lifted: gone.example\n", out)
	code, _, errOut = run("optout", "remove", "gone.example")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "gone.example is not on the opt-out list")

	// The environment works like for every other flag.
	t.Setenv("FEDILENS_CLICKHOUSE", dsn)
	stdout.Reset()
	stderr.Reset()
	code = Main(context.Background(), []string{"optout", "list", "--data", data}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	require.Contains(t, stdout.String(), "other.example")
	require.NotContains(t, stdout.String(), "gone.example")
}

func TestOptOutCommandUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"optout"}, 2, "needs an action"},
		{[]string{"optout", "--log-level", "warn"}, 2, "needs an action"},
		{[]string{"optout", "--help"}, 0, "fedilens optout add HOST"},
		{[]string{"optout", "frob"}, 2, `unknown action "frob"`},
		{[]string{"optout", "add"}, 2, "exactly one HOST"},
		{[]string{"optout", "add", "a.example", "b.example"}, 2, "exactly one HOST"},
		{[]string{"optout", "add", "bad host"}, 2, "invalid host name"},
		{[]string{"optout", "add", "127.0.0.1"}, 2, "ip literal"},
		{[]string{"optout", "add", "x.example", "--reason", strings.Repeat("x", 1001)}, 2, "--reason is longer"},
		{[]string{"optout", "remove", "--bogus", "x.example"}, 2, "flag provided but not defined"},
		{[]string{"optout", "list", "extra"}, 2, "unexpected arguments"},
		{[]string{"optout", "list", "--reason", "x"}, 2, "flag provided but not defined"},
		{[]string{"optout", "add", "--help"}, 0, ""}, // the flag package prints to os.Stdout
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), append(tc.args, "--clickhouse", "127.0.0.1:1", "--data", t.TempDir()), &stdout, &stderr)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			require.Contains(t, stdout.String()+stderr.String(), tc.out)
		})
	}
}

func TestSplitInterspersed(t *testing.T) {
	tests := []struct {
		args              []string
		flags, positional []string
	}{
		{nil, nil, nil},
		{[]string{"h.example"}, nil, []string{"h.example"}},
		{[]string{"h.example", "--reason", "r"}, []string{"--reason", "r"}, []string{"h.example"}},
		{[]string{"--reason", "r", "h.example", "--data", "d"}, []string{"--reason", "r", "--data", "d"}, []string{"h.example"}},
		{[]string{"--reason=r", "--", "--not-a-flag"}, []string{"--reason=r", "--"}, []string{"--not-a-flag"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			flags, positional, err := splitInterspersed("add", tc.args)
			require.NoError(t, err)
			require.Equal(t, tc.flags, flags)
			require.Equal(t, tc.positional, positional)
		})
	}
	_, _, err := splitInterspersed("add", []string{"--nope"})
	require.Error(t, err)
}
