package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

func TestForgetCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := freshDSN(t)
	data := t.TempDir()
	flags := []string{"--clickhouse", dsn, "--data", data, "--log-level", "warn"}
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), append(args, flags...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	st, err := store.Open(ctx, store.Options{Addr: dsn})
	require.NoError(t, err)
	defer st.Close()
	openIx := func() *indexer.Index {
		ix, err := indexer.Open(indexer.Options{Dir: filepath.Join(data, "index")})
		require.NoError(t, err)
		return ix
	}
	now := time.Now().UTC()
	posts := []model.Post{
		{URI: "https://a.test/1", Host: "a.test", Author: "ann@a.test", Created: now, Text: "one"},
		{URI: "https://a.test/2", Host: "a.test", Author: "ann@a.test", Created: now, Text: "two"},
		{URI: "https://a.test/3", Host: "a.test", Author: "bob@a.test", Created: now, Text: "three"},
		{URI: "https://b.test/1", Host: "b.test", Author: "cy@b.test", Created: now, Text: "four"},
	}
	ix := openIx()
	require.NoError(t, ix.Index(ctx, posts))
	require.NoError(t, st.InsertPosts(ctx, posts))
	stored := func() (inStore, inIndex []string) {
		t.Helper()
		inStore, err := st.PostURIs(ctx)
		require.NoError(t, err)
		ix := openIx()
		defer ix.Close()
		inIndex, err = ix.AllURIs(ctx)
		require.NoError(t, err)
		return inStore, inIndex
	}

	// While another fedilens holds the index, the command points to the API.
	code, _, errOut := run("forget", "acct:ann@a.test")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "admin API")
	require.Contains(t, errOut, "locked")
	require.NoError(t, ix.Close())
	forgotten, err := st.ForgottenAuthors(ctx)
	require.NoError(t, err)
	require.Empty(t, forgotten, "nothing recorded when the index could not be opened")

	code, out, errOut := run("forget", "acct:Ann@A.test")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "forgot acct:ann@a.test: 2 posts removed from the search index, 2 from ClickHouse; "+
		"their posts are not stored again (undo: fedilens forget --undo acct:ann@a.test)\n", out)
	inStore, inIndex := stored()
	require.Equal(t, []string{"https://a.test/3", "https://b.test/1"}, inStore)
	require.Equal(t, inStore, inIndex)
	forgotten, err = st.ForgottenAuthors(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{st.AuthorKey("ann@a.test"): true}, forgotten)

	// The target may follow the flags.
	var stdout, stderr bytes.Buffer
	code = Main(context.Background(), append([]string{"forget"}, append(flags, "B.test")...), &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	require.Contains(t, stdout.String(), "forgot b.test: 1 posts removed from the search index, 1 from ClickHouse; the instance is on the opt-out list")
	inStore, inIndex = stored()
	require.Equal(t, []string{"https://a.test/3"}, inStore)
	require.Equal(t, inStore, inIndex)
	optouts, err := st.OptOuts(ctx)
	require.NoError(t, err)
	require.Len(t, optouts, 1)
	require.Equal(t, "b.test", optouts[0].Host)
	require.Equal(t, store.ReasonForgotten, optouts[0].Reason)

	// Undo.
	code, out, errOut = run("forget", "--undo", "acct:ann@a.test")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "no longer forgotten: acct:ann@a.test")
	forgotten, err = st.ForgottenAuthors(ctx)
	require.NoError(t, err)
	require.Empty(t, forgotten)
	code, _, errOut = run("forget", "--undo", "acct:ann@a.test")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "acct:ann@a.test is not forgotten")
	code, _, errOut = run("forget", "b.test", "--undo")
	require.Equal(t, 0, code, errOut)
	optouts, err = st.OptOuts(ctx)
	require.NoError(t, err)
	require.Empty(t, optouts)
}

func TestForgetCommandUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"forget"}, 2, "exactly one"},
		{[]string{"forget", "a.test", "b.test"}, 2, "exactly one"},
		{[]string{"forget", "--help"}, 0, "fedilens forget acct:user@host"},
		{[]string{"forget", "acct:"}, 2, "invalid forget target"},
		{[]string{"forget", "@ann"}, 2, "acct:user@host"},
		{[]string{"forget", "bad host"}, 2, "invalid forget target"},
		{[]string{"forget", "--bogus", "a.test"}, 2, "flag provided but not defined"},
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
