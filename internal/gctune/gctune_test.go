package gctune

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		live int64
		o    Options
		want int64
	}{
		{"small heap: the floor", 50 << 20, Options{}, 400 << 20},
		{"large heap: three times live", 500 << 20, Options{}, 1500 << 20},
		{"custom floor and factor", 100 << 20, Options{Floor: 64 << 20, Factor: 2}, 200 << 20},
		{"nothing live", 0, Options{}, 400 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Limit(tc.live, tc.o))
		})
	}
}

// TestStartAndStop: Start sets GOGC and a soft limit, stop restores both.
// Not parallel: it changes process-wide settings.
func TestStartAndStop(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	beforePercent := debug.SetGCPercent(100)
	defer debug.SetGCPercent(beforePercent)
	beforeLimit := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(beforeLimit)

	stop := Start(context.Background(), Options{GCPercent: 150, Floor: 300 << 20, Interval: 10 * time.Millisecond})
	require.Equal(t, 150, debug.SetGCPercent(150))
	require.GreaterOrEqual(t, debug.SetMemoryLimit(-1), int64(300<<20))
	time.Sleep(30 * time.Millisecond) // a few refreshes
	require.GreaterOrEqual(t, debug.SetMemoryLimit(-1), int64(300<<20))
	stop()
	require.Equal(t, 100, debug.SetGCPercent(100))
	require.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1))
}

// TestEnvironmentWins: GOGC and GOMEMLIMIT from the environment are left
// alone.
func TestEnvironmentWins(t *testing.T) {
	t.Setenv("GOGC", "100")
	t.Setenv("GOMEMLIMIT", "1GiB")
	beforePercent := debug.SetGCPercent(100)
	defer debug.SetGCPercent(beforePercent)
	beforeLimit := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(beforeLimit)

	stop := Start(context.Background(), Options{})
	require.Equal(t, 100, debug.SetGCPercent(100))
	require.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1))
	stop()
}
