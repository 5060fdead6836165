package benchmd

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReplaceSection(t *testing.T) {
	const sec = "## Census\n\nnew\n"
	tests := []struct {
		name, doc, want string
	}{
		{"append to a file without the section", "# Benchmarks\n", "# Benchmarks\n\n## Census\n\nnew\n"},
		{"replace the last section", "# B\n\n## Census\n\nold\nold\n", "# B\n\n## Census\n\nnew\n"},
		{
			"keep the sections around it",
			"# B\n\n## Index\n\nx\n\n## Census\n\nold\n\n## Census: analysis\n\nkept\n",
			"# B\n\n## Index\n\nx\n\n## Census\n\nnew\n\n## Census: analysis\n\nkept\n",
		},
		{
			"a heading inside a code fence is not the end",
			"## Census\n\n```\n## not a heading\n```\n\n## Next\n",
			"## Census\n\nnew\n\n## Next\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ReplaceSection(tc.doc, "## Census", sec))
		})
	}
}

func TestReplaceSectionKeepsOthers(t *testing.T) {
	doc := "# Benchmarks\n\n## Census\n\nold census\n\n## Search\n\nold search\n```\n## not a heading\n```\n\n## Other\n\nkept\n"
	got := ReplaceSection(doc, "## Search", "## Search\n\nnew\n")
	require.Equal(t, "# Benchmarks\n\n## Census\n\nold census\n\n## Search\n\nnew\n\n## Other\n\nkept\n", got)
	require.Equal(t, "# Benchmarks\n\n## Search\n\nnew\n", ReplaceSection("# Benchmarks\n", "## Search", "## Search\n\nnew"))
}

func TestFormatAndProc(t *testing.T) {
	require.Equal(t, "1,234,567", Thousands(1234567))
	require.Equal(t, "999", Thousands(999))
	require.Equal(t, "-1,000", Thousands(-1000))
	status := []byte("Name:\tfedilens\nVmRSS:\t  2080 kB\nThreads:\t12\n")
	require.Equal(t, int64(2080*1024), ProcKB(status, "VmRSS"))
	require.Equal(t, int64(12), ProcKB(status, "Threads"))
	require.Zero(t, ProcKB(status, "RssFile"))
	require.Equal(t, "23.6 GiB", HumanKiB("24731996 kB"))
}
