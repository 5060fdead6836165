package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDenyFlagsFromEverywhere: --deny and --deny-file work from the
// command line, the environment and the YAML file, like every flag.
func TestDenyFlagsFromEverywhere(t *testing.T) {
	dir := t.TempDir()
	denyFile := filepath.Join(dir, "deny.txt")
	require.NoError(t, os.WriteFile(denyFile, []byte("# listed in a file\nfile.example\n"), 0o600))
	cfg := filepath.Join(dir, "fedilens.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("deny:\n  - yaml.example\n  - '*.wild.example'\ndeny-file: "+denyFile+"\n"), 0o600))

	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		denied []string
		open   []string
	}{
		{
			name:   "yaml",
			args:   []string{"--config", cfg},
			denied: []string{"yaml.example", "a.wild.example", "wild.example", "file.example"},
			open:   []string{"other.example"},
		},
		{
			name:   "environment wins over the file",
			args:   []string{"--config", cfg},
			env:    map[string]string{"FEDILENS_DENY": "env.example, .envwild.example"},
			denied: []string{"env.example", "x.envwild.example", "file.example"},
			open:   []string{"yaml.example"},
		},
		{
			name:   "command line",
			args:   []string{"--deny", "cli.example", "--deny", "*.cliwild.example"},
			denied: []string{"cli.example", "a.b.cliwild.example"},
			open:   []string{"file.example"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			var c common
			c.register(fs)
			require.NoError(t, parseFlags(fs, &c, tc.args))
			d, err := c.denylist()
			require.NoError(t, err)
			for _, h := range tc.denied {
				_, denied := d.Match(h)
				require.True(t, denied, h)
			}
			for _, h := range tc.open {
				_, denied := d.Match(h)
				require.False(t, denied, h)
			}
		})
	}

	for _, args := range [][]string{
		{"--deny", "1.2.3.4"},
		{"--deny-file", filepath.Join(dir, "missing.txt")},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		var c common
		c.register(fs)
		require.NoError(t, parseFlags(fs, &c, args))
		_, err := c.denylist()
		require.True(t, errors.As(err, new(usageError)), "%v is a usage error", err)
	}
}
