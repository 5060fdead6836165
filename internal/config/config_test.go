package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func newFS() (*flag.FlagSet, *string, *StringList, *bool) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	data := fs.String("data", "./data", "")
	var seeds StringList
	fs.Var(&seeds, "seed", "")
	once := fs.Bool("once", false, "")
	fs.String("config", "", "")
	return fs, data, &seeds, once
}

func TestApplyPrecedence(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	require.NoError(t, os.WriteFile(good, []byte("data: /from/file\nseed:\n  - https://a.example\n  - https://b.example\nonce: true\n"), 0o600))
	single := filepath.Join(dir, "single.yml")
	require.NoError(t, os.WriteFile(single, []byte("seed: https://c.example\n"), 0o600))

	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		file      string
		wantData  string
		wantSeeds []string
		wantOnce  bool
	}{
		{name: "defaults", wantData: "./data"},
		{name: "file", file: good, wantData: "/from/file", wantSeeds: []string{"https://a.example", "https://b.example"}, wantOnce: true},
		{name: "single string for a list", file: single, wantData: "./data", wantSeeds: []string{"https://c.example"}},
		{name: "env beats file", file: good, env: map[string]string{"FEDILENS_DATA": "/from/env", "FEDILENS_SEED": "https://x.example, https://y.example"},
			wantData: "/from/env", wantSeeds: []string{"https://x.example", "https://y.example"}, wantOnce: true},
		{name: "flag beats env and file", file: good, args: []string{"--data", "/from/flag", "--seed", "https://z.example"},
			env: map[string]string{"FEDILENS_DATA": "/from/env"}, wantData: "/from/flag", wantSeeds: []string{"https://z.example"}, wantOnce: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, data, seeds, once := newFS()
			require.NoError(t, fs.Parse(tc.args))
			require.NoError(t, Apply(fs, tc.file, func(k string) string { return tc.env[k] }))
			require.Equal(t, tc.wantData, *data)
			require.Equal(t, tc.wantSeeds, []string(*seeds))
			require.Equal(t, tc.wantOnce, *once)
		})
	}
}

func TestApplyBadConfigs(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, wantErr string
	}{
		{"unknown key", "dta: x\n", "unknown keys dta"},
		{"config key itself", "config: other.yml\n", "unknown keys config"},
		{"list for scalar", "data: [a, b]\n", "config key data: takes one value"},
		{"bad bool", "once: maybe\n", "config key once"},
		{"not yaml", "data: [\n", "parsing config file"},
		{"map value", "data: {a: b}\n", "unsupported value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".bad.yml")
			require.NoError(t, os.WriteFile(p, []byte(tc.body), 0o600))
			fs, _, _, _ := newFS()
			require.NoError(t, fs.Parse(nil))
			err := Apply(fs, p, func(string) string { return "" })
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.wantErr)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		fs, _, _, _ := newFS()
		require.NoError(t, fs.Parse(nil))
		require.ErrorIs(t, Apply(fs, filepath.Join(dir, "nope.yml"), nil), os.ErrNotExist)
	})
	t.Run("bad env value", func(t *testing.T) {
		fs, _, _, _ := newFS()
		require.NoError(t, fs.Parse(nil))
		err := Apply(fs, "", func(k string) string {
			if k == "FEDILENS_ONCE" {
				return "perhaps"
			}
			return ""
		})
		require.ErrorContains(t, err, "FEDILENS_ONCE")
	})
}

func TestEnvName(t *testing.T) {
	require.Equal(t, "FEDILENS_ALLOW_NET", EnvName("allow-net"))
	require.Equal(t, "FEDILENS_CA_FILE", EnvName("ca-file"))
}
