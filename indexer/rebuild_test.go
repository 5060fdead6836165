package indexer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// withoutPairs is NewMapping before the word-pair fields.
func withoutPairs(dm *mapping.DocumentMapping) {
	for _, fam := range pairFamilies {
		delete(dm.Properties, fieldOf(fieldPhrase, fam))
	}
}

// firstMapping is NewMapping as the first indexes had it: no word pairs,
// no sort key (the creation time had the doc values), no day number, no
// HTML, alt text indexed but not stored.
func firstMapping(dm *mapping.DocumentMapping) {
	withoutPairs(dm)
	delete(dm.Properties, fieldSortKey)
	delete(dm.Properties, fieldHTML)
	delete(dm.Properties, fieldDay)
	dm.Properties[fieldCreated].Fields[0].DocValues = true
	for _, fam := range familyNames {
		dm.Properties[fieldOf(fieldAlt, fam)].Fields[0].Store = false
	}
}

// oldIndex creates an index in dir with NewMapping changed by strip (nil:
// the current mapping), as an older fedilens made it, and writes posts
// into it through the normal writer.
func oldIndex(t *testing.T, dir string, strip func(*mapping.DocumentMapping), posts []model.Post) {
	t.Helper()
	if strip != nil {
		m, ok := NewMapping().(*mapping.IndexMappingImpl)
		require.True(t, ok)
		strip(m.TypeMapping[docType])
		b, err := bleve.New(dir, m)
		require.NoError(t, err)
		require.NoError(t, b.Close())
	}
	ix, err := Open(Options{Dir: dir, CompactAfterIdle: -1})
	require.NoError(t, err)
	require.NoError(t, ix.Index(context.Background(), posts))
	require.NoError(t, ix.Close())
}

// rebuildPosts are posts in several languages with every stored field,
// some with the phrase "night train" and some with words only in their
// alt text.
func rebuildPosts(n int) []model.Post {
	t0 := time.Date(2026, 2, 3, 4, 5, 6, 789000000, time.UTC)
	langs := []string{"en", "de", "fr", "ja", "", "eo"}
	texts := []string{"the night train to Vienna", "train at night", "Nachtzug nach Wien", "le train de nuit", "夜行列車が好き", "nokta trajno"}
	out := make([]model.Post, 0, n)
	for i := range n {
		p := model.Post{
			URI: fmt.Sprintf("https://h%d.example/p/%04d", i%3, i), URL: fmt.Sprintf("https://h%d.example/@a/%d", i%3, i),
			Host: fmt.Sprintf("h%d.example", i%3), Author: fmt.Sprintf("a%d@h%d.example", i%7, i%3), AuthorName: fmt.Sprintf("A %d", i%7),
			Created: t0.Add(time.Duration(i) * time.Hour), Language: langs[i%len(langs)], Text: fmt.Sprintf("%s %d", texts[i%len(texts)], i),
			HTML: fmt.Sprintf("<p>%s</p>", texts[i%len(texts)]), Kind: "note", Sensitive: i%5 == 0,
		}
		if i%4 == 0 {
			p.Tags = []string{"trains", fmt.Sprintf("t%d", i%3)}
		}
		if i%3 == 0 {
			p.Summary = "travel"
		}
		if i%2 == 0 {
			p.AltText = "a zeppelin over the station"
		}
		out = append(out, p)
	}
	return out
}

func dumpAll(t *testing.T, dir string) []model.Post {
	t.Helper()
	ix, err := Open(Options{Dir: dir, CompactAfterIdle: -1})
	require.NoError(t, err)
	defer ix.Close()
	var out []model.Post
	require.NoError(t, ix.Dump(t.Context(), func(p model.Post) error {
		out = append(out, p)
		return nil
	}))
	return out
}

// searchURIs returns every URI matching q, and the total.
func searchURIs(t *testing.T, ix *Index, q string) []string {
	t.Helper()
	r, err := ix.Search(t.Context(), model.SearchQuery{Q: q, Limit: MaxLimit, Sort: model.SortNewest})
	require.NoError(t, err, q)
	require.LessOrEqual(t, r.Total, uint64(MaxLimit), "one page holds every match")
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.URI)
	}
	return out
}

// siblingNames lists the directories beside dir that start with its name.
func siblingNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestReindex rebuilds indexes of each former mapping: the new index has
// the current mapping (phrases through the word pairs), exactly the old
// one's posts as Dump reads them, the old one is kept as DIR.old-STAMP,
// an unfinished DIR.reindex-* is removed.
func TestReindex(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	all := Features{Current: true, WordPairs: true, SortKey: true, DayNumber: true, StoredAltText: true, StoredHTML: true}
	tests := []struct {
		name          string
		strip         func(*mapping.DocumentMapping)
		before        Features
		unrecoverable []string
	}{
		{"before the word pairs", withoutPairs,
			Features{SortKey: true, DayNumber: true, StoredAltText: true, StoredHTML: true}, nil},
		{"the first mapping", firstMapping, Features{}, []string{"alt text", "post HTML"}},
		{"current: rebuilt all the same", nil, all, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "index")
			posts := rebuildPosts(120)
			oldIndex(t, dir, tc.strip, posts)
			before := dumpAll(t, dir)
			require.Len(t, before, len(posts))
			leftover := dir + reindexInfix + "20250101T000000Z"
			require.NoError(t, os.MkdirAll(filepath.Join(leftover, "store"), 0o750))
			require.NoError(t, os.WriteFile(filepath.Join(leftover, "store", "half.zap"), []byte("x"), 0o600))

			var logs bytes.Buffer
			res, err := Reindex(t.Context(), dir, ReindexOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				BatchSize: 40, ProgressEvery: 100, Now: func() time.Time { return now }})
			require.NoError(t, err)
			require.Equal(t, tc.before, res.Before)
			require.Equal(t, tc.unrecoverable, res.Before.Unrecoverable())
			require.Equal(t, tc.before == all, len(res.Before.Missing()) == 0, res.Before.Missing())
			require.Equal(t, len(posts), res.Posts)
			require.Equal(t, []string{leftover}, res.Removed)
			require.Equal(t, dir+".old-20260506T070809Z", res.OldDir)
			require.Positive(t, res.OldBytes)
			require.Positive(t, res.NewBytes)
			require.Empty(t, res.Finished)
			require.ElementsMatch(t, []string{"index", "index.old-20260506T070809Z"}, siblingNames(t, dir), "no .reindex-* left")
			require.Contains(t, logs.String(), "posts=120 of=120", "progress every 100 posts")
			require.Contains(t, logs.String(), "search index rebuilt")

			// The same documents, as the old index kept them.
			require.Equal(t, before, dumpAll(t, dir))
			require.Equal(t, before, dumpAll(t, res.OldDir), "the old index is kept as it was")
			byURI := map[string]model.Post{}
			for _, p := range posts {
				byURI[p.URI] = p
			}
			for _, p := range dumpAll(t, dir) {
				want := byURI[p.URI]
				for _, lost := range tc.unrecoverable {
					switch lost {
					case "alt text":
						want.AltText = ""
					case "post HTML":
						want.HTML = ""
					}
				}
				require.Equal(t, want, p)
			}

			ix, err := Open(Options{Dir: dir, CompactAfterIdle: -1})
			require.NoError(t, err)
			defer ix.Close()
			require.Equal(t, all, ix.Features())
			require.Equal(t, 1, ix.Segments(), "compacted: %s", logs.String())
			_, viaPairs := ix.phraseQuery("night train", "en", 1, true).(*query.ConjunctionQuery)
			require.True(t, viaPairs, "phrases go through the word pairs")
			old, err := Open(Options{Dir: res.OldDir, CompactAfterIdle: -1})
			require.NoError(t, err)
			defer old.Close()
			require.Equal(t, tc.before.WordPairs, old.hasPairs)
			for _, q := range []string{`"night train"`, `"train de nuit"`, `Nachtzug`, `#trains`, `"nokta trajno"`} {
				got := searchURIs(t, ix, q)
				require.NotEmpty(t, got, q)
				require.Equal(t, searchURIs(t, old, q), got, q)
			}
			zeppelin := searchURIs(t, ix, "zeppelin")
			if tc.before.StoredAltText {
				require.Len(t, zeppelin, len(posts)/2, "alt text carried over")
			} else {
				require.Empty(t, zeppelin, "alt text that was never stored is gone")
				require.Len(t, searchURIs(t, old, "zeppelin"), len(posts)/2)
			}
		})
	}
}

// TestReindexLeavesOldIndexOnFailure: a running fedilens holding the
// index, a rebuild that lost a post and a cancelled context all fail
// with the old index untouched in place and nothing left beside it.
func TestReindexLeavesOldIndexOnFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hold    bool
		cancel  bool
		lose    bool
		wantErr error
	}{
		{name: "held by a running fedilens", hold: true, wantErr: ErrLocked},
		{name: "a post lost", lose: true, wantErr: ErrRebuildMismatch},
		{name: "cancelled", cancel: true, wantErr: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "index")
			posts := rebuildPosts(60)
			oldIndex(t, dir, withoutPairs, posts)
			before := dumpAll(t, dir)
			if tc.hold {
				ix, err := Open(Options{Dir: dir, CompactAfterIdle: -1})
				require.NoError(t, err)
				defer ix.Close()
			}
			ctx, cancel := context.WithCancel(t.Context())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			opts := ReindexOptions{LockTimeout: 100 * time.Millisecond, BatchSize: 25}
			if tc.lose {
				opts.afterWrite = func(dst *Index) error { return dst.Delete(t.Context(), []string{posts[7].URI}) }
			}
			t0 := time.Now()
			_, err := Reindex(ctx, dir, opts)
			require.ErrorIs(t, err, tc.wantErr)
			if tc.lose {
				require.ErrorContains(t, err, `60 posts in the old index, 59 in the new one; 1 missing (first: "`+posts[7].URI+`"), 0 extra`)
			}
			if tc.hold {
				require.Less(t, time.Since(t0), 2*time.Second, "the short lock timeout")
				return // the holder keeps the index
			}
			require.Equal(t, []string{"index"}, siblingNames(t, dir))
			require.Equal(t, before, dumpAll(t, dir))
		})
	}
}

// TestReindexRecovers: a crash between the two renames left the complete
// new index beside the old one and nothing in place; the next Reindex
// moves it into place first. An unfinished rebuild alone is no index.
func TestReindexRecovers(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "index")
	posts := rebuildPosts(30)
	oldIndex(t, dir+".old-20260101T000000Z", withoutPairs, posts[:10])
	oldIndex(t, dir+".reindex-20260101T000000Z", nil, posts)
	require.NoError(t, os.MkdirAll(dir+".reindex-20251231T000000Z", 0o750), "an older unfinished one")

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // the same second: a suffix
	res, err := Reindex(t.Context(), dir, ReindexOptions{Now: func() time.Time { return now }})
	require.NoError(t, err)
	require.Equal(t, dir+".reindex-20260101T000000Z", res.Finished)
	require.Equal(t, []string{dir + ".reindex-20251231T000000Z"}, res.Removed)
	require.Equal(t, dir+".old-20260101T000000Z-2", res.OldDir)
	require.Equal(t, 30, res.Posts, "the finished new index was rebuilt")
	require.ElementsMatch(t, []string{"index", "index.old-20260101T000000Z", "index.old-20260101T000000Z-2"}, siblingNames(t, dir))
	require.Len(t, dumpAll(t, dir+".old-20260101T000000Z"), 10, "the first old index is kept")

	// Any command that opens the index finishes the swap too, instead
	// of creating an empty index.
	opened := filepath.Join(t.TempDir(), "index")
	oldIndex(t, opened+".old-20260101T000000Z", withoutPairs, posts[:10])
	oldIndex(t, opened+".reindex-20260101T000000Z", nil, posts)
	ix, err := Open(Options{Dir: opened, CompactAfterIdle: -1})
	require.NoError(t, err)
	n, err := ix.Count()
	require.NoError(t, err)
	require.Equal(t, uint64(len(posts)), n)
	require.NoError(t, ix.Close())
	require.ElementsMatch(t, []string{"index", "index.old-20260101T000000Z"}, siblingNames(t, opened))

	other := filepath.Join(t.TempDir(), "index")
	require.NoError(t, os.MkdirAll(other+".reindex-20260101T000000Z", 0o750))
	_, err = Reindex(t.Context(), other, ReindexOptions{})
	require.ErrorIs(t, err, ErrNoIndex)
	_, err = os.Stat(other)
	require.True(t, errors.Is(err, os.ErrNotExist), "no index is created")
}

func TestInspect(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "index")
	_, err := Inspect(Options{Dir: dir})
	require.ErrorIs(t, err, ErrNoIndex)
	oldIndex(t, dir, firstMapping, rebuildPosts(12))
	in, err := Inspect(Options{Dir: dir})
	require.NoError(t, err)
	require.Equal(t, Features{}, in.Features)
	require.Equal(t, uint64(12), in.Posts)
	require.Positive(t, in.Bytes)
	require.Len(t, in.Features.Missing(), 5)

	ix, err := Open(Options{Dir: dir, CompactAfterIdle: -1})
	require.NoError(t, err)
	defer ix.Close()
	_, err = Inspect(Options{Dir: dir, LockTimeout: 50 * time.Millisecond})
	require.ErrorIs(t, err, ErrLocked)
}

func TestFeaturesMissing(t *testing.T) {
	require.Empty(t, Features{Current: true, WordPairs: true, SortKey: true, DayNumber: true, StoredAltText: true, StoredHTML: true}.Missing())
	other := Features{WordPairs: true, SortKey: true, DayNumber: true, StoredAltText: true, StoredHTML: true}
	require.Equal(t, []string{"the current mapping (the index was made by another version of fedilens)"}, other.Missing())
	require.Empty(t, other.Unrecoverable())
	m, ok := NewMapping().(*mapping.IndexMappingImpl)
	require.True(t, ok)
	m.TypeMapping[docType].Properties[fieldURL].Fields[0].Store = false
	require.Equal(t, other, mappingFeatures(m), "any other difference is not current")
}

func TestRebuildIntoNonEmptyIndex(t *testing.T) {
	t.Parallel()
	src := indexPosts(t, post("a", "en", "one"))
	dst := indexPosts(t, post("b", "en", "two"))
	_, err := Rebuild(t.Context(), src, dst, RebuildOptions{})
	require.ErrorContains(t, err, "the new index already holds 1 posts")
}

func TestSortedDiff(t *testing.T) {
	tests := []struct {
		a, b, onlyA, onlyB []string
	}{
		{nil, nil, nil, nil},
		{[]string{"a", "b"}, []string{"a", "b"}, nil, nil},
		{[]string{"a", "b", "d"}, []string{"b", "c"}, []string{"a", "d"}, []string{"c"}},
		{nil, []string{"x"}, nil, []string{"x"}},
		{[]string{"x"}, nil, []string{"x"}, nil},
	}
	for _, tc := range tests {
		onlyA, onlyB := sortedDiff(tc.a, tc.b)
		require.Equal(t, tc.onlyA, onlyA, "%v %v", tc.a, tc.b)
		require.Equal(t, tc.onlyB, onlyB, "%v %v", tc.a, tc.b)
	}
}
