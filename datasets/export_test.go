package datasets

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// pagedSource serves instances in pages of two (the real store is
// exercised end to end in cmd/fedilens).
type pagedSource struct {
	all  []model.Instance
	fail bool
}

func (s *pagedSource) Instances(_ context.Context, q model.InstanceQuery) (model.InstancePage, error) {
	if s.fail {
		return model.InstancePage{}, errors.New("store down")
	}
	start := 0
	if q.Cursor != "" {
		for i, in := range s.all {
			if in.Host == q.Cursor {
				start = i + 1
			}
		}
	}
	end := min(start+2, len(s.all))
	page := model.InstancePage{Instances: s.all[start:end]}
	if end < len(s.all) {
		page.NextCursor = s.all[end-1].Host
	}
	return page, nil
}

func TestExport(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	src := &pagedSource{}
	for _, h := range []string{"a.example", "b.example", "c.example"} {
		src.all = append(src.all, model.Instance{Snapshot: model.Snapshot{Host: h, Software: "mastodon", Version: "4.3.0", Title: `Quote "and", comma`, UsersTotal: model.Int64(10), CrawledAt: t0}, FirstSeen: t0})
	}
	src.all[2].Flags = []string{"active_above_total", "single_user"}
	dir := t.TempDir()
	man, err := Export(context.Background(), src, Options{Dir: dir, Now: t0, Version: "test"})
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "2026-11-01"), man.Path)
	require.Equal(t, int64(3), man.Tables["instances"])

	f, err := os.Open(filepath.Join(man.Path, "instances.csv.gz"))
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	recs, err := csv.NewReader(gz).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 4)
	require.Equal(t, []string{"active_above_total;single_user", "true"}, recs[3][12:], "flags and verdict")
	require.Equal(t, "host", recs[0][0])
	require.Equal(t, []string{"a.example", "mastodon", "4.3.0", `Quote "and", comma`, "false", "10", "", "", "", "", "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z", "", "false"}, recs[1])

	var pkg struct {
		Resources []struct {
			Name, Path, Hash string
			Schema           struct{ Fields []field }
		}
	}
	b, err := os.ReadFile(filepath.Join(man.Path, "datapackage.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &pkg))
	require.Len(t, pkg.Resources, 1)
	require.Len(t, pkg.Resources[0].Schema.Fields, len(recs[0]))

	// Every file's checksum is right.
	sums, err := os.ReadFile(filepath.Join(man.Path, "SHA256SUMS"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(sums)), "\n")
	require.Len(t, lines, 3)
	for _, l := range lines {
		sum, name, ok := strings.Cut(l, "  ")
		require.True(t, ok)
		data, err := os.ReadFile(filepath.Join(man.Path, name))
		require.NoError(t, err)
		h := sha256.Sum256(data)
		require.Equal(t, hex.EncodeToString(h[:]), sum, name)
	}
	require.Contains(t, pkg.Resources[0].Hash, "sha256:")
}

func TestExportFailureKeepsPrevious(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	src := &pagedSource{all: []model.Instance{{Snapshot: model.Snapshot{Host: "a.example", CrawledAt: t0}}}}
	_, err := Export(context.Background(), src, Options{Dir: dir, Now: t0})
	require.NoError(t, err)
	src.fail = true
	_, err = Export(context.Background(), src, Options{Dir: dir, Now: t0})
	require.ErrorContains(t, err, "store down")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary folder left behind")
	_, err = os.Stat(filepath.Join(dir, "2026-11-01", "instances.csv.gz"))
	require.NoError(t, err, "the previous snapshot is untouched")
}
