package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/fedilens/fedilens/internal/store"
)

// registerCluster adds the flags of the store's cluster mode
// (docs/clickhouse-cluster.md) next to --clickhouse.
func (c *common) registerCluster(fs *flag.FlagSet) {
	fs.StringVar(&c.clickhouseCluster, "clickhouse-cluster", "",
		"name of a ClickHouse cluster (<remote_servers>) to keep every table sharded over, as shard tables and Distributed tables; --clickhouse must be one of its nodes (empty: one server)")
	fs.BoolVar(&c.clickhouseReplicated, "clickhouse-replicated", false,
		"with --clickhouse-cluster: ReplicatedMergeTree shard tables and DDL ON CLUSTER (needs ZooKeeper or ClickHouse Keeper and the {shard} and {replica} macros); off: plain MergeTree shards, no ZooKeeper")
}

// checkCluster refuses cluster flags that cannot work: cluster mode needs
// an existing cluster, never the managed single server.
func (c *common) checkCluster() error {
	switch {
	case c.clickhouseReplicated && c.clickhouseCluster == "":
		return usageErr("--clickhouse-replicated needs --clickhouse-cluster")
	case c.clickhouseCluster != "" && c.clickhouse == "":
		return usageErr("--clickhouse-cluster needs --clickhouse, the address of one of the cluster's nodes (managed mode is one local server)")
	}
	return nil
}

const schemaUsage = `Usage:
  fedilens schema [--clickhouse-cluster NAME [--replicated]] [--clickhouse DSN]

Prints the complete DDL fedilens runs on an empty database, as a script for
clickhouse-client --multiquery: for one server, or with --clickhouse-cluster
for a cluster (shard tables and Distributed tables; --replicated, or
--clickhouse-replicated, for ReplicatedMergeTree and ON CLUSTER). It connects
to nothing; the database is the one of --clickhouse's DSN, or fedilens.
Review it before pointing fedilens at a cluster, or apply it by hand where
fedilens may not run DDL. See docs/clickhouse-cluster.md.

`

// runSchema prints the schema's DDL.
func runSchema(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("schema", flag.ContinueOnError)
	var c common
	c.register(fs)
	replicated := fs.Bool("replicated", false, "same as --clickhouse-replicated")
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprint(stdout, schemaUsage)
			break
		}
	}
	if err := parseFlags(fs, &c, args); err != nil {
		return err
	}
	c.clickhouseReplicated = c.clickhouseReplicated || *replicated
	if c.clickhouseReplicated && c.clickhouseCluster == "" {
		return usageErr("--replicated needs --clickhouse-cluster")
	}
	ddl, err := store.Schema(store.Options{Addr: c.clickhouse, Cluster: c.clickhouseCluster, ClusterReplicated: c.clickhouseReplicated})
	if err != nil {
		return usageErr("%v", err)
	}
	if _, err := fmt.Fprintf(stdout, "-- Printed by fedilens %s (fedilens schema).\n%s", Version, ddl); err != nil {
		return fmt.Errorf("writing the schema: %w", err)
	}
	return nil
}
