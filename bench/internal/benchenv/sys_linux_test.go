package benchenv

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStatCPU(t *testing.T) {
	// utime 150 and stime 25 ticks; a command name with a space and a ')'.
	const stat = "4242 (clickhouse (srv) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 12 0 100 200 300"
	d, err := StatCPU(stat)
	require.NoError(t, err)
	require.Equal(t, 1750*time.Millisecond, d)
	_, err = StatCPU("4242 no parenthesis")
	require.Error(t, err)
	_, err = StatCPU("4242 (x) S 1 2")
	require.Error(t, err)

	_, err = ProcessCPU(os.Getpid())
	require.NoError(t, err, "this process's own stat must parse")
	n, err := OpenFiles(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, n)
}
