package chserver

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// helperEnv makes the test binary act as a fedilens that starts a managed
// server, prints its pid and then waits to be killed.
const helperEnv = "CHSERVER_TEST_HELPER_DATADIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		s, err := Start(context.Background(), Options{DataDir: dir})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(s.pid)
		// Busy goroutines make the runtime spread work over several
		// threads, which is what the thread-locked start has to survive.
		for range 4 {
			go func() {
				for {
					time.Sleep(time.Millisecond)
				}
			}()
		}
		select {}
	}
	os.Exit(m.Run())
}

// TestServerStopsWhenOwnerDies kills the owning process with SIGKILL (no
// chance to call Stop) and expects the server to shut down by itself.
func TestServerStopsWhenOwnerDies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err, "helper said %q", line)
	require.True(t, processAlive(pid))

	time.Sleep(200 * time.Millisecond)
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.True(t, waitGone(context.Background(), pid, 15*time.Second), "server %d survived its owner", pid)

	// And the folder is usable again right away.
	s := mustStart(t, dir)
	require.NoError(t, s.Stop(testCtx(t)))
}
