package indexbench

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/model"
)

func TestGeneratorDeterministic(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	a, b := NewGenerator(7, end), NewGenerator(7, end)
	langs := map[string]int{}
	for i := range 2000 {
		p := a.Post(i)
		require.Equal(t, p, b.Post(i))
		require.NotEmpty(t, p.URI)
		require.GreaterOrEqual(t, len(p.Text), 50)
		require.LessOrEqual(t, len([]rune(p.Text)), 450)
		require.False(t, p.Created.After(end))
		require.True(t, p.Created.After(end.AddDate(-2, 0, -1)))
		langs[p.Language]++
	}
	require.NotEqual(t, a.Post(1).Text, a.Post(2).Text)
	require.Greater(t, langs["en"], langs["de"])
	require.Len(t, langs, len(Langs))
}

func TestBleveAloneAndIndexer(t *testing.T) {
	g := NewGenerator(1, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	ctx := context.Background()
	res, err := BleveAlone(ctx, filepath.Join(t.TempDir(), "b"), 1500, g.Post)
	require.NoError(t, err)
	require.Equal(t, 1500, res.Docs)
	require.Positive(t, res.DiskBytes)
	require.Positive(t, res.DocsPerSec())

	ix, err := indexer.Open(indexer.Options{})
	require.NoError(t, err)
	defer ix.Close()
	res, err = ThroughIndexer(ctx, ix, 1500, 3, 100, g.Post)
	require.NoError(t, err)
	n, err := ix.Count()
	require.NoError(t, err)
	require.Equal(t, uint64(1500), n)
	r, err := ix.Search(ctx, model.SearchQuery{Q: g.Vocabulary("en")[60]})
	require.NoError(t, err)
	require.NotZero(t, r.Total)
}
