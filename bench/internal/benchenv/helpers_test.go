package benchenv

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHelpers(t *testing.T) {
	require.Equal(t, "abc123456789 (with uncommitted changes)",
		BuildRevision("bin/fedilens: go1.26\n\tbuild\tvcs.revision=abc1234567890000\n\tbuild\tvcs.modified=true\n"))
	require.Equal(t, "unknown", BuildRevision("bin/fedilens: go1.26\n"))
	require.Equal(t, `go run ./bench/x -out BENCHMARKS.md -work '/tmp/a b' ''`, CommandLine("./bench/x", []string{"-out", "BENCHMARKS.md", "-work", "/tmp/a b", ""}))
	require.Equal(t, []string{"PATH=/bin", "HOME=/root"}, ChildEnv([]string{"PATH=/bin", "FEDILENS_DATA=/x", "HOME=/root"}))
	require.Equal(t, "ab…", Truncate("abcd", 2))
	require.Equal(t, "abcd", Truncate("abcd", 4))

	s, err := ParsePassLine("crawl pass done: 1200 hosts visited, 900 ok, 300 failed, 1300 known, in 12.5s\n")
	require.NoError(t, err)
	require.Equal(t, PassSummary{Visited: 1200, OK: 900, Failed: 300, Known: 1300, Pass: 12500 * time.Millisecond}, s)
	_, err = ParsePassLine("something else")
	require.ErrorIs(t, err, ErrNoPassSummary)
}

func TestParseFlags(t *testing.T) {
	parse := func(args ...string) (CrawlFlags, int, error) {
		var f CrawlFlags
		var quick bool
		n := 0
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.BoolVar(&quick, "quick", false, "")
		fs.IntVar(&n, "n", 100, "")
		f.Register(fs, "logs")
		err := ParseFlags(fs, args, &quick, map[string]string{"n": "5", "workers": "8"})
		if err == nil {
			err = f.Check()
		}
		return f, n, err
	}
	f, n, err := parse()
	require.NoError(t, err)
	require.Equal(t, CrawlFlags{SimSeed: 1, Workers: 256, MaxInFlight: 64}, f)
	require.Equal(t, 100, n)
	f, n, err = parse("-quick", "-n", "7")
	require.NoError(t, err)
	require.Equal(t, []int{7, 8}, []int{n, f.Workers}, "explicit flags win over -quick")
	for _, bad := range [][]string{{"extra"}, {"-workers", "0"}, {"-max-in-flight", "0"}, {"-nope"}} {
		_, _, err := parse(bad...)
		require.Error(t, err, "%v", bad)
	}
}

func TestWorkDirAndPublish(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	named := filepath.Join(t.TempDir(), "a", "b")
	dir, done, err := WorkDir(named, "x-", false, log)
	require.NoError(t, err)
	require.Equal(t, named, dir)
	done()
	require.DirExists(t, named, "a directory the user named is never removed")

	dir, done, err = WorkDir("", "benchenv-test-", false, log)
	require.NoError(t, err)
	require.DirExists(t, dir)
	done()
	require.NoDirExists(t, dir)

	var out bytes.Buffer
	md := filepath.Join(t.TempDir(), "B.md")
	require.NoError(t, Publish(&out, md, "## X", "## X\n\nfigures\n", log))
	require.Equal(t, "## X\n\nfigures\n", out.String())
	b, err := os.ReadFile(md)
	require.NoError(t, err)
	require.Equal(t, "# Benchmarks\n\n## X\n\nfigures\n", string(b))
	require.NoError(t, Publish(io.Discard, "", "## X", "ignored", log))
}
