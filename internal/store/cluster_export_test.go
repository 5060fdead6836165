package store

// Test-only access to the cluster mode's planner (cluster_ddl.go).

// ClusterStep is one planned statement: SQL as Schema prints it, Kind
// "ddl", "add-column", "mutation" or "data", and for an added column the
// statement run where it is missing.
type ClusterStep struct {
	SQL, Kind, Add string
}

// ClusterPlan plans stmt for a cluster.
func ClusterPlan(stmt, database, cluster string, replicated bool) ([]ClusterStep, error) {
	steps, err := clusterDDL{cluster: cluster, database: database, replicated: replicated}.plan(stmt)
	if err != nil {
		return nil, err
	}
	kinds := map[stepKind]string{stepDDL: "ddl", stepAddColumn: "add-column", stepMutation: "mutation", stepData: "data"}
	out := make([]ClusterStep, len(steps))
	for i, st := range steps {
		out[i] = ClusterStep{SQL: st.sql, Kind: kinds[st.kind], Add: st.add}
	}
	return out, nil
}

// SchemaStatements is every statement Migrate runs on an empty database,
// in order: the bookkeeping table, then each migration's statements.
func SchemaStatements() []string { return schemaStatements() }

// GlobalIn exposes the IN subquery rewrite.
var GlobalIn = globalIn

// ShardLocalGroupBy exposes the rewrite of shard-local aggregations, with
// the shard columns of the store's own tables.
func ShardLocalGroupBy(query string) string {
	return shardLocalGroupBy(query, shardColumns(schemaStatements()))
}

// ShardColumns is the column each table of the schema is sharded by.
func ShardColumns() map[string]string { return shardColumns(schemaStatements()) }
