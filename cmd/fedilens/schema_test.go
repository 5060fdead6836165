package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/store"
)

func TestSchemaCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		want     []string
		wantNot  []string
		wantErr  string
		sameAsDB string // the output is store.Schema's for this database and cluster options
	}{
		{
			name: "one server", args: []string{"schema"}, sameAsDB: "fedilens",
			want:    []string{"-- Printed by fedilens ", "CREATE DATABASE IF NOT EXISTS fedilens;", "ENGINE = ReplacingMergeTree()"},
			wantNot: []string{"Distributed", "ON CLUSTER"},
		},
		{
			name: "database from the DSN", args: []string{"schema", "--clickhouse", "clickhouse://db.internal:9000/census"}, sameAsDB: "census",
			want: []string{"CREATE DATABASE IF NOT EXISTS census;"},
		},
		{
			name: "cluster without replication", args: []string{"schema", "--clickhouse-cluster", "fl"},
			want:    []string{"-- on every node\nCREATE TABLE IF NOT EXISTS fedilens.snapshots_local (", "ENGINE = Distributed(fl, fedilens, snapshots_local, cityHash64(host))"},
			wantNot: []string{" ON CLUSTER fl", "Replicated"},
		},
		{
			name: "replicated cluster", args: []string{"schema", "--clickhouse-cluster", "fl", "--replicated"},
			want: []string{"CREATE TABLE IF NOT EXISTS fedilens.snapshots_local ON CLUSTER fl (",
				"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/fedilens/snapshots', '{replica}')"},
		},
		{
			name: "replicated from the environment", args: []string{"schema"},
			env:  map[string]string{"FEDILENS_CLICKHOUSE_CLUSTER": "fl", "FEDILENS_CLICKHOUSE_REPLICATED": "true"},
			want: []string{"ON CLUSTER fl"},
		},
		{name: "replicated without a cluster", args: []string{"schema", "--replicated"}, code: 2, wantErr: "--replicated needs --clickhouse-cluster"},
		{name: "bad cluster name", args: []string{"schema", "--clickhouse-cluster", "a b"}, code: 2, wantErr: "invalid cluster name"},
		{name: "help", args: []string{"schema", "--help"}, want: []string{"Usage:\n  fedilens schema", "-clickhouse-cluster"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tc.args, &stdout, &stderr)
			require.Equal(t, tc.code, code, "stderr: %s", stderr.String())
			require.Contains(t, stderr.String(), tc.wantErr)
			for _, w := range tc.want {
				require.Contains(t, stdout.String(), w)
			}
			for _, w := range tc.wantNot {
				require.NotContains(t, stdout.String(), w)
			}
			if tc.sameAsDB != "" {
				ddl, err := store.Schema(store.Options{Database: tc.sameAsDB})
				require.NoError(t, err)
				_, printed, ok := strings.Cut(stdout.String(), "\n")
				require.True(t, ok)
				require.Equal(t, ddl, printed)
			}
		})
	}
}

func TestClusterFlagsNeedAnExistingCluster(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"export", "--clickhouse-cluster", "fl", "--data", t.TempDir()}, "--clickhouse-cluster needs --clickhouse"},
		{[]string{"export", "--clickhouse-replicated", "--clickhouse", "127.0.0.1:1", "--data", t.TempDir()}, "--clickhouse-replicated needs --clickhouse-cluster"},
	} {
		var stdout, stderr bytes.Buffer
		require.Equal(t, 2, Main(context.Background(), tc.args, &stdout, &stderr), stderr.String())
		require.Contains(t, stderr.String(), tc.err)
	}
}
