package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

func TestCursorRoundTrip(t *testing.T) {
	tests := []cursor{
		{sort: sortUsers, users: 42, host: "a.test"},
		{sort: sortUsers, users: -1, host: "unknown-users.test"},
		{sort: sortUsers, users: 1 << 62, host: "big.test:8443"},
		{sort: sortHost, host: "xn--bcher-kva.example"},
	}
	for _, c := range tests {
		t.Run(c.sort+"/"+c.host, func(t *testing.T) {
			got, err := decodeCursor(encodeCursor(c), c.sort)
			require.NoError(t, err)
			require.Equal(t, c, got)

			other := sortHost
			if c.sort == sortHost {
				other = sortUsers
			}
			_, err = decodeCursor(encodeCursor(c), other)
			require.ErrorIs(t, err, model.ErrBadQuery)
		})
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	for _, raw := range []string{"", "====", "dXNlcnM", "users\x1f1\x1fa"} {
		t.Run(raw, func(t *testing.T) {
			_, err := decodeCursor(raw, sortUsers)
			require.ErrorIs(t, err, model.ErrBadQuery)
		})
	}
}
