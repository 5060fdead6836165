package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// oldMappingIndex creates an index in dir as a fedilens from before the
// word-pair fields and stored alt text made it, holding posts.
func oldMappingIndex(t *testing.T, dir string, posts []model.Post) {
	t.Helper()
	m, ok := indexer.NewMapping().(*mapping.IndexMappingImpl)
	require.True(t, ok)
	dm := m.TypeMapping["post"]
	for name, p := range dm.Properties {
		switch {
		case name == "phrase" || strings.HasPrefix(name, "phrase_"):
			delete(dm.Properties, name)
		case name == "alt" || strings.HasPrefix(name, "alt_"):
			p.Fields[0].Store = false
		}
	}
	b, err := bleve.New(dir, m)
	require.NoError(t, err)
	require.NoError(t, b.Close())
	ix, err := indexer.Open(indexer.Options{Dir: dir, CompactAfterIdle: -1})
	require.NoError(t, err)
	require.NoError(t, ix.Index(context.Background(), posts))
	require.NoError(t, ix.Close())
}

func TestReindexCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := t.TempDir()
	dir := filepath.Join(data, "index")
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), append(args, "--data", data, "--log-level", "warn"), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	var posts []model.Post
	var uris []string
	for i := range 40 {
		p := model.Post{URI: fmt.Sprintf("https://a.test/p/%02d", i), Host: "a.test", Author: "ann@a.test", Language: "en",
			Text: fmt.Sprintf("the night train %d", i), AltText: "a zeppelin", Created: t0.Add(time.Duration(i) * time.Minute)}
		posts, uris = append(posts, p), append(uris, p.URI)
	}
	oldMappingIndex(t, dir, posts)

	code, out, errOut := run("reindex", "--check")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, out, "search index "+dir+": 40 posts")
	require.Contains(t, out, "  - word-pair phrase fields")
	require.Contains(t, out, "  - stored alt text")
	require.NotContains(t, out, "sort key")
	require.Contains(t, out, "--reset-post-cursors")
	require.Contains(t, errOut, "needs a rebuild")

	// A running fedilens holds the index: refused, nothing changes.
	held, err := indexer.Open(indexer.Options{Dir: dir, CompactAfterIdle: -1})
	require.NoError(t, err)
	code, out, errOut = run("reindex")
	require.Equal(t, 1, code, out)
	require.Contains(t, errOut, "the index is in use by a running fedilens; stop it first")
	require.NoError(t, held.Close())
	entries, err := os.ReadDir(data)
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing beside the index")

	code, out, errOut = run("reindex")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "rebuilt "+dir+" with the current mapping: 40 posts in ")
	require.Regexp(t, `the old index is kept in `+regexp.QuoteMeta(dir)+`\.old-\d{8}T\d{6}Z`, out)
	require.Contains(t, out, "the old index did not store alt text")
	require.Contains(t, out, "fedilens reindex --reset-post-cursors")
	code, out, errOut = run("reindex", "--check")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "no rebuild needed")

	ix, err := indexer.Open(indexer.Options{Dir: dir, CompactAfterIdle: -1})
	require.NoError(t, err)
	require.True(t, ix.Features().Current)
	got, err := ix.AllURIs(ctx)
	require.NoError(t, err)
	require.Equal(t, uris, got)
	require.NoError(t, ix.Close())

	// With --reset-post-cursors: rebuilt again (up to date, so nothing
	// lost), and the cursors are gone.
	dsn := freshDSN(t)
	st, err := store.Open(ctx, store.Options{Addr: dsn})
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.UpsertPostCursors(ctx, []model.PostCursor{
		{Host: "a.test", Account: "ann@a.test", Source: model.SourceMastodon, Cursor: "9"},
		{Host: "a.test", Source: model.SourceMastodon, Cursor: "timeline:9"},
	}))
	code, out, errOut = run("reindex", "--reset-post-cursors", "--clickhouse", dsn)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "40 posts")
	require.NotContains(t, out, "did not store")
	require.Contains(t, out, "cleared 2 post cursors")
	hosts, err := st.PostCursorHosts(ctx)
	require.NoError(t, err)
	require.Empty(t, hosts)
	old, err := filepath.Glob(filepath.Join(data, "index.old-*"))
	require.NoError(t, err)
	require.Len(t, old, 2, "each rebuild keeps its old index")
}

func TestReindexCommandUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"reindex", "--help"}, 0, "fedilens reindex --check"},
		{[]string{"reindex", "--check", "--reset-post-cursors"}, 2, "does not go with --reset-post-cursors"},
		{[]string{"reindex", "now"}, 2, "unexpected arguments"},
		{[]string{"reindex", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"reindex", "--check"}, 1, "no search index in"},
		{[]string{"reindex"}, 1, "no search index in"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			data := t.TempDir()
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), append(tc.args, "--clickhouse", "127.0.0.1:1", "--data", data), &stdout, &stderr)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			require.Contains(t, stdout.String()+stderr.String(), tc.out)
			entries, err := os.ReadDir(data)
			require.NoError(t, err)
			require.Empty(t, entries, "no index is created")
		})
	}
}
