package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/store"
)

// bench holds what the phases share.
type bench struct {
	cfg config
	st  *store.Store
	// addr and db locate the bench database.
	addr, db string
	// conn is a connection of its own to the bench database, for the
	// generating statements the store has no method for.
	conn driver.Conn
	log  *slog.Logger
	// today is the UTC day of the run: the last generated day, left live.
	today time.Time
}

// day is the date of generated day d (0 .. days-1, the last being today).
func (b *bench) day(d int) time.Time { return b.today.AddDate(0, 0, d-(b.cfg.days-1)) }

// never is a day number past any generated day.
const never = 1_000_000

// uniform is a uniform draw in [0, 1) from the hash of the SQL
// expressions keys, the seed and k: the same inputs give the same draw in
// every statement, so the snapshots and the links agree on each instance.
func (b *bench) uniform(k int, keys ...string) string {
	return fmt.Sprintf("(cityHash64(%s, toUInt64(%d), toUInt64(%d)) / 18446744073709551616.0)", strings.Join(keys, ", "), b.cfg.seed, k)
}

// hostName is the SQL of the name of instance or peer number x: the
// instances are 0 .. instances-1; higher numbers are names that appear in
// peer lists only (dead hosts, typos, relays).
func hostName(x string, instances int) string {
	return fmt.Sprintf(`if(%[1]s < %[2]d,
    concat(['mastodon', 'social', 'fedi', 'toot', 'masto', 'm', 'misskey', 'lemmy'][1 + %[1]s %% 8], '-', toString(%[1]s), '.',
           ['example', 'social', 'club', 'town', 'net', 'org', 'io', 'space', 'online', 'xyz'][1 + intDiv(%[1]s, 8) %% 10]),
    concat('gone-', toString(%[1]s), '.example'))`, x, instances)
}

// languagePool weighs the languages an instance lists like the
// fediverse's (English first, then German, Japanese, French, Spanish).
const languagePool = `['en','en','en','en','en','en','en','en','en','en','de','de','de','ja','ja','ja','fr','fr','es','es',
    'it','nl','pt','pt','ru','zh','ko','pl','sv','uk']`

// hostsSQL is one row per instance h with its life and attributes, drawn
// once: birth (15% after day 0), death (10%) and return (40% of those,
// 40 to 90 days later), whether it misses days (8% miss 10% of them),
// software (a mix like the fediverse's, 0.5% switching to GoToSocial),
// versions (one or two upgrades), languages (45% one, 17% two, 5% three,
// 33% none), registrations (40% open; 10% flip for a month), size
// (log-heavy: most have a handful of users, a few hundreds of
// thousands), suspect figures (0.6%, for 20 days), its peer count (20%
// publish none; log-normal around -peer-median, -big-peers with
// 100,000) and its domain blocks (25% publish some).
func (b *bench) hostsSQL() string {
	n, days := b.cfg.instances, b.cfg.days
	u := func(k int) string { return b.uniform(k, "number") }
	return fmt.Sprintf(`
SELECT h, host, birth, death, back, flaky, software, swto, swday, vmajor, vbase, up1, up2, languages, open, flip_from,
       users, null_users, active_share, posts_per_user, susp_from, deg, nblocks, crawl_sec, title, description, source
FROM (
    SELECT
        number AS h,
        %[3]s AS host,
        toUInt32(if(%[4]s < 0.85, 0, 1 + %[5]s * %[2]d)) AS birth,
        toUInt32(if(%[6]s < 0.10, birth + 1 + %[7]s * %[2]d, %[8]d)) AS death,
        toUInt32(if(%[9]s < 0.40, death + 40 + %[10]s * 50, %[8]d)) AS back,
        toUInt8(%[11]s < 0.08) AS flaky,
        multiIf(%[12]s < 0.55, 'mastodon', %[12]s < 0.63, 'misskey', %[12]s < 0.70, 'lemmy', %[12]s < 0.76, 'pleroma',
                %[12]s < 0.79, 'akkoma', %[12]s < 0.84, 'gotosocial', %[12]s < 0.89, 'peertube', %[12]s < 0.92, 'friendica',
                %[12]s < 0.94, 'sharkey', %[12]s < 0.95, 'writefreely', %[12]s < 0.96, 'firefish',
                concat('software-', toString(number %% 150))) AS software,
        'gotosocial' AS swto,
        toUInt32(if(software = 'mastodon' AND %[13]s < 0.01, %[14]s * %[2]d, %[8]d)) AS swday,
        multiIf(software = 'mastodon', 4, software IN ('misskey', 'sharkey'), 2024, software = 'lemmy', 0, 1) AS vmajor,
        toUInt32(%[15]s * 4) AS vbase,
        toUInt32(if(%[16]s < 0.8, %[17]s * %[2]d, %[8]d)) AS up1,
        toUInt32(if(%[18]s < 0.4, %[19]s * %[2]d, %[8]d)) AS up2,
        multiIf(%[20]s < 0.45, [%[23]s[1 + toUInt32(%[21]s * 30)]],
                %[20]s < 0.62, arrayDistinct([%[23]s[1 + toUInt32(%[21]s * 30)], %[23]s[1 + toUInt32(%[22]s * 30)]]),
                %[20]s < 0.67, arrayDistinct([%[23]s[1 + toUInt32(%[21]s * 30)], %[23]s[1 + toUInt32(%[22]s * 30)],
                                              %[23]s[1 + toUInt32(%[24]s * 30)]]),
                emptyArrayString()) AS languages,
        toUInt8(%[25]s < 0.4) AS open,
        toUInt32(if(%[26]s < 0.1, %[27]s * %[2]d, %[8]d)) AS flip_from,
        exp(pow(%[28]s, 1.5) * 13.5) AS users,
        toUInt8(%[29]s < 0.02) AS null_users,
        0.03 + 0.25 * %[30]s AS active_share,
        10 + 300 * %[31]s AS posts_per_user,
        toUInt32(if(%[32]s < 0.006, %[33]s * %[2]d, %[8]d)) AS susp_from,
        toUInt32(multiIf(number < %[34]d, 100000, %[35]s < 0.2, 0,
            least(100000, exp(ln(%[36]d) + 1.3 * sqrt(-2 * ln(%[37]s + 1e-12)) * cos(2 * pi() * %[38]s))))) AS deg,
        toUInt32(if(%[39]s < 0.25, least(5000, exp(ln(30) + 1.2 * sqrt(-2 * ln(%[40]s + 1e-12)) * cos(2 * pi() * %[41]s))), 0)) AS nblocks,
        toUInt32(%[42]s * 86000) AS crawl_sec,
        concat('Instance number ', toString(number)) AS title,
        concat('A friendly community server for people who like ', ['cats', 'trains', 'music', 'art', 'science', 'games'][1 + number %% 6],
               '. Be kind; no ads; federation with everyone who follows the rules.') AS description,
        multiIf(software = 'mastodon', 'mastodon_api', software IN ('pleroma', 'akkoma'), 'mrf_simple', software = 'lemmy', 'lemmy',
                '') AS source
    FROM numbers(%[1]d)
)`, n, days, hostName("number", n),
		u(1), u(2), u(3), u(4), never, u(5), u(6), u(7), u(8), u(9), u(10), u(11), u(12), u(13), u(14), u(15),
		u(16), u(17), u(18), languagePool, u(19), u(20), u(21), u(22), u(23), u(24), u(25), u(26), u(27), u(28),
		b.cfg.bigPeers, u(29), b.cfg.peerMedian, u(30), u(31), u(32), u(33), u(34), u(35))
}

// snapshotColumns are the snapshot columns the generator writes, in the
// order of snapshotsSQL's SELECT.
const snapshotColumns = `host, crawled_at, software, version, nodeinfo_version, title, open_registrations, private, protocols,
    users_total, users_active_month, users_active_halfyear, local_posts, flags, instance_title, description, languages, rules,
    contact_email, contact_account, registration_mode, peer_count, block_count`

// snapshotsSQL generates the snapshots of days from .. to-1: one a day
// for every instance alive that day and not missed, crawled at its own
// second of the day, its counts growing over the days (an instance born
// late from a twentieth of its size).
func (b *bench) snapshotsSQL(from, to int) string {
	days := b.cfg.days
	ud := func(k int) string { return b.uniform(k, "h", "toUInt64(d)") }
	return fmt.Sprintf(`
INSERT INTO snapshots (%[1]s)
SELECT host, crawled_at, sw, version, '2.0', title, open_registrations, toUInt8(0), ['activitypub'],
       users_total, users_active_month, users_active_halfyear, local_posts, flags, title, description, languages,
       emptyArrayString(), concat('admin@', host), '', if(open_registrations = 1, 'open', 'approval'), peer_count, block_count
FROM (
    SELECT host, h, d,
        toDateTime(%[2]d + d * 86400 + crawl_sec) AS crawled_at,
        if(d >= swday, swto, software) AS sw,
        concat(toString(vmajor), '.', toString(vbase + (d >= up1) + (d >= up2)), '.', toString(h %% 13)) AS version,
        toUInt8(if(d >= flip_from AND d < flip_from + 30, 1 - open, open)) AS open_registrations,
        if(birth = 0, 0.55 + 0.45 * (d + 1) / %[3]d, 0.05 + 0.95 * (d - birth + 1) / (%[3]d - birth)) AS growth,
        toInt64(1 + users * growth) AS n_users,
        d >= susp_from AND d < susp_from + 20 AS suspect,
        if(null_users = 1, NULL, toNullable(n_users)) AS users_total,
        if(null_users = 1, NULL, toNullable(toInt64(if(suspect, n_users * 3.0, n_users * active_share * (0.9 + 0.2 * %[4]s))))) AS users_active_month,
        if(null_users = 1, NULL, toNullable(toInt64(least(toFloat64(n_users), n_users * active_share * 1.7 + 1)))) AS users_active_halfyear,
        if(null_users = 1, NULL, toNullable(toInt64(n_users * posts_per_user * (0.5 + 0.5 * (d + 1) / %[3]d)))) AS local_posts,
        multiIf(suspect, ['active_above_total'], n_users <= 1, ['single_user'], emptyArrayString()) AS flags,
        if(deg = 0, NULL, toNullable(toInt64(deg * (0.5 + 0.5 * (d + 1) / %[3]d)))) AS peer_count,
        if(nblocks = 0, NULL, toNullable(toInt64(nblocks))) AS block_count,
        title, description, languages
    FROM (%[5]s) CROSS JOIN (SELECT toUInt32(number + %[6]d) AS d FROM numbers(%[7]d))
    WHERE d >= birth AND (d < death OR d >= back) AND NOT (flaky = 1 AND %[8]s < 0.1)
)`, snapshotColumns, b.day(0).Unix(), days, ud(1), b.hostsSQL(), from, to-from, ud(2))
}

// latestSQL fills instances_latest with each host's newest snapshot, as
// InsertSnapshots would have; the tuple keeps NULL counts.
func latestSQL() string {
	cols := strings.Split(strings.NewReplacer("\n", "", " ", "").Replace(snapshotColumns), ",")
	var elems []string
	for i := range cols[1:] {
		elems = append(elems, fmt.Sprintf("tupleElement(t, %d)", i+1))
	}
	return `
INSERT INTO instances_latest (` + snapshotColumns + `)
SELECT host, ` + strings.Join(elems, ", ") + `
FROM (
    SELECT host, argMax(tuple(` + strings.Join(cols[1:], ", ") + `), crawled_at) AS t
    FROM snapshots
    GROUP BY host
)`
}

// generate fills snapshots (a month of days per statement) and
// instances_latest, and counts what it wrote.
func (b *bench) generate(ctx context.Context, res *results) error {
	conn, err := b.openConn(ctx)
	if err != nil {
		return err
	}
	b.conn = conn
	began := time.Now()
	const chunk = 30
	for from := 0; from < b.cfg.days; from += chunk {
		to := min(from+chunk, b.cfg.days)
		if err := b.conn.Exec(ctx, b.snapshotsSQL(from, to)); err != nil {
			return fmt.Errorf("generating the snapshots of days %d to %d: %w", from, to-1, err)
		}
		b.log.Info("snapshots generated", "days", to, "of", b.cfg.days)
	}
	if err := b.conn.Exec(ctx, latestSQL()); err != nil {
		return fmt.Errorf("filling instances_latest: %w", err)
	}
	res.Generate = time.Since(began)
	err = b.conn.QueryRow(ctx, `SELECT count(), uniqExact(host), countIf(hasAny(flags, ['active_above_total'])) FROM snapshots`).
		Scan(&res.Snapshots, &res.Hosts, &res.SuspectSnapshots)
	if err != nil {
		return fmt.Errorf("counting the snapshots: %w", err)
	}
	if err := b.conn.QueryRow(ctx, `SELECT count() FROM snapshots WHERE toDate(crawled_at) = ?`, b.today.Format(time.DateOnly)).
		Scan(&res.TodaySnapshots); err != nil {
		return fmt.Errorf("counting today's snapshots: %w", err)
	}
	b.log.Info("census generated", "snapshots", res.Snapshots, "hosts", res.Hosts, "took", res.Generate.Round(time.Millisecond))
	return nil
}

// generateLinks fills hosts, peer_events and block_events: every
// instance's peers (first seen on a day of its life, 8% of the links
// removed later, which is a second event) and its domain blocks, the way
// the crawler stores them (internal/store/links.go).
func (b *bench) generateLinks(ctx context.Context, res *results) error {
	n := b.cfg.instances
	peers := 4 * n // names in peer lists: the instances and three times as many others
	began := time.Now()
	err := b.conn.Exec(ctx, fmt.Sprintf(`
INSERT INTO hosts (id, host)
SELECT cityHash64(name), name FROM (SELECT %s AS name FROM numbers(%d))`, hostName("number", n), peers))
	if err != nil {
		return fmt.Errorf("generating hosts: %w", err)
	}
	ul := func(k int) string { return b.uniform(k, "h", "toUInt64(j)") }
	const hostChunk = 5_000
	for from := 0; from < n; from += hostChunk {
		to := min(from+hostChunk, n)
		err := b.conn.Exec(ctx, fmt.Sprintf(`
INSERT INTO peer_events (host_id, peer_id, at, present)
SELECT cityHash64(host), cityHash64(%[1]s), toDateTime(%[2]d + if(present = 1, seen, gone) * 86400 + crawl_sec), present
FROM (
    SELECT host, crawl_sec, p, seen, gone, arrayJoin(if(gone < %[3]d, [1, 0], [1])) AS present
    FROM (
        SELECT host, crawl_sec, (h * 7919 + j) %% %[4]d AS p,
               toUInt32(if(%[5]s < 0.6, birth, birth + %[6]s * (least(death, %[3]d) - birth))) AS seen,
               toUInt32(if(%[7]s < 0.08, seen + 1 + %[8]s * %[3]d, %[9]d)) AS gone
        FROM (SELECT * FROM (%[10]s) WHERE h >= %[11]d AND h < %[12]d AND deg > 0 AND birth < %[3]d)
        ARRAY JOIN range(least(deg, %[4]d)) AS j
    )
)`, hostName("p", n), b.day(0).Unix(), b.cfg.days, peers, ul(1), ul(2), ul(3), ul(4), never, b.hostsSQL(), from, to))
		if err != nil {
			return fmt.Errorf("generating the peer events of instances %d to %d: %w", from, to-1, err)
		}
	}
	b.log.Info("peer events generated", "took", time.Since(began).Round(time.Millisecond))
	err = b.conn.Exec(ctx, fmt.Sprintf(`
INSERT INTO block_events (host_id, domain, digest, severity, reason, source, at, present)
SELECT cityHash64(host), domain, concat(lower(hex(MD5(domain))), lower(hex(MD5(concat(domain, '#'))))),
       multiIf(%[1]s < 0.6, 'suspend', %[1]s < 0.9, 'silence', %[1]s < 0.97, 'limit', 'noop'),
       ['', '', '', '', 'spam', 'harassment', 'hate speech; no moderation', 'CSAM', 'bots and spam waves',
        'Fascism and transphobia, ignores reports', 'freeze peach', 'crypto scams'][1 + toUInt32(%[2]s * 12)],
       source, toDateTime(%[3]d + (birth + toUInt32(%[4]s * (least(death, %[5]d) - birth))) * 86400 + crawl_sec), toUInt8(1)
FROM (
    SELECT host, h, j, birth, death, crawl_sec, source, concat('bad-', toString((h * 31 + j) %% 20000), '.example') AS domain
    FROM (SELECT * FROM (%[6]s) WHERE nblocks > 0 AND birth < %[5]d)
    ARRAY JOIN range(nblocks) AS j
)`, ul(5), ul(6), b.day(0).Unix(), ul(7), b.cfg.days, b.hostsSQL()))
	if err != nil {
		return fmt.Errorf("generating the block events: %w", err)
	}
	// The Threads view's platforms: 40% of the instances that publish
	// blocks restrict threads.net (suspend or limit), 10% bsky.brid.gy,
	// from a day of their life on.
	err = b.conn.Exec(ctx, fmt.Sprintf(`
INSERT INTO block_events (host_id, domain, digest, severity, reason, source, at, present)
SELECT cityHash64(host), domain, concat(lower(hex(MD5(domain))), lower(hex(MD5(concat(domain, '#'))))),
       if(%[1]s < 0.7, 'suspend', 'limit'), if(%[1]s < 0.3, 'Meta', ''), source,
       toDateTime(%[2]d + (birth + toUInt32(%[3]s * (least(death, %[4]d) - birth))) * 86400 + crawl_sec), toUInt8(1)
FROM (
    SELECT host, h, birth, death, crawl_sec, source, arrayJoin(arrayFilter(x -> x != '',
           [if(%[5]s < 0.4, 'threads.net', ''), if(%[6]s < 0.1, 'bsky.brid.gy', '')])) AS domain
    FROM (%[7]s) WHERE nblocks > 0 AND birth < %[4]d
)`, b.uniform(8, "h"), b.day(0).Unix(), b.uniform(9, "h"), b.cfg.days, b.uniform(10, "h"), b.uniform(11, "h"), b.hostsSQL()))
	if err != nil {
		return fmt.Errorf("generating the blocks of watched platforms: %w", err)
	}
	// The store writes every peer event twice, the copy keyed by peer
	// for in-degrees (internal/store links_stats.go).
	err = b.conn.Exec(ctx, `INSERT INTO peer_events_by_peer (peer_id, host_id, at, present)
SELECT peer_id, host_id, at, present FROM peer_events`)
	if err != nil {
		return fmt.Errorf("copying the peer events by peer: %w", err)
	}
	res.Links = time.Since(began)
	b.log.Info("links generated", "took", res.Links.Round(time.Millisecond))
	return nil
}
