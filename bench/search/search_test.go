package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/indexer/indexbench"
)

func TestQueriesAndConfig(t *testing.T) {
	_, err := parseConfig([]string{"-posts", "10"}, io.Discard)
	require.Error(t, err)
	c, err := parseConfig([]string{"-quick"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 50_000, c.posts)

	gen := indexbench.NewGenerator(1, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	a, b := queries(gen, 50, 1000, 1), queries(gen, 50, 1000, 1)
	require.Equal(t, a, b)
	for _, k := range kindOrder {
		require.Len(t, a[k], 50, k)
	}
	require.True(t, a["faceted"][0].Facets)
	k := kind{Lat: []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}
	require.Equal(t, time.Duration(6), k.pct(0.5))
	require.Equal(t, time.Duration(10), k.pct(0.99))
}
