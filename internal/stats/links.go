package stats

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/hostid"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// Link statistics: peer degrees, the most-peered hosts, the most-blocked
// domains, block reasons (this file), the Threads view (threads.go) and the
// link graph behind internal/graph.
//
// Rules, shared by all of them:
//   - A statistic at a date reads one UTC day: Query.To's day, or else the
//     latest day rolled up with an in-degree summary (the day still being
//     crawled is not a whole picture), or else the latest day with data.
//     The listing hosts are the instances of that day's census
//     (internal/store DayRows: they answered that day; the query's
//     software, language and flagged filters and the opt-out list apply to
//     them).
//   - A host's peer list that day is its stored peer set at the end of the
//     day: the last list read at or before it (peer_events, as of the
//     day's end). Its block list counts only if it was public that day
//     (the day's last snapshot read one: block_count is not NULL).
//   - Hosts on the opt-out list are left out everywhere, also as a listed
//     peer or a blocked domain.
//
// The SQL reads per-host state, never the census of every day: a day's
// day rows (one per host) give the listing hosts, the out-degree is their
// peer_count, and the in-degrees come from the store's daily in-degree
// summaries (store.InDegreeSummary) when the query has no software or
// language filter, else they are counted from the links of the listing
// hosts (store.CountInDegrees, the one definition of both). Block lists,
// far shorter, are always read from block_events. Every value is inlined
// in the SQL (quoted by sqlString, or a number), no placeholders.

// MaxTop bounds the n of the top lists (MostPeered, MostBlocked,
// BlockReasons, Hashtags, PostLanguages): the summaries keep that many.
const MaxTop = store.InDegreeTopK

// MaxGraphNodes bounds the hosts of a link graph (TopLinks, EgoLinks).
const MaxGraphNodes = 500

// Weighted counts instances together with their accounts and monthly
// active users (unknown counts add nothing), so that a chart can weigh by
// any of the three.
type Weighted struct {
	Instances   int64 `json:"instances"`
	Accounts    int64 `json:"accounts"`
	ActiveMonth int64 `json:"active_month"`
}

func (w *Weighted) add(o Weighted) {
	w.Instances += o.Instances
	w.Accounts += o.Accounts
	w.ActiveMonth += o.ActiveMonth
}

// DegreeBucket is one bar of a degree histogram: the hosts whose degree
// lies in Min..Max (both included).
type DegreeBucket struct {
	Min   int64 `json:"min"`
	Max   int64 `json:"max"`
	Hosts int64 `json:"hosts"`
}

// DegreeDistribution is a Distribution of degrees (Instances counts the
// hosts, Total the links) with a histogram in logarithmic buckets: 0, 1,
// 2-9, 10-99, 100-999 and so on, from the first bucket with a host to the
// last, empty buckets between them included, so a chart's bars line up.
type DegreeDistribution struct {
	Distribution
	Histogram []DegreeBucket `json:"histogram"`
}

// Degrees are the peer-degree distributions on Day.
type Degrees struct {
	Day time.Time `json:"day"`
	// Out is over the listing hosts whose peer list was read that day:
	// the number of peers they list (the size of the list as read).
	Out DegreeDistribution `json:"out"`
	// In is over every host listed by at least one listing host: by how
	// many of them.
	In DegreeDistribution `json:"in"`
}

// PeeredHost is a host with its in-degree and, when it is in the day's
// census (under the query's flagged rule), its software and counts.
type PeeredHost struct {
	Host     string `json:"host"`
	InDegree int64  `json:"in_degree"`
	// Known says the host answered that day; Software, Accounts,
	// ActiveMonth and OutDegree are empty otherwise.
	Known       bool   `json:"known"`
	Software    string `json:"software,omitempty"`
	Accounts    *int64 `json:"accounts"`
	ActiveMonth *int64 `json:"active_month"`
	// OutDegree is the size of its own peer list that day (nil: none read).
	OutDegree *int64 `json:"out_degree"`
}

// MostPeeredHosts is the most-peered ranking of Day.
type MostPeeredHosts struct {
	Day   time.Time    `json:"day"`
	Hosts []PeeredHost `json:"hosts"`
}

// BlockedDomain is a domain with the instances whose public list
// restricts it, weighted by their users, in all and per severity.
type BlockedDomain struct {
	Domain string `json:"domain"`
	// Blockers is the sum of Suspend, Silence and Limit. Entries of
	// severity noop (listed without a restriction) are not counted.
	Blockers Weighted `json:"blockers"`
	Suspend  Weighted `json:"suspend"`
	Silence  Weighted `json:"silence"`
	Limit    Weighted `json:"limit"`
}

// MostBlockedDomains is the most-blocked ranking of Day.
type MostBlockedDomains struct {
	Day     time.Time       `json:"day"`
	Domains []BlockedDomain `json:"domains"`
}

// BlockReason is a public block reason, grouped without surrounding
// white space and case: Reason is the group's most frequent form as
// written (trimmed; ties by the form that sorts last).
type BlockReason struct {
	Reason string `json:"reason"`
	// Blocks is the number of (instance, domain) entries giving it,
	// Instances the number of instances giving it at least once.
	Blocks    int64 `json:"blocks"`
	Instances int64 `json:"instances"`
}

// BlockReasons is the block-reason ranking of Day.
type BlockReasons struct {
	Day     time.Time     `json:"day"`
	Reasons []BlockReason `json:"reasons"`
}

// Degrees returns the out- and in-degree distributions of the peer links
// on To's day (or the latest day with data). The filters select the
// listing hosts.
func (s *Stats) Degrees(ctx context.Context, q Query) (Degrees, error) {
	const what = "peer degrees"
	at, rows, err := s.linkRows(ctx, q, what, "host", "peer_count")
	if err != nil || at.IsZero() {
		return Degrees{Out: degreeDistribution(nil), In: degreeDistribution(nil)}, err
	}
	out, err := s.valueCounts(ctx, what, `
SELECT peer_count, toInt64(count()) FROM (`+rows.SQL+`)
WHERE peer_count IS NOT NULL
GROUP BY peer_count`)
	if err != nil {
		return Degrees{}, err
	}
	sum, ok, err := s.summary(ctx, q, at, 0, what)
	if err != nil {
		return Degrees{}, err
	}
	if !ok {
		if sum, err = s.countInDegrees(ctx, rows, at, what); err != nil {
			return Degrees{}, err
		}
	}
	var in []valueCount
	for _, c := range sum.Degrees {
		in = append(in, valueCount{c.Degree, c.Hosts})
	}
	return Degrees{Day: at, Out: degreeDistribution(out), In: degreeDistribution(in)}, nil
}

// MostPeered returns the n hosts listed by the most listing hosts on To's
// day (or the latest day with data), most first, ties by name, with their
// software and counts when they are in that day's census.
func (s *Stats) MostPeered(ctx context.Context, q Query, n int) (MostPeeredHosts, error) {
	const what = "most-peered hosts"
	if err := checkTop(n, MaxTop); err != nil {
		return MostPeeredHosts{}, err
	}
	at, rows, err := s.linkRows(ctx, q, what, "host")
	if err != nil || at.IsZero() {
		return MostPeeredHosts{Hosts: []PeeredHost{}}, err
	}
	hosts, err := s.mostPeered(ctx, q, rows, at, n, what)
	if err != nil {
		return MostPeeredHosts{}, err
	}
	return MostPeeredHosts{Day: at, Hosts: hosts}, nil
}

func (s *Stats) mostPeered(ctx context.Context, q Query, rows store.DayRows, at time.Time, n int, what string) ([]PeeredHost, error) {
	hosts := []PeeredHost{}
	sum, ok, err := s.summary(ctx, q, at, n, what)
	if err != nil {
		return nil, err
	}
	if !ok {
		if sum, err = s.countInDegrees(ctx, rows, at, what); err != nil {
			return nil, err
		}
	}
	for _, c := range sum.Top[:min(n, len(sum.Top))] {
		hosts = append(hosts, PeeredHost{Host: c.Host, InDegree: c.Count})
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Host
	}
	info, err := s.hostInfo(ctx, q, at, names, what)
	if err != nil {
		return nil, err
	}
	for i := range hosts {
		if in, ok := info[hosts[i].Host]; ok {
			hosts[i].Known, hosts[i].Software = true, in.software
			hosts[i].Accounts, hosts[i].ActiveMonth, hosts[i].OutDegree = in.accounts, in.activeMonth, in.peerCount
		}
	}
	return hosts, nil
}

// MostBlocked returns the n domains restricted (suspended, silenced or
// limited) by the most instances with a public block list on To's day
// (or the latest day with data), most first, ties by domain. The filters
// select the blocking instances.
func (s *Stats) MostBlocked(ctx context.Context, q Query, n int) (MostBlockedDomains, error) {
	const what = "most-blocked domains"
	if err := checkTop(n, MaxTop); err != nil {
		return MostBlockedDomains{}, err
	}
	at, rows, err := s.linkRows(ctx, q, what, "host", "users_total", "users_active_month", "block_count")
	if err != nil || at.IsZero() {
		return MostBlockedDomains{Domains: []BlockedDomain{}}, err
	}
	blocked, _, ok, err := s.blockSummary(ctx, q, at, n, what)
	if err != nil {
		return MostBlockedDomains{}, err
	}
	if !ok {
		err = s.query(ctx, what, store.MostBlockedSQL(rows.SQL, at, n), func(r driver.Rows) error {
			b, err := store.ScanBlocked(r)
			blocked = append(blocked, b)
			return err
		})
		if err != nil {
			return MostBlockedDomains{}, err
		}
	}
	out := MostBlockedDomains{Day: at, Domains: []BlockedDomain{}}
	weighted := func(w [3]int64) Weighted { return Weighted{Instances: w[0], Accounts: w[1], ActiveMonth: w[2]} }
	for _, b := range blocked {
		d := BlockedDomain{Domain: b.Domain, Suspend: weighted(b.Suspend), Silence: weighted(b.Silence), Limit: weighted(b.Limit)}
		d.Blockers.add(d.Suspend)
		d.Blockers.add(d.Silence)
		d.Blockers.add(d.Limit)
		out.Domains = append(out.Domains, d)
	}
	return out, nil
}

// BlockReasons returns the n public reasons given most often by the
// block entries (any severity) of the instances with a public list on
// To's day (or the latest day with data), most first, ties by the
// grouping key. Entries without a reason are not counted.
func (s *Stats) BlockReasons(ctx context.Context, q Query, n int) (BlockReasons, error) {
	const what = "block reasons"
	if err := checkTop(n, MaxTop); err != nil {
		return BlockReasons{}, err
	}
	at, rows, err := s.linkRows(ctx, q, what, "host", "block_count")
	if err != nil || at.IsZero() {
		return BlockReasons{Reasons: []BlockReason{}}, err
	}
	_, reasons, ok, err := s.blockSummary(ctx, q, at, n, what)
	if err != nil {
		return BlockReasons{}, err
	}
	if !ok {
		err = s.query(ctx, what, store.BlockReasonsSQL(rows.SQL, at, n), func(r driver.Rows) error {
			c, err := store.ScanReason(r)
			reasons = append(reasons, c)
			return err
		})
		if err != nil {
			return BlockReasons{}, err
		}
	}
	out := BlockReasons{Day: at, Reasons: []BlockReason{}}
	for _, c := range reasons {
		out.Reasons = append(out.Reasons, BlockReason{Reason: c.Reason, Blocks: c.Blocks, Instances: c.Instances})
	}
	return out, nil
}

// BlockSummaries is what a Source may also offer (*store.Store does): the
// block rankings of the rolled-up days.
type BlockSummaries interface {
	BlockSummary(ctx context.Context, day time.Time, includeFlagged bool, n int) ([]store.BlockedCounts, []store.ReasonCounts, bool, error)
}

// blockSummary returns the block rankings of day at from the store's
// summaries, when the Source has one that answers q (no software or
// language filter, no carried days).
func (s *Stats) blockSummary(ctx context.Context, q Query, at time.Time, n int, what string) ([]store.BlockedCounts, []store.ReasonCounts, bool, error) {
	sums, ok := s.src.(BlockSummaries)
	if !ok || len(q.Software) > 0 || q.Language != "" || q.CarryDays > 1 {
		return nil, nil, false, nil
	}
	blocked, reasons, ok, err := sums.BlockSummary(ctx, at, q.IncludeFlagged, n)
	if err != nil {
		return nil, nil, false, fmt.Errorf("compute %s: %w", what, err)
	}
	return blocked, reasons, ok, nil
}

// LinkNode is a host of a link graph.
type LinkNode struct {
	Host string `json:"host"`
	// Software and Accounts are known when the host is in the day's
	// census ("" and nil otherwise).
	Software string `json:"software,omitempty"`
	Accounts *int64 `json:"accounts"`
	// InDegree is the number of listing hosts that list it that day.
	InDegree int64 `json:"in_degree"`
	// OutDegree is the size of its peer list read that day (nil: none).
	OutDegree *int64 `json:"out_degree"`
}

// LinkEdge says that Source lists Target as a peer on the graph's day.
type LinkEdge struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// LinkGraph is a set of hosts and the peer links among them on Day,
// without a layout (internal/graph adds one). Edges are sorted by source,
// then target.
type LinkGraph struct {
	Day   time.Time  `json:"day"`
	Nodes []LinkNode `json:"nodes"`
	Edges []LinkEdge `json:"edges"`
}

// TopLinks returns the n most-peered hosts of To's day (or the latest day
// with data), in MostPeered's order, and the links among them listed by
// listing hosts (the filters select those).
func (s *Stats) TopLinks(ctx context.Context, q Query, n int) (LinkGraph, error) {
	const what = "top link graph"
	if err := checkTop(n, MaxGraphNodes); err != nil {
		return LinkGraph{}, err
	}
	at, rows, err := s.linkRows(ctx, q, what, "host")
	if err != nil || at.IsZero() {
		return LinkGraph{Nodes: []LinkNode{}, Edges: []LinkEdge{}}, err
	}
	hosts, err := s.mostPeered(ctx, q, rows, at, n, what)
	if err != nil {
		return LinkGraph{}, err
	}
	g := LinkGraph{Day: at, Nodes: make([]LinkNode, len(hosts))}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		g.Nodes[i] = LinkNode{Host: h.Host, Software: h.Software, Accounts: h.Accounts, InDegree: h.InDegree, OutDegree: h.OutDegree}
		names[i] = h.Host
	}
	if g.Edges, err = s.edgesAmong(ctx, rows, at, names, "", what); err != nil {
		return LinkGraph{}, err
	}
	return g, nil
}

// EgoLinks returns host and up to n of its neighbours on To's day (or the
// latest day with data): the hosts it lists and the listing hosts that
// list it, those linked both ways first, then by accounts (unknown last),
// then by name; and the links among them listed by the listing hosts or by
// host itself. It wraps model.ErrNotFound when host has no link that day
// and is not in the census (or is opted out).
func (s *Stats) EgoLinks(ctx context.Context, q Query, host string, n int) (LinkGraph, error) {
	const what = "ego link graph"
	if err := checkTop(n, MaxGraphNodes); err != nil {
		return LinkGraph{}, err
	}
	host = strings.ToLower(strings.TrimSpace(host))
	at, rows, err := s.linkRows(ctx, q, what, "host")
	if err != nil {
		return LinkGraph{}, err
	}
	notFound := fmt.Errorf("compute %s of %q: %w", what, host, model.ErrNotFound)
	if at.IsZero() {
		return LinkGraph{}, notFound
	}
	var optedOut uint64
	err = s.query(ctx, what, `SELECT count() FROM (`+store.OptedOutHostsSQL+`) WHERE host = `+sqlString(host), func(r driver.Rows) error {
		return r.Scan(&optedOut)
	})
	if err != nil {
		return LinkGraph{}, err
	}
	if optedOut > 0 {
		return LinkGraph{}, notFound
	}
	info, err := s.infoRows(ctx, q, at, what)
	if err != nil {
		return LinkGraph{}, err
	}
	// The neighbours, ranked in SQL: a host may list 100,000 peers. dir
	// is 1 (host lists it), 2 (it lists host) or 3 (both).
	id := strconv.FormatUint(hostid.Of(host), 10)
	end := dayEndSQL(at)
	members := []string{host}
	neighbours := `
        SELECT id, groupBitOr(d) AS dir FROM (
            SELECT peer_id AS id, toUInt8(1) AS d FROM peer_events
            WHERE host_id = ` + id + ` AND at < ` + end + `
            GROUP BY peer_id HAVING argMax(present, at) = 1
            UNION ALL
            SELECT host_id AS id, toUInt8(2) AS d FROM peer_events_by_peer
            WHERE peer_id = ` + id + ` AND at < ` + end + ` AND host_id IN (` + listerIDsSQL(rows) + `)
            GROUP BY host_id HAVING argMax(present, at) = 1
        )
        WHERE id != ` + id + ` AND id NOT IN (SELECT cityHash64(host) FROM (` + store.OptedOutHostsSQL + `))
        GROUP BY id`
	// The names are read through hosts' key for the neighbours only.
	err = s.query(ctx, what, `
SELECT name FROM (
    SELECT id, dir, name FROM (`+neighbours+`)
    ANY INNER JOIN (
        SELECT id, any(host) AS name FROM hosts WHERE id IN (SELECT id FROM (`+neighbours+`)) GROUP BY id
    ) USING id
)
ANY LEFT JOIN (SELECT cityHash64(host) AS id, users_total AS accounts FROM (`+info.SQL+`)) USING id
ORDER BY dir = 3 DESC, isNull(accounts), accounts DESC, name
LIMIT `+strconv.Itoa(n), func(r driver.Rows) error {
		var name string
		if err := r.Scan(&name); err != nil {
			return err
		}
		members = append(members, name)
		return nil
	})
	if err != nil {
		return LinkGraph{}, err
	}
	known, err := s.hostInfo(ctx, q, at, members, what)
	if err != nil {
		return LinkGraph{}, err
	}
	if _, ok := known[host]; !ok && len(members) == 1 {
		return LinkGraph{}, notFound
	}
	inDeg, err := s.inDegreesOf(ctx, rows, at, members, what)
	if err != nil {
		return LinkGraph{}, err
	}
	g := LinkGraph{Day: at, Nodes: make([]LinkNode, len(members))}
	for i, h := range members {
		in := known[h]
		g.Nodes[i] = LinkNode{Host: h, Software: in.software, Accounts: in.accounts, InDegree: inDeg[h], OutDegree: in.peerCount}
	}
	if g.Edges, err = s.edgesAmong(ctx, rows, at, members, host, what); err != nil {
		return LinkGraph{}, err
	}
	return g, nil
}

// InDegrees is what the link statistics need of a Source besides DayRows
// and ReadQuery (*store.Store has it): in-degrees, from the daily
// summaries of rolled-up days when one answers the query, else counted
// from the links in bounded chunks (see store.CountInDegrees).
type InDegrees interface {
	LatestInDegreeDay(ctx context.Context, includeFlagged bool) (time.Time, error)
	InDegreeSummary(ctx context.Context, day time.Time, includeFlagged bool, top int) (store.InDegreeSummary, bool, error)
	CountInDegrees(ctx context.Context, listers string, at time.Time) (clean, all store.InDegreeSummary, err error)
}

// ErrNoInDegrees is returned by the in-degree statistics over a Source
// that does not implement InDegrees.
var ErrNoInDegrees = errors.New("stats: the source cannot count in-degrees")

// linkRows returns the day of an at-a-date link statistic (zero: no data
// at all) and the listing hosts' day rows of that day with cols. Without
// Query.To the day is the latest one with an in-degree summary (the last
// day rolled up), else the latest day with data: the day being crawled is
// not a whole picture yet, and its links would be read one by one.
func (s *Stats) linkRows(ctx context.Context, q Query, what string, cols ...string) (time.Time, store.DayRows, error) {
	q, err := q.check()
	if err != nil {
		return time.Time{}, store.DayRows{}, err
	}
	f := q.filter()
	f.At = true
	if sums, ok := s.src.(InDegrees); ok && q.To.IsZero() {
		latest, err := sums.LatestInDegreeDay(ctx, q.IncludeFlagged)
		if err != nil {
			return time.Time{}, store.DayRows{}, fmt.Errorf("compute %s: %w", what, err)
		}
		f.To, q.To = latest, latest
	}
	rows, err := s.src.DayRows(ctx, f, cols...)
	if err != nil {
		return time.Time{}, store.DayRows{}, fmt.Errorf("compute %s: %w", what, err)
	}
	return atDay(q, rows.Last), rows, nil
}

// summary returns the in-degree summary of day at with up to top hosts,
// when the Source has one that answers q: no software or language filter
// (they select listing hosts the summaries do not split by) and no
// carried days.
func (s *Stats) summary(ctx context.Context, q Query, at time.Time, top int, what string) (store.InDegreeSummary, bool, error) {
	sums, ok := s.src.(InDegrees)
	if !ok {
		return store.InDegreeSummary{}, false, fmt.Errorf("compute %s: %w", what, ErrNoInDegrees)
	}
	if len(q.Software) > 0 || q.Language != "" || q.CarryDays > 1 {
		return store.InDegreeSummary{}, false, nil
	}
	sum, ok, err := sums.InDegreeSummary(ctx, at, q.IncludeFlagged, top)
	if err != nil {
		return store.InDegreeSummary{}, false, fmt.Errorf("compute %s: %w", what, err)
	}
	return sum, ok, nil
}

// dayEndSQL is the DateTime literal of the end of day d (the next day's
// midnight): the events before it make the state of day d.
func dayEndSQL(d time.Time) string {
	return "'" + day(d).AddDate(0, 0, 1).Format(time.DateTime) + "'"
}

// listerIDsSQL selects the ids of the listing hosts of rows.
func listerIDsSQL(rows store.DayRows) string {
	return `SELECT cityHash64(host) FROM (` + rows.SQL + `)`
}

// countInDegrees counts the in-degrees of day at from the links of the
// listing hosts of rows (which has a host column).
func (s *Stats) countInDegrees(ctx context.Context, rows store.DayRows, at time.Time, what string) (store.InDegreeSummary, error) {
	src, ok := s.src.(InDegrees)
	if !ok {
		return store.InDegreeSummary{}, fmt.Errorf("compute %s: %w", what, ErrNoInDegrees)
	}
	began := time.Now()
	_, all, err := src.CountInDegrees(ctx, `SELECT host, toUInt8(0) AS suspect FROM (`+rows.SQL+`)`, at)
	if err != nil {
		return store.InDegreeSummary{}, fmt.Errorf("compute %s: %w", what, err)
	}
	s.log.Debug("in-degrees counted from the links", "what", what, "took", time.Since(began))
	return all, nil
}

// valueCount is one value of a distribution and how many hosts have it.
type valueCount struct{ v, n int64 }

// valueCounts reads (value, count) rows, skipping NULL values, sorted by
// value.
func (s *Stats) valueCounts(ctx context.Context, what, sql string) ([]valueCount, error) {
	var out []valueCount
	err := s.query(ctx, what, sql, func(r driver.Rows) error {
		var (
			v *int64
			n int64
		)
		if err := r.Scan(&v, &n); err != nil {
			return err
		}
		if v != nil {
			out = append(out, valueCount{*v, n})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].v < out[j].v })
	return out, nil
}

// distributionOf is Distribute over a multiset given as sorted (value,
// count) pairs: the same nearest ranks and top shares, without expanding
// it (a degree distribution has one value per listed host, hundreds of
// thousands, but few distinct values).
func distributionOf(vc []valueCount) Distribution {
	var d Distribution
	for _, p := range vc {
		d.Instances += p.n
		d.Total += p.v * p.n
	}
	if d.Instances == 0 {
		return d
	}
	n := d.Instances
	at := func(k int64) int64 { // the k-th smallest value, 1-based
		for _, p := range vc {
			if k <= p.n {
				return p.v
			}
			k -= p.n
		}
		return vc[len(vc)-1].v
	}
	rank := func(pct int64) int64 { return at(max((pct*n+99)/100, 1)) }
	d.Median, d.P75, d.P90, d.P99 = rank(50), rank(75), rank(90), rank(99)
	top := func(pct int64) int64 { // the sum of the k largest values
		k := max((pct*n+99)/100, 1)
		var sum int64
		for i := len(vc) - 1; i >= 0 && k > 0; i-- {
			take := min(k, vc[i].n)
			sum += take * vc[i].v
			k -= take
		}
		return sum
	}
	d.Top1Sum, d.Top10Sum = top(1), top(10)
	if d.Total > 0 {
		d.Top1Share = float64(d.Top1Sum) / float64(d.Total)
		d.Top10Share = float64(d.Top10Sum) / float64(d.Total)
	}
	return d
}

// degreeBucket is the index of v's histogram bucket: 0 for 0, 1 for 1,
// then one per decimal digit count (2-9, 10-99, ...).
func degreeBucket(v int64) int {
	if v <= 1 {
		return int(max(v, 0))
	}
	return 1 + len(strconv.FormatInt(v, 10))
}

// bucketBounds are the least and greatest value of bucket b.
func bucketBounds(b int) (lo, hi int64) {
	switch b {
	case 0, 1:
		return int64(b), int64(b)
	case 2:
		return 2, 9
	}
	lo = 1
	for range b - 2 {
		lo *= 10
	}
	return lo, lo*10 - 1
}

// degreeDistribution builds the distribution and histogram of sorted
// (degree, hosts) pairs.
func degreeDistribution(vc []valueCount) DegreeDistribution {
	d := DegreeDistribution{Distribution: distributionOf(vc), Histogram: []DegreeBucket{}}
	if len(vc) == 0 {
		return d
	}
	first, last := degreeBucket(vc[0].v), degreeBucket(vc[len(vc)-1].v)
	for b := first; b <= last; b++ {
		lo, hi := bucketBounds(b)
		d.Histogram = append(d.Histogram, DegreeBucket{Min: lo, Max: hi})
	}
	for _, p := range vc {
		d.Histogram[degreeBucket(p.v)-first].Hosts += p.n
	}
	return d
}

// hostRow is what a link statistic shows of a host in the day's census.
type hostRow struct {
	software              string
	accounts, activeMonth *int64
	peerCount             *int64
}

// hostInfo reads the day rows of hosts on day at, under the query's
// flagged rule but without its software and language filters (they
// select the listing hosts, not the hosts shown). Hosts not in the census
// that day are absent.
func (s *Stats) hostInfo(ctx context.Context, q Query, at time.Time, hosts []string, what string) (map[string]hostRow, error) {
	out := make(map[string]hostRow, len(hosts))
	if len(hosts) == 0 {
		return out, nil
	}
	rows, err := s.infoRows(ctx, q, at, what)
	if err != nil {
		return nil, err
	}
	err = s.query(ctx, what, `
SELECT host, any(software), any(users_total), any(users_active_month), any(peer_count)
FROM (`+rows.SQL+`)
WHERE host IN (`+sqlStrings(hosts)+`)
GROUP BY host`, func(r driver.Rows) error {
		var (
			h   string
			row hostRow
		)
		if err := r.Scan(&h, &row.software, &row.accounts, &row.activeMonth, &row.peerCount); err != nil {
			return err
		}
		out[h] = row
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// infoRows are the day rows of day at that hostInfo reads.
func (s *Stats) infoRows(ctx context.Context, q Query, at time.Time, what string) (store.DayRows, error) {
	f := store.DayFilter{To: at, At: true, IncludeFlagged: q.IncludeFlagged, CarryDays: q.CarryDays}
	rows, err := s.src.DayRows(ctx, f, "host", "software", "users_total", "users_active_month", "peer_count")
	if err != nil {
		return store.DayRows{}, fmt.Errorf("compute %s: %w", what, err)
	}
	return rows, nil
}

// inDegreesOf returns the in-degree of each of hosts on day at (absent:
// 0), read through peer_events_by_peer: only the links to those hosts.
func (s *Stats) inDegreesOf(ctx context.Context, rows store.DayRows, at time.Time, hosts []string, what string) (map[string]int64, error) {
	byID := make(map[uint64]string, len(hosts))
	ids := make([]uint64, len(hosts))
	for i, h := range hosts {
		ids[i] = hostid.Of(h)
		byID[ids[i]] = h
	}
	out := make(map[string]int64, len(hosts))
	err := s.query(ctx, what, `
SELECT peer_id, toInt64(count()) FROM (
    SELECT peer_id, host_id FROM peer_events_by_peer
    WHERE peer_id IN (`+sqlIDs(ids)+`) AND at < `+dayEndSQL(at)+`
      AND host_id IN (`+listerIDsSQL(rows)+`)
    GROUP BY peer_id, host_id
    HAVING argMax(present, at) = 1
)
GROUP BY peer_id`, func(r driver.Rows) error {
		var (
			id uint64
			n  int64
		)
		if err := r.Scan(&id, &n); err != nil {
			return err
		}
		out[byID[id]] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// edgesAmong returns the links among hosts at the end of day at listed by
// the listing hosts of rows (or by ego, when set), sorted.
func (s *Stats) edgesAmong(ctx context.Context, rows store.DayRows, at time.Time, hosts []string, ego, what string) ([]LinkEdge, error) {
	edges := []LinkEdge{}
	if len(hosts) == 0 {
		return edges, nil
	}
	byID := make(map[uint64]string, len(hosts))
	ids := make([]uint64, len(hosts))
	for i, h := range hosts {
		ids[i] = hostid.Of(h)
		byID[ids[i]] = h
	}
	set := sqlIDs(ids)
	listers := `host_id IN (` + listerIDsSQL(rows) + `)`
	if ego != "" {
		listers = `(` + listers + ` OR host_id = ` + strconv.FormatUint(hostid.Of(ego), 10) + `)`
	}
	err := s.query(ctx, what, `
SELECT host_id, peer_id FROM peer_events
WHERE host_id IN (`+set+`) AND peer_id IN (`+set+`) AND `+listers+` AND at < `+dayEndSQL(at)+`
GROUP BY host_id, peer_id
HAVING argMax(present, at) = 1`, func(r driver.Rows) error {
		var h, p uint64
		if err := r.Scan(&h, &p); err != nil {
			return err
		}
		if h != p {
			edges = append(edges, LinkEdge{Source: byID[h], Target: byID[p]})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].Source != edges[j].Source {
			return edges[i].Source < edges[j].Source
		}
		return edges[i].Target < edges[j].Target
	})
	return edges, nil
}

// checkTop validates the n of a top list.
func checkTop(n, limit int) error {
	if n < 1 || n > limit {
		return fmt.Errorf("%w: n must be between 1 and %d", ErrBadQuery, limit)
	}
	return nil
}

// sqlString is a ClickHouse string literal of v.
func sqlString(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// sqlStrings is a comma-separated list of string literals.
func sqlStrings(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = sqlString(v)
	}
	return strings.Join(q, ", ")
}

// sqlIDs is a comma-separated list of host ids (0 alone for none, which
// no host has in practice, so that IN () stays valid SQL).
func sqlIDs(ids []uint64) string {
	if len(ids) == 0 {
		return "0"
	}
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = strconv.FormatUint(id, 10)
	}
	return strings.Join(q, ", ")
}
