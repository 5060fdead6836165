package store

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// A small SQL lexer for the cluster mode (cluster.go): enough of
// ClickHouse's lexical grammar to find statement keywords, table names,
// balanced parentheses and top-level commas without being fooled by
// string literals, quoted identifiers or comments. It never evaluates
// anything; statements it cannot follow are refused, not guessed at.

// tokKind is the kind of a sqlToken.
type tokKind int

const (
	tokWord   tokKind = iota // keyword or bare identifier
	tokIdent                 // `quoted` or "quoted" identifier
	tokString                // 'string literal'
	tokNumber                // numeric literal
	tokSym                   // any other single character: ( ) , . = ? ...
)

// sqlToken is one token and its byte range in the statement.
type sqlToken struct {
	kind       tokKind
	start, end int
	text       string // the token's source text
}

// is reports whether t is the word w (case-insensitive).
func (t sqlToken) is(w string) bool { return t.kind == tokWord && strings.EqualFold(t.text, w) }

// sym reports whether t is the symbol c.
func (t sqlToken) sym(c byte) bool { return t.kind == tokSym && t.text[0] == c }

// name is the identifier t stands for: a bare word, or a quoted
// identifier without its quotes and escapes.
func (t sqlToken) name() string {
	if t.kind != tokIdent {
		return t.text
	}
	q := t.text[0]
	inner := t.text[1 : len(t.text)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		switch {
		case inner[i] == '\\' && i+1 < len(inner):
			i++
		case inner[i] == q && i+1 < len(inner) && inner[i+1] == q:
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String()
}

// errLex reports a statement the lexer cannot read to its end.
var errLex = errors.New("unterminated quote or comment")

// lexSQL splits s into tokens, skipping white space and comments.
func lexSQL(s string) ([]sqlToken, error) {
	var out []sqlToken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("lex at byte %d: %w", i, errLex)
			}
			i += end + 4
		case c == '\'' || c == '`' || c == '"':
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\\' {
					j++
					continue
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // a doubled quote
						j++
						continue
					}
					break
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("lex at byte %d: %w", i, errLex)
			}
			kind := tokIdent
			if c == '\'' {
				kind = tokString
			}
			out = append(out, sqlToken{kind: kind, start: i, end: j + 1, text: s[i : j+1]})
			i = j + 1
		case isWordStart(c):
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, sqlToken{kind: tokWord, start: i, end: j, text: s[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.') {
				j++
			}
			out = append(out, sqlToken{kind: tokNumber, start: i, end: j, text: s[i:j]})
			i = j
		default:
			out = append(out, sqlToken{kind: tokSym, start: i, end: i + 1, text: s[i : i+1]})
			i++
		}
	}
	return out, nil
}

func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isWordByte(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' || c == '$' }

// closing returns the index of the token that closes the parenthesis
// opened at toks[open], or -1.
func closing(toks []sqlToken, open int) int {
	depth := 0
	for i := open; i < len(toks); i++ {
		switch {
		case toks[i].sym('(') || toks[i].sym('['):
			depth++
		case toks[i].sym(')') || toks[i].sym(']'):
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitTopLevel splits toks at the commas outside parentheses and returns
// each part's token range [from, to).
func splitTopLevel(toks []sqlToken) [][2]int {
	var (
		out   [][2]int
		depth int
		from  int
	)
	for i, t := range toks {
		switch {
		case t.sym('(') || t.sym('['):
			depth++
		case t.sym(')') || t.sym(']'):
			depth--
		case t.sym(',') && depth == 0:
			out = append(out, [2]int{from, i})
			from = i + 1
		}
	}
	return append(out, [2]int{from, len(toks)})
}

// globalIn rewrites every "IN (SELECT ...)" and "NOT IN (SELECT ...)" of
// query into GLOBAL IN and GLOBAL NOT IN, leaving IN lists of values
// (which GLOBAL IN refuses) and what is already GLOBAL alone.
//
// Why: in cluster mode every table fedilens reads is a Distributed table,
// and ClickHouse refuses a subquery over a Distributed table inside a
// query over another one ("Double-distributed IN/JOIN subqueries is
// denied") unless told how to run it. GLOBAL runs the subquery once, on
// the node fedilens is connected to, and ships its result to every shard:
// always the right answer, whatever the two tables' sharding. The server
// setting distributed_product_mode = 'global' would do the same, but
// clickhouse-go cannot send a string setting to ClickHouse 18.16, and
// this way no server profile needs changing. A query the lexer cannot read
// is returned unchanged; the server then reports it.
func globalIn(query string) string {
	if !containsFold(query, "in") {
		return query
	}
	toks, err := lexSQL(query)
	if err != nil {
		return query
	}
	var at []int
	for i := 0; i+2 < len(toks); i++ {
		if !toks[i].is("IN") || !toks[i+1].sym('(') || !(toks[i+2].is("SELECT") || toks[i+2].is("WITH")) {
			continue
		}
		pos := toks[i].start
		prev := i - 1
		if prev >= 0 && toks[prev].is("NOT") {
			pos = toks[prev].start
			prev--
		}
		if prev >= 0 && toks[prev].is("GLOBAL") {
			continue
		}
		at = append(at, pos)
	}
	if len(at) == 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 7*len(at))
	last := 0
	for _, p := range at {
		b.WriteString(query[last:p])
		b.WriteString("GLOBAL ")
		last = p
	}
	b.WriteString(query[last:])
	return b.String()
}

// containsFold reports whether s contains sub, ignoring ASCII case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}

// noMergeSetting is the per-SELECT setting shardLocalGroupBy appends.
const noMergeSetting = " SETTINGS distributed_group_by_no_merge = 1"

// shardLocalGroupBy appends SETTINGS distributed_group_by_no_merge = 1 to
// every SELECT of query that groups a Distributed table by the column its
// rows are sharded by (shardCols: table -> column): each group's rows are
// then all on one shard, so each shard's result for its groups is final
// and the node fedilens is connected to only has to concatenate them.
//
// Why: ClickHouse 18.16 ships aggregate states between shards with a
// broken encoding of Nullable values inside tuples, so argMax(tuple(...,
// users_total, ...), crawled_at), the store's "latest snapshot of each
// host" (which keeps a latest NULL that way), came back with garbage
// where a count was unknown. Finished rows travel intact, and less is
// shipped on every release. Current releases do the same on their own
// with optimize_distributed_group_by_sharding_key.
//
// It only touches a SELECT that reads one table directly (no JOIN, no
// subquery in FROM), groups by the plain shard column, does not define an
// alias of that name, and has no ORDER BY, LIMIT, DISTINCT, WITH TOTALS,
// SETTINGS or FORMAT of its own, which would then apply per shard. A query
// the lexer cannot read is returned unchanged.
func shardLocalGroupBy(query string, shardCols map[string]string) string {
	if len(shardCols) == 0 || !containsFold(query, "group") {
		return query
	}
	toks, err := lexSQL(query)
	if err != nil {
		return query
	}
	var at []int
	for i := range toks {
		if !toks[i].is("SELECT") {
			continue
		}
		if p, ok := shardLocalSelect(toks, i, shardCols); ok {
			at = append(at, p)
		}
	}
	if len(at) == 0 {
		return query
	}
	sort.Ints(at)
	var b strings.Builder
	last := 0
	for _, p := range at {
		b.WriteString(query[last:p])
		b.WriteString(noMergeSetting)
		last = p
	}
	b.WriteString(query[last:])
	return b.String()
}

// shardLocalSelect checks the SELECT at toks[sel] (see shardLocalGroupBy)
// and returns the byte offset where its SETTINGS go.
func shardLocalSelect(toks []sqlToken, sel int, shardCols map[string]string) (int, bool) {
	// The SELECT's own tokens, parenthesised groups skipped: until the
	// parenthesis that closes around it, a UNION, or the end.
	var (
		top []int // indexes of the SELECT's top-level tokens
		end = len(toks)
	)
scan:
	for j := sel + 1; j < len(toks); j++ {
		switch {
		case toks[j].sym('(') || toks[j].sym('['):
			c := closing(toks, j)
			if c < 0 {
				return 0, false
			}
			top = append(top, j)
			j = c
		case toks[j].sym(')') || toks[j].sym(']') || toks[j].sym(';') || toks[j].is("UNION"):
			end = j
			break scan
		default:
			top = append(top, j)
		}
	}
	if end == sel+1 {
		return 0, false
	}
	var (
		table    string
		shardCol string
		groupBy  = -1
	)
	for k, j := range top {
		t := toks[j]
		next := func(n int) sqlToken {
			if k+n < len(top) {
				return toks[top[k+n]]
			}
			return sqlToken{}
		}
		switch {
		case k == 0 && (t.is("DISTINCT") || t.is("TOP")):
			return 0, false
		case t.is("ORDER") || t.is("LIMIT") || t.is("SETTINGS") || t.is("FORMAT") || t.is("TOTALS") ||
			t.is("JOIN") || t.is("INTO"):
			return 0, false
		case t.is("FROM"):
			if table != "" {
				return 0, false
			}
			name := next(1)
			if name.kind != tokWord && name.kind != tokIdent || next(2).sym('.') || next(2).sym(',') {
				return 0, false
			}
			table = name.name()
			col := shardCols[table]
			if col == "" {
				return 0, false
			}
			shardCol = col
		case t.is("GROUP") && next(1).is("BY"):
			groupBy = k + 2
		}
	}
	if table == "" || groupBy < 0 {
		return 0, false
	}
	// No alias may rename something else to the shard column's name.
	for k := 0; k+1 < len(top); k++ {
		if toks[top[k]].is("AS") && toks[top[k+1]].name() == shardCol {
			return 0, false
		}
	}
	// The GROUP BY list runs to HAVING, WITH or the end.
	grouped := false
	start := groupBy
	for k := groupBy; k <= len(top); k++ {
		if k < len(top) && !toks[top[k]].sym(',') && !toks[top[k]].is("HAVING") && !toks[top[k]].is("WITH") {
			continue
		}
		if k == start+1 && toks[top[start]].name() == shardCol && toks[top[start]].kind != tokString {
			grouped = true
		}
		if k == len(top) || !toks[top[k]].sym(',') {
			break
		}
		start = k + 1
	}
	if !grouped {
		return 0, false
	}
	return toks[end-1].end, true
}
