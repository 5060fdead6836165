package store_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

func TestKnownInstances(t *testing.T) {
	t.Parallel()
	s := explorerStore(t) // a to f have snapshots; e opted out
	ctx := ctxT(t)
	for _, tc := range []struct {
		name  string
		hosts []string
		want  map[string]bool
	}{
		{"none asked", nil, map[string]bool{}},
		{"known, unknown and opted out", []string{"a.example", "x.example", "e.example", "f.example", "a.example", ""},
			map[string]bool{"a.example": true, "f.example": true}},
		{"hostile names are only names", []string{`b.example') OR 1=1 --`, `\'`, "<img src=x>", "b.example"},
			map[string]bool{"b.example": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			known, err := s.KnownInstances(ctx, tc.hosts)
			require.NoError(t, err)
			require.Equal(t, tc.want, known)
		})
	}
	many := strings.Split(strings.Repeat("h.example,", store.MaxKnownInstances), ",") // one name, repeated
	_, err := s.KnownInstances(ctx, many)
	require.NoError(t, err, "duplicates count once")
	many = many[:0]
	for i := range store.MaxKnownInstances + 1 {
		many = append(many, strings.Repeat("x", i%50)+"."+strings.Repeat("y", i/50)+".example")
	}
	_, err = s.KnownInstances(ctx, many)
	require.ErrorIs(t, err, model.ErrBadQuery)
}
