package store

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrClusterUnsupported marks a statement that cluster mode cannot carry
// out: a DDL statement it does not know how to turn into its sharded form
// (CREATE VIEW, RENAME, a table engine outside the MergeTree family...).
// Such a migration fails loudly in cluster mode instead of creating a
// table that only one node has.
var ErrClusterUnsupported = errors.New("statement not supported in cluster mode")

// clusterNameRE is what Options.Cluster accepts: the names of
// <remote_servers> entries, which are XML element names.
var clusterNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,127}$`)

// LocalSuffix is appended to a table's name for the shard-local table
// behind its Distributed table in cluster mode: snapshots is the
// Distributed table, snapshots_local holds each shard's rows.
const LocalSuffix = "_local"

// ZooKeeperPathPrefix is where the ReplicatedMergeTree tables of the
// replicated cluster mode keep their metadata in ZooKeeper or Keeper:
// PREFIX/{shard}/DATABASE/TABLE, with the {shard} and {replica} macros of
// each server's configuration.
const ZooKeeperPathPrefix = "/clickhouse/tables/{shard}"

// shardKeys are the sharding keys chosen by hand, where the general rule
// (shardingKey) would be worse. hosts.id is cityHash64(host) already
// (internal/hostid), so hosts rows sit on the shard of their host's
// snapshots, states and link events.
var shardKeys = map[string]string{
	"hosts": "id",
}

// shardingKey is the Distributed sharding key of table, whose sorting key
// (ORDER BY) has the elements orderBy.
//
// The key must be a function of the sorting key: ReplacingMergeTree
// collapses the rows of one sorting key only within one shard, and
// SELECT ... FINAL only collapses what one shard holds, so two versions
// of a row must land on the same shard. Within that, the host wins:
//   - a sorting key with host: cityHash64(host), so all of a host's rows
//     (its snapshots, state, latest row, daily rows, cursors, authors) are
//     on one shard, per-host reads touch one shard's data, and argMax,
//     LIMIT 1 BY host and FINAL per host stay exact;
//   - with host_id (the link events): host_id itself, which equals
//     cityHash64(host), so a host's links sit with its snapshots;
//   - otherwise cityHash64 of the first element (posts by uri, the small
//     bookkeeping tables), or rand() for a table without a sorting key.
//
// Tables other engineers add later follow the same rule unchanged.
func shardingKey(table string, orderBy []string) string {
	if k, ok := shardKeys[table]; ok {
		return k
	}
	for _, e := range orderBy {
		if e == "host" || e == "`host`" {
			return "cityHash64(host)"
		}
	}
	for _, e := range orderBy {
		if e == "host_id" || e == "`host_id`" {
			return "host_id"
		}
	}
	if len(orderBy) > 0 && orderBy[0] != "tuple()" && orderBy[0] != "" {
		return "cityHash64(" + orderBy[0] + ")"
	}
	return "rand()"
}

// clusterDDL turns the single-server statements of the migrations (and
// the few DDL statements the store issues at run time) into their cluster
// form. It is pure: Schema prints its output, clusterConn runs it.
type clusterDDL struct {
	cluster    string
	database   string
	replicated bool
}

// stepKind says how clusterConn carries out a step.
type stepKind int

const (
	// stepDDL runs on every node: ON CLUSTER once through the connected
	// node (replicated), or on each node in turn.
	stepDDL stepKind = iota
	// stepAddColumn adds a column on the nodes that lack it (18.16 has
	// no ADD COLUMN IF NOT EXISTS, and a half-done earlier attempt may
	// have added it on some nodes only).
	stepAddColumn
	// stepMutation is a stepDDL that rewrites data (ALTER ... DELETE or
	// UPDATE); it is waited for on every node, as the store's callers
	// expect a mutation to be done when it returns.
	stepMutation
	// stepData is not DDL: an INSERT, SELECT or anything else, run once
	// through the connected node's Distributed tables.
	stepData
)

// clusterStep is one statement of a plan.
type clusterStep struct {
	kind stepKind
	// sql is the statement as printed by Schema and run by stepDDL,
	// stepMutation and stepData.
	sql string
	// table is the (qualified-free) table a stepAddColumn or stepMutation
	// changes; column and add are the column and the statement that adds
	// it without IF NOT EXISTS.
	table, column, add string
}

func (d clusterDDL) onCluster() string {
	if !d.replicated {
		return ""
	}
	return " ON CLUSTER " + quoteName(d.cluster)
}

// qualified is database.table, each quoted only where it must be.
func (d clusterDDL) qualified(table string) string {
	return quoteName(d.database) + "." + quoteName(table)
}

// quoteName writes an identifier bare when it is a plain one, else in
// backquotes.
func quoteName(name string) string {
	if identRE.MatchString(name) {
		return name
	}
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(name) + "`"
}

// ddlVerbs are the statements that change the schema: a statement that
// starts with one of them is planned, anything else is data (stepData).
var ddlVerbs = []string{"CREATE", "ALTER", "DROP", "TRUNCATE", "OPTIMIZE", "RENAME", "ATTACH", "DETACH", "EXCHANGE"}

// plan returns the steps that carry out stmt on the cluster.
func (d clusterDDL) plan(stmt string) ([]clusterStep, error) {
	toks, err := lexSQL(stmt)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrClusterUnsupported, err)
	}
	for len(toks) > 0 && toks[len(toks)-1].sym(';') {
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 {
		return nil, nil
	}
	ddl := false
	for _, v := range ddlVerbs {
		if toks[0].is(v) {
			ddl = true
		}
	}
	if !ddl {
		return []clusterStep{{kind: stepData, sql: globalIn(strings.TrimSpace(stmt))}}, nil
	}
	switch {
	case toks[0].is("CREATE") && len(toks) > 1 && toks[1].is("TABLE"):
		return d.planCreate(stmt, toks)
	case toks[0].is("ALTER") && len(toks) > 1 && toks[1].is("TABLE"):
		return d.planAlter(stmt, toks)
	case (toks[0].is("TRUNCATE") || toks[0].is("DROP")) && len(toks) > 1 && toks[1].is("TABLE"):
		return d.planDropOrTruncate(stmt, toks)
	case toks[0].is("OPTIMIZE") && len(toks) > 1 && toks[1].is("TABLE"):
		name, next, err := tableName(stmt, toks, 2)
		if err != nil {
			return nil, err
		}
		rest := strings.TrimSpace(stmt[tokEnd(toks, next-1):])
		sql := "OPTIMIZE TABLE " + d.qualified(name+LocalSuffix) + d.onCluster()
		if rest != "" {
			sql += " " + rest
		}
		return []clusterStep{{kind: stepDDL, sql: sql}}, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrClusterUnsupported, abbreviate(stmt))
}

// tokEnd is the byte offset after toks[i] (0 before the first token).
func tokEnd(toks []sqlToken, i int) int {
	if i < 0 {
		return 0
	}
	return toks[i].end
}

// tableName reads the table name at toks[i]: a name, never qualified with
// a database (the statements of the store name tables only, and cluster
// mode qualifies them itself). It returns the index after it.
func tableName(stmt string, toks []sqlToken, i int) (string, int, error) {
	if i >= len(toks) || (toks[i].kind != tokWord && toks[i].kind != tokIdent) {
		return "", 0, fmt.Errorf("%w: no table name in %s", ErrClusterUnsupported, abbreviate(stmt))
	}
	if i+1 < len(toks) && toks[i+1].sym('.') {
		return "", 0, fmt.Errorf("%w: a table qualified with a database in %s", ErrClusterUnsupported, abbreviate(stmt))
	}
	if i+1 < len(toks) && toks[i+1].is("ON") {
		return "", 0, fmt.Errorf("%w: ON CLUSTER already in %s", ErrClusterUnsupported, abbreviate(stmt))
	}
	return toks[i].name(), i + 1, nil
}

// mergeTreeEngines are the engines cluster mode shards: the MergeTree
// family, each with a Replicated twin.
var mergeTreeEngines = map[string]bool{
	"MergeTree": true, "ReplacingMergeTree": true, "SummingMergeTree": true, "AggregatingMergeTree": true,
	"CollapsingMergeTree": true, "VersionedCollapsingMergeTree": true, "GraphiteMergeTree": true,
}

// createTable is a parsed CREATE TABLE of the store's migrations.
type createTable struct {
	name    string
	columns string   // the column list, with its parentheses, as written
	engine  string   // a MergeTree-family engine
	args    string   // the engine's arguments, as written
	clauses string   // PARTITION BY, ORDER BY... as written
	orderBy []string // the sorting key's elements
}

// parseCreate reads CREATE TABLE [IF NOT EXISTS] t (...) ENGINE = X(args)
// clauses, with X of the MergeTree family.
func parseCreate(stmt string, toks []sqlToken) (createTable, error) {
	var ct createTable
	i := 2
	if i+2 < len(toks) && toks[i].is("IF") && toks[i+1].is("NOT") && toks[i+2].is("EXISTS") {
		i += 3
	}
	name, i, err := tableName(stmt, toks, i)
	if err != nil {
		return ct, err
	}
	ct.name = name
	if i >= len(toks) || !toks[i].sym('(') {
		return ct, fmt.Errorf("%w: CREATE TABLE %s without a column list", ErrClusterUnsupported, name)
	}
	colsEnd := closing(toks, i)
	if colsEnd < 0 {
		return ct, fmt.Errorf("%w: unbalanced parentheses in CREATE TABLE %s", ErrClusterUnsupported, name)
	}
	ct.columns = stmt[toks[i].start:toks[colsEnd].end]
	i = colsEnd + 1
	if i >= len(toks) || !toks[i].is("ENGINE") {
		return ct, fmt.Errorf("%w: CREATE TABLE %s without ENGINE", ErrClusterUnsupported, name)
	}
	i++
	if i < len(toks) && toks[i].sym('=') {
		i++
	}
	if i >= len(toks) || toks[i].kind != tokWord {
		return ct, fmt.Errorf("%w: CREATE TABLE %s without an engine name", ErrClusterUnsupported, name)
	}
	ct.engine = toks[i].text
	if !mergeTreeEngines[ct.engine] {
		return ct, fmt.Errorf("%w: engine %s of table %s (only the MergeTree family is sharded)", ErrClusterUnsupported, ct.engine, name)
	}
	i++
	if i < len(toks) && toks[i].sym('(') {
		end := closing(toks, i)
		if end < 0 {
			return ct, fmt.Errorf("%w: unbalanced parentheses in the engine of %s", ErrClusterUnsupported, name)
		}
		ct.args = strings.TrimSpace(stmt[toks[i].end:toks[end].start])
		i = end + 1
	}
	ct.clauses = strings.TrimRight(stmt[tokEnd(toks, i-1):], " \t\r\n;")
	ct.orderBy = sortingKey(stmt, toks[i:])
	return ct, nil
}

// planCreate turns a CREATE TABLE into the shard table t_local (X or
// ReplicatedX, same columns and clauses) and the Distributed table t over
// it.
func (d clusterDDL) planCreate(stmt string, toks []sqlToken) ([]clusterStep, error) {
	ct, err := parseCreate(stmt, toks)
	if err != nil {
		return nil, err
	}
	local := ct.name + LocalSuffix
	engine, args := ct.engine, ct.args
	if d.replicated {
		replArgs := quoteString(ZooKeeperPathPrefix+"/"+d.database+"/"+ct.name) + ", '{replica}'"
		if args != "" {
			replArgs += ", " + args
		}
		engine, args = "Replicated"+engine, replArgs
	}
	createLocal := "CREATE TABLE IF NOT EXISTS " + d.qualified(local) + d.onCluster() + " " + ct.columns +
		"\nENGINE = " + engine + "(" + args + ")" + ct.clauses
	createDist := "CREATE TABLE IF NOT EXISTS " + d.qualified(ct.name) + d.onCluster() + " AS " + d.qualified(local) +
		"\nENGINE = Distributed(" + quoteName(d.cluster) + ", " + quoteName(d.database) + ", " + quoteName(local) + ", " +
		shardingKey(ct.name, ct.orderBy) + ")"
	return []clusterStep{{kind: stepDDL, sql: createLocal}, {kind: stepDDL, sql: createDist}}, nil
}

// shardColumns maps each table that stmts create to the column its rows
// are sharded by (host for cityHash64(host), host_id, id, uri...), for
// shardLocalGroupBy; to "" for a table sharded by an expression of
// several columns or by rand().
func shardColumns(stmts []string) map[string]string {
	out := map[string]string{}
	for _, stmt := range stmts {
		toks, err := lexSQL(stmt)
		if err != nil || len(toks) < 2 || !toks[0].is("CREATE") || !toks[1].is("TABLE") {
			continue
		}
		ct, err := parseCreate(stmt, toks)
		if err != nil {
			continue
		}
		key := shardingKey(ct.name, ct.orderBy)
		if inner, ok := strings.CutPrefix(key, "cityHash64("); ok {
			key = strings.TrimSuffix(inner, ")")
		}
		if !identRE.MatchString(key) {
			key = ""
		}
		out[ct.name] = key
	}
	return out
}

// clauseWords end an ORDER BY clause.
var clauseWords = []string{"PARTITION", "PRIMARY", "SAMPLE", "SETTINGS", "TTL", "ORDER"}

// sortingKey returns the elements of the ORDER BY clause among toks (the
// tokens after the engine), as source text: "(host, crawled_at)" gives
// host and crawled_at, "uri" gives uri.
func sortingKey(stmt string, toks []sqlToken) []string {
	start := -1
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].is("ORDER") && toks[i+1].is("BY") {
			start = i + 2
			break
		}
	}
	if start < 0 || start >= len(toks) {
		return nil
	}
	end := len(toks)
	depth := 0
scan:
	for i := start; i < len(toks); i++ {
		switch {
		case toks[i].sym('('):
			depth++
		case toks[i].sym(')'):
			depth--
		case depth == 0 && toks[i].kind == tokWord:
			for _, w := range clauseWords {
				if toks[i].is(w) {
					end = i
					break scan
				}
			}
		}
	}
	key := toks[start:end]
	if len(key) == 0 {
		return nil
	}
	if key[0].sym('(') && closing(key, 0) == len(key)-1 {
		key = key[1 : len(key)-1]
	}
	var out []string
	for _, r := range splitTopLevel(key) {
		if r[0] < r[1] {
			out = append(out, stmt[key[r[0]].start:key[r[1]-1].end])
		}
	}
	return out
}

// Kinds of ALTER TABLE commands.
const (
	alterSchema   = iota // a column change: on the shard table and the Distributed table
	alterMutation        // DELETE or UPDATE: on the shard table, waited for
	alterLocal           // partitions, indexes, the sorting key...: on the shard table
)

// alterKind classifies one ALTER TABLE command by its first words.
func alterKind(cmd []sqlToken) int {
	switch {
	case len(cmd) > 1 && cmd[1].is("COLUMN") &&
		(cmd[0].is("ADD") || cmd[0].is("DROP") || cmd[0].is("MODIFY") || cmd[0].is("COMMENT") || cmd[0].is("RENAME")):
		return alterSchema
	case len(cmd) > 0 && (cmd[0].is("DELETE") || cmd[0].is("UPDATE")):
		return alterMutation
	}
	return alterLocal
}

// planAlter turns ALTER TABLE t commands into the same commands on
// t_local and, for column changes, on the Distributed table t (whose
// columns must match, or reads fail). ADD COLUMN of one column becomes a
// stepAddColumn per table, so that it is idempotent on every node.
func (d clusterDDL) planAlter(stmt string, toks []sqlToken) ([]clusterStep, error) {
	name, i, err := tableName(stmt, toks, 2)
	if err != nil {
		return nil, err
	}
	if i >= len(toks) {
		return nil, fmt.Errorf("%w: ALTER TABLE %s without a command", ErrClusterUnsupported, name)
	}
	cmds := toks[i:]
	parts := splitTopLevel(cmds)
	kind := -1
	if alterKind(cmds) == alterMutation {
		// UPDATE a = x, b = y WHERE ...: its commas separate assignments.
		parts = [][2]int{{0, len(cmds)}}
	}
	for _, r := range parts {
		k := alterKind(cmds[r[0]:r[1]])
		if kind >= 0 && k != kind {
			return nil, fmt.Errorf("%w: ALTER TABLE %s mixes column changes with other commands: split it", ErrClusterUnsupported, name)
		}
		kind = k
	}
	commands := strings.TrimRight(stmt[cmds[0].start:], " \t\r\n;")
	local := name + LocalSuffix
	tables := []string{local}
	if kind == alterSchema {
		tables = append(tables, name)
	}

	// ADD COLUMN [IF NOT EXISTS] c spec, alone.
	if len(parts) == 1 && len(cmds) > 2 && cmds[0].is("ADD") && cmds[1].is("COLUMN") {
		j := 2
		if len(cmds) > j+3 && cmds[j].is("IF") && cmds[j+1].is("NOT") && cmds[j+2].is("EXISTS") {
			j += 3
		}
		if j+1 < len(cmds) && (cmds[j].kind == tokWord || cmds[j].kind == tokIdent) {
			column := cmds[j].name()
			spec := strings.TrimRight(stmt[cmds[j+1].start:], " \t\r\n;")
			var steps []clusterStep
			for _, t := range tables {
				steps = append(steps, clusterStep{
					kind: stepAddColumn, table: t, column: column,
					sql: "ALTER TABLE " + d.qualified(t) + d.onCluster() + " " + commands,
					add: "ALTER TABLE " + d.qualified(t) + d.onCluster() + " ADD COLUMN " + quoteName(column) + " " + spec,
				})
			}
			return steps, nil
		}
	}

	var steps []clusterStep
	for _, t := range tables {
		st := clusterStep{kind: stepDDL, sql: "ALTER TABLE " + d.qualified(t) + d.onCluster() + " " + commands}
		if kind == alterMutation {
			st.kind, st.table = stepMutation, t
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// planDropOrTruncate: TRUNCATE empties the shard tables (a Distributed
// table has no rows of its own, and TRUNCATE of one silently leaves the
// shards' rows alone); DROP removes the Distributed table, then the shard
// tables.
func (d clusterDDL) planDropOrTruncate(stmt string, toks []sqlToken) ([]clusterStep, error) {
	verb := strings.ToUpper(toks[0].text)
	i := 2
	ifExists := ""
	if i+1 < len(toks) && toks[i].is("IF") && toks[i+1].is("EXISTS") {
		ifExists, i = "IF EXISTS ", i+2
	}
	name, i, err := tableName(stmt, toks, i)
	if err != nil {
		return nil, err
	}
	if i < len(toks) {
		return nil, fmt.Errorf("%w: %s TABLE %s with further clauses", ErrClusterUnsupported, verb, name)
	}
	local := verb + " TABLE " + ifExists + d.qualified(name+LocalSuffix) + d.onCluster()
	if verb == "TRUNCATE" {
		return []clusterStep{{kind: stepDDL, sql: local}}, nil
	}
	return []clusterStep{
		{kind: stepDDL, sql: verb + " TABLE " + ifExists + d.qualified(name) + d.onCluster()},
		{kind: stepDDL, sql: local},
	}, nil
}

// abbreviate shortens a statement for an error message.
func abbreviate(stmt string) string {
	s := strings.Join(strings.Fields(stmt), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
