package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// The instance explorer (ListInstances) reads the latest state of every
// host like Instances does, one GROUP BY host over the snapshots, with
// what its filters and sorts need besides: the instance document's title
// and languages, and the sizes of the latest peer and block lists read.
// The list sizes are NULL on the snapshots of visits that did not read a
// list (not published, or not due again yet), so they are taken from the
// latest snapshot that has one: the argMax key puts the NULLs first, and
// the tuple keeps the NULL of a host that never had a list (a bare
// argMax would skip NULLs on some releases and not on others).
const listLatestSQL = `
SELECT
    host,
    min(crawled_at)       AS first_seen,
    max(crawled_at)       AS last_crawl,
    uniqExact(crawled_at) AS n_snapshots,
    argMax(tuple(software, version, nodeinfo_version, title, open_registrations, private, protocols,
                 users_total, users_active_month, users_active_halfyear, local_posts, instance_title, languages),
           crawled_at) AS latest,
    argMax(flags, crawled_at) AS latest_flags,
    argMax(tuple(peer_count), if(isNull(peer_count), 0, toUInt32(crawled_at)))   AS peers_t,
    argMax(tuple(block_count), if(isNull(block_count), 0, toUInt32(crawled_at))) AS blocks_t
FROM snapshots
%s
GROUP BY host
HAVING host NOT IN (` + liveOptOutsSQL + `)`

// listColumns reads listLatestSQL's rows in the order scanListed expects;
// %s is the sort key expression.
const listColumns = `
    host,
    last_crawl,
    tupleElement(latest, 1)  AS sw,
    tupleElement(latest, 2)  AS sw_version,
    tupleElement(latest, 3)  AS ni_version,
    tupleElement(latest, 4)  AS ni_title,
    tupleElement(latest, 5)  AS open_regs,
    tupleElement(latest, 6)  AS is_private,
    tupleElement(latest, 7)  AS protos,
    tupleElement(latest, 8)  AS n_users,
    tupleElement(latest, 9)  AS n_active_month,
    tupleElement(latest, 10) AS n_active_halfyear,
    tupleElement(latest, 11) AS n_local_posts,
    first_seen,
    n_snapshots,
    latest_flags,
    tupleElement(peers_t, 1)  AS n_peers,
    tupleElement(blocks_t, 1) AS n_blocks,
    %s AS sort_key`

// listSortKeys are the Int64 sort key of each sort but the host name;
// unknown counts become the sentinel {unknown}, which puts them last.
var listSortKeys = map[string]string{
	model.InstanceSortUsers:     "ifNull(tupleElement(latest, 8), {unknown})",
	model.InstanceSortActive:    "ifNull(tupleElement(latest, 9), {unknown})",
	model.InstanceSortPosts:     "ifNull(tupleElement(latest, 11), {unknown})",
	model.InstanceSortPeers:     "ifNull(tupleElement(peers_t, 1), {unknown})",
	model.InstanceSortFirstSeen: "toInt64(toUInt32(first_seen))",
	model.InstanceSortHost:      "toInt64(0)",
}

// Sentinels of unknown counts in the sort key: the end of the order,
// whichever the direction. A count equal to a sentinel ties with unknown
// ones and is ordered by host among them, which keeps pages stable.
const (
	unknownLastDesc = math.MinInt64 + 1
	unknownLastAsc  = math.MaxInt64
)

// listCursor is the position after the last row of a ListInstances page.
type listCursor struct {
	sort, order string
	key         int64
	host        string
}

// listCursorTag starts every ListInstances cursor, so that a cursor of
// Instances (or a future format) is told apart and refused.
const listCursorTag = "l1"

func (c listCursor) encode() string {
	raw := strings.Join([]string{listCursorTag, c.sort, c.order, strconv.FormatInt(c.key, 10), c.host}, cursorSep)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeListCursor parses a client's cursor for sort and order. Every
// failure wraps model.ErrBadQuery with a message safe to show.
func decodeListCursor(s, sort, order string) (listCursor, error) {
	bad := fmt.Errorf("%w: invalid cursor", model.ErrBadQuery)
	if len(s) > maxCursorLen {
		return listCursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return listCursor{}, bad
	}
	parts := strings.Split(string(raw), cursorSep)
	if len(parts) != 5 || parts[0] != listCursorTag || parts[4] == "" {
		return listCursor{}, bad
	}
	key, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return listCursor{}, bad
	}
	c := listCursor{sort: parts[1], order: parts[2], key: key, host: parts[4]}
	if c.sort != sort || c.order != order {
		return listCursor{}, fmt.Errorf("%w: cursor belongs to another sort or order", model.ErrBadQuery)
	}
	return c, nil
}

// ListInstances lists the latest state of each host, filtered, sorted and
// paged as q says (see model.InstanceListQuery). Instances carry PeerCount
// and BlockCount: the sizes of the latest peer and block lists read.
//
// Pagination is keyset pagination on (sort key, host) for every sort: the
// cursor holds the last row's key, so a page never repeats or skips a row
// of an unchanged census, and stays stable while new snapshots arrive,
// except that an instance whose sorted value changes between two pages may
// move past the cursor or appear twice. Limit 0 means DefaultLimit, larger
// than MaxLimit means MaxLimit. An unknown sort, order, registrations or
// flagged value, a negative limit, a text longer than
// model.MaxInstanceText or a malformed cursor wrap model.ErrBadQuery.
func (s *Store) ListInstances(ctx context.Context, q model.InstanceListQuery) (model.InstancePage, error) {
	sort := q.Sort
	if sort == "" {
		sort = model.InstanceSortUsers
	}
	keyExpr, ok := listSortKeys[sort]
	if !ok {
		return model.InstancePage{}, fmt.Errorf("%w: sort must be one of %s", model.ErrBadQuery, strings.Join(model.InstanceSorts, ", "))
	}
	order := q.Order
	if order == "" {
		order = model.OrderDesc
		if sort == model.InstanceSortHost {
			order = model.OrderAsc
		}
	}
	if order != model.OrderAsc && order != model.OrderDesc {
		return model.InstancePage{}, fmt.Errorf("%w: order must be %q or %q", model.ErrBadQuery, model.OrderAsc, model.OrderDesc)
	}
	sentinel := int64(unknownLastDesc)
	if order == model.OrderAsc {
		sentinel = unknownLastAsc
	}
	keyExpr = strings.ReplaceAll(keyExpr, "{unknown}", fmt.Sprintf("toInt64(%d)", sentinel))

	limit := q.Limit
	switch {
	case limit < 0:
		return model.InstancePage{}, fmt.Errorf("%w: limit must not be negative", model.ErrBadQuery)
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}

	var (
		where []string
		args  []any
	)
	if len(q.Software) > 0 {
		quoted := make([]string, 0, len(q.Software))
		for _, sw := range q.Software {
			if sw = strings.ToLower(strings.TrimSpace(sw)); sw != "" && !slices.Contains(quoted, quoteString(sw)) {
				quoted = append(quoted, quoteString(sw))
			}
		}
		if len(quoted) > 0 {
			where = append(where, "tupleElement(latest, 1) IN ("+strings.Join(quoted, ", ")+")")
		}
	}
	if lang := strings.ToLower(strings.TrimSpace(q.Language)); lang != "" {
		where = append(where, "has(tupleElement(latest, 13), ?)")
		args = append(args, lang)
	}
	switch q.Registrations {
	case "":
	case model.RegistrationsOpen:
		where = append(where, "tupleElement(latest, 5) = 1")
	case model.RegistrationsClosed:
		where = append(where, "tupleElement(latest, 5) = 0")
	default:
		return model.InstancePage{}, fmt.Errorf("%w: registrations must be %q or %q", model.ErrBadQuery,
			model.RegistrationsOpen, model.RegistrationsClosed)
	}
	flagged, err := flaggedWhere(q.Flagged)
	if err != nil {
		return model.InstancePage{}, err
	}
	if flagged != "" {
		where = append(where, flagged)
	}
	if text := strings.ToLower(strings.TrimSpace(q.Text)); text != "" {
		if len(text) > model.MaxInstanceText {
			return model.InstancePage{}, fmt.Errorf("%w: the text to look for is longer than %d bytes", model.ErrBadQuery, model.MaxInstanceText)
		}
		where = append(where, "(position(host, ?) > 0 OR position(lowerUTF8(tupleElement(latest, 4)), ?) > 0"+
			" OR position(lowerUTF8(tupleElement(latest, 12)), ?) > 0)")
		args = append(args, text, text, text)
	}

	var orderBy string
	if sort == model.InstanceSortHost {
		cmp, dir := ">", "ASC"
		if order == model.OrderDesc {
			cmp, dir = "<", "DESC"
		}
		if q.Cursor != "" {
			c, err := decodeListCursor(q.Cursor, sort, order)
			if err != nil {
				return model.InstancePage{}, err
			}
			where = append(where, "host "+cmp+" ?")
			args = append(args, c.host)
		}
		orderBy = "host " + dir
	} else {
		cmp, dir := "<", "DESC"
		if order == model.OrderAsc {
			cmp, dir = ">", "ASC"
		}
		if q.Cursor != "" {
			c, err := decodeListCursor(q.Cursor, sort, order)
			if err != nil {
				return model.InstancePage{}, err
			}
			where = append(where, "(sort_key "+cmp+" ? OR (sort_key = ? AND host > ?))")
			args = append(args, c.key, c.key, c.host)
		}
		orderBy = "sort_key " + dir + ", host ASC"
	}

	query := "SELECT" + fmt.Sprintf(listColumns, keyExpr) + "\nFROM (" + fmt.Sprintf(listLatestSQL, "") + ")"
	if len(where) > 0 {
		query += "\nWHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf("\nORDER BY %s\nLIMIT %d", orderBy, limit+1)

	page := model.InstancePage{Instances: make([]model.Instance, 0, min(limit, 64))}
	var lastKey int64
	more := false
	err = s.eachRow(ctx, query, func(r driver.Rows) error {
		if len(page.Instances) == limit {
			more = true
			return nil
		}
		in, key, err := scanListed(r)
		if err != nil {
			return err
		}
		page.Instances = append(page.Instances, in)
		lastKey = key
		return nil
	}, args...)
	if err != nil {
		return model.InstancePage{}, fmt.Errorf("list instances: %w", err)
	}
	if more {
		last := page.Instances[len(page.Instances)-1]
		page.NextCursor = listCursor{sort: sort, order: order, key: lastKey, host: last.Host}.encode()
	}
	if err := s.attachInstanceInfo(ctx, page.Instances); err != nil {
		return model.InstancePage{}, fmt.Errorf("list instances: %w", err)
	}
	return page, nil
}

// scanListed reads one row of listColumns.
func scanListed(r scanner) (model.Instance, int64, error) {
	var (
		in      model.Instance
		key     int64
		crawled time.Time
		first   time.Time
	)
	sn := &in.Snapshot
	err := r.Scan(&sn.Host, &crawled, &sn.Software, &sn.Version, &sn.NodeInfoVersion, &sn.Title,
		&sn.OpenRegistrations, &sn.Private, &sn.Protocols,
		&sn.UsersTotal, &sn.UsersActiveMonth, &sn.UsersActiveHalfyear, &sn.LocalPosts,
		&first, &in.Snapshots, &sn.Flags, &sn.PeerCount, &sn.BlockCount, &key)
	if err != nil {
		return model.Instance{}, 0, err
	}
	sn.CrawledAt = fromDB(crawled)
	sn.Protocols = nilIfEmpty(sn.Protocols)
	sn.Flags = nilIfEmpty(sn.Flags)
	in.FirstSeen = fromDB(first)
	return in, key, nil
}

// InstanceLinkCounts returns host's model.LinkCounts, read through the
// snapshots' (host, crawled_at) key. A host without snapshots (or opted
// out) wraps model.ErrNotFound.
func (s *Store) InstanceLinkCounts(ctx context.Context, host string) (model.LinkCounts, error) {
	var (
		lc    model.LinkCounts
		found bool
	)
	err := s.eachRow(ctx, `
SELECT tupleElement(peers_t, 1), tupleElement(blocks_t, 1)
FROM (`+fmt.Sprintf(listLatestSQL, "WHERE host = ?")+`)`, func(r driver.Rows) error {
		found = true
		return r.Scan(&lc.Peers, &lc.Blocks)
	}, host)
	if err != nil {
		return model.LinkCounts{}, fmt.Errorf("get list sizes of %q: %w", host, err)
	}
	if !found {
		return model.LinkCounts{}, fmt.Errorf("get list sizes of %q: %w", host, model.ErrNotFound)
	}
	return lc, nil
}

// LastCrawl is the time of the newest snapshot of any host that has not
// opted out (zero when there is none), read from instances_latest: one row
// per host.
func (s *Store) LastCrawl(ctx context.Context) (time.Time, error) {
	var last time.Time
	err := s.conn.QueryRow(ctx, `
SELECT max(crawled_at) FROM instances_latest WHERE host NOT IN (`+liveOptOutsSQL+`)`).Scan(&last)
	if err != nil {
		return time.Time{}, fmt.Errorf("read last crawl: %w", err)
	}
	return fromDB(last), nil
}
