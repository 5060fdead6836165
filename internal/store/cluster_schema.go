package store

import (
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Schema returns, as one SQL script for clickhouse-client --multiquery,
// every statement Open runs to create the schema in an empty database
// with opts: on one server, or in cluster mode (Options.Cluster and
// ClusterReplicated) in its sharded form. It reads opts.Database, or the
// database of the DSN in opts.Addr, or DefaultDatabase; it connects to
// nothing. Operators review it before pointing fedilens at a cluster, or
// apply it by hand where fedilens may not run DDL.
//
// After each migration's statements the script records the migration in
// schema_migrations, as Open does, so that fedilens finds the schema
// applied. A migration with a data step written in Go is not recorded:
// fedilens runs it (its statements again, harmlessly, and the step) at
// its first start.
func Schema(opts Options) (string, error) {
	database := opts.Database
	if opts.Addr != "" {
		chOpts, err := clientOptions(opts)
		if err != nil {
			return "", fmt.Errorf("print schema: %w", err)
		}
		database = chOpts.Auth.Database
	}
	if database == "" {
		database = DefaultDatabase
	}
	if !identRE.MatchString(database) {
		return "", fmt.Errorf("print schema: invalid database name %q: use letters, digits and underscores", database)
	}
	var scratch clickhouse.Options
	if err := clusterClientOptions(opts, &scratch); err != nil {
		return "", fmt.Errorf("print schema: %w", err)
	}

	var (
		b       strings.Builder
		ddl     = clusterDDL{cluster: opts.Cluster, database: database, replicated: opts.ClusterReplicated}
		cluster = opts.Cluster != ""
		fanOut  = cluster && !opts.ClusterReplicated
	)
	statement := func(sql string, kind stepKind) {
		if fanOut {
			if kind == stepData {
				b.WriteString("-- once, on any node\n")
			} else {
				b.WriteString("-- on every node\n")
			}
		}
		b.WriteString(strings.TrimSpace(sql))
		b.WriteString(";\n")
	}
	add := func(stmt string) error {
		if !cluster {
			kind := stepDDL
			if steps, err := ddl.plan(stmt); err == nil && len(steps) == 1 && steps[0].kind == stepData {
				kind = stepData
			}
			statement(stmt, kind)
			return nil
		}
		steps, err := ddl.plan(stmt)
		if err != nil {
			return err
		}
		for _, st := range steps {
			statement(st.sql, st.kind)
		}
		return nil
	}

	b.WriteString(schemaHeader(database, opts))
	b.WriteString("\n")
	createDB := "CREATE DATABASE IF NOT EXISTS " + quoteName(database)
	if opts.ClusterReplicated {
		createDB += ddl.onCluster()
	}
	statement(createDB, stepDDL)
	b.WriteString("USE " + quoteName(database) + ";\n")

	b.WriteString("\n-- The migrations bookkeeping: one row per migration applied.\n")
	if err := add(createMigrationsTable); err != nil {
		return "", fmt.Errorf("print schema: schema_migrations: %w", err)
	}
	for _, m := range ordered() {
		fmt.Fprintf(&b, "\n-- Migration %d: %s.\n", m.version, m.name)
		for i, stmt := range m.statements {
			if err := add(stmt); err != nil {
				return "", fmt.Errorf("print schema: migration %d (statement %d): %w", m.version, i+1, err)
			}
		}
		if m.run != nil {
			b.WriteString("-- This migration also runs a data step written in Go (internal/store), so it is not recorded\n" +
				"-- here: fedilens runs it at its first start.\n")
			continue
		}
		statement(fmt.Sprintf("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, %s, now())",
			m.version, quoteString(m.name)), stepData)
	}
	return b.String(), nil
}

// schemaHeader explains the script of Schema.
func schemaHeader(database string, opts Options) string {
	var b strings.Builder
	switch {
	case opts.Cluster == "":
		fmt.Fprintf(&b, "-- fedilens schema: database %s on one ClickHouse server.\n", database)
	case opts.ClusterReplicated:
		fmt.Fprintf(&b, "-- fedilens schema: database %s on cluster %s, replicated: every table T is a\n"+
			"-- ReplicatedMergeTree-family table T_local on every node (ZooKeeper or Keeper path\n"+
			"-- %s/%s/T, replica {replica}) and a Distributed table T over them.\n"+
			"-- Every DDL statement runs ON CLUSTER, through any one node.\n", database, opts.Cluster, ZooKeeperPathPrefix, database)
	default:
		fmt.Fprintf(&b, "-- fedilens schema: database %s on cluster %s, without replication: every table T is a\n"+
			"-- MergeTree-family table T_local on every node and a Distributed table T over them.\n"+
			"-- There is no ON CLUSTER (it needs ZooKeeper or Keeper): run each statement marked\n"+
			"-- \"on every node\" on every node of the cluster, and the others once, on any node.\n", database, opts.Cluster)
	}
	b.WriteString("-- Run with: clickhouse-client --multiquery < schema.sql\n" +
		"-- Every statement is idempotent. fedilens itself runs ADD COLUMN IF NOT EXISTS as a look-up\n" +
		"-- in system.columns and a plain ADD COLUMN where the column is missing, because\n" +
		"-- ClickHouse 18.16 does not know IF NOT EXISTS there: by hand on 18.16, leave those\n" +
		"-- three words out.\n")
	return b.String()
}
