package stats

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/store"
)

// Statistics of the stored posts: the public posts of the authors who
// opted in to being searchable (nobody else's are stored). They count
// posts by the UTC day they were created (Query.From and To bound it).
// Query.Software keeps the posts of instances whose latest snapshot runs
// one of the programs, Query.Language the posts written in that language
// (the post's own tag, not the instance's). The sanity flags judge an
// instance's counts, not its posts, so Query.IncludeFlagged changes
// nothing here; opted-out instances' posts are left out (they are purged
// within a minute anyway). Each statistic is one GROUP BY over the latest
// row of each post (posts FINAL), like store.PostStats, which the posts
// page and /api/v1/stats/posts keep using for the crawl's own figures.

// UndeterminedLanguage is the key of posts without a language tag.
const UndeterminedLanguage = "und"

// PostsPoint is the number of posts created in one period.
type PostsPoint struct {
	Period time.Time `json:"period"`
	Posts  int64     `json:"posts"`
}

// PostCount is one key (a hashtag, a language) with its number of posts.
type PostCount struct {
	Key   string `json:"key"`
	Posts int64  `json:"posts"`
}

// PostCounts is a ranking of keys by posts.
type PostCounts struct {
	// Posts is the number of posts the ranking is over (for hashtags: the
	// posts with at least one).
	Posts int64 `json:"posts"`
	// Top are the keys with the most posts, most first, ties by key.
	Top []PostCount `json:"top"`
	// Other is what the keys outside Top count together (for hashtags a
	// post counts once per hashtag it carries).
	Other int64 `json:"other"`
}

// PostsPerDay returns the posts created per interval (a week's or a
// month's value is the sum over its days), oldest first, from From (or
// the first post's day) to To (or the last post's day), zeros included;
// at most store.MaxPostStatsDays days are covered, the last ones.
func (s *Stats) PostsPerDay(ctx context.Context, q Query) ([]PostsPoint, error) {
	const what = "posts per day"
	q, err := q.check()
	if err != nil {
		return nil, err
	}
	counts := map[time.Time]int64{}
	var first, last time.Time
	err = s.query(ctx, what, `
SELECT toUInt32(intDiv(toUInt32(created), 86400)) AS d, toInt64(count())
FROM posts FINAL
WHERE `+postsCond(q)+`
GROUP BY d`, func(r driver.Rows) error {
		var (
			dn uint32
			n  int64
		)
		if err := r.Scan(&dn, &n); err != nil {
			return err
		}
		d := time.Unix(int64(dn)*86400, 0).UTC()
		counts[d] = n
		if first.IsZero() || d.Before(first) {
			first = d
		}
		if d.After(last) {
			last = d
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !q.From.IsZero() {
		first = day(q.From)
	}
	if !q.To.IsZero() {
		last = day(q.To)
	}
	out := []PostsPoint{}
	if first.IsZero() || last.IsZero() || last.Before(first) {
		return out, nil
	}
	if limit := last.AddDate(0, 0, -(store.MaxPostStatsDays - 1)); first.Before(limit) {
		first = limit
	}
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		per := q.Interval.period(d)
		if len(out) == 0 || !out[len(out)-1].Period.Equal(per) {
			out = append(out, PostsPoint{Period: per})
		}
		out[len(out)-1].Posts += counts[d]
	}
	return out, nil
}

// Hashtags returns the n hashtags carried by the most posts.
func (s *Stats) Hashtags(ctx context.Context, q Query, n int) (PostCounts, error) {
	const what = "hashtags"
	if err := checkTop(n, MaxTop); err != nil {
		return PostCounts{}, err
	}
	q, err := q.check()
	if err != nil {
		return PostCounts{}, err
	}
	out := PostCounts{Top: []PostCount{}}
	var uses int64
	err = s.query(ctx, what, `
SELECT toInt64(countIf(notEmpty(tags))), toInt64(sum(length(tags)))
FROM posts FINAL
WHERE `+postsCond(q), func(r driver.Rows) error {
		return r.Scan(&out.Posts, &uses)
	})
	if err != nil {
		return PostCounts{}, err
	}
	err = s.query(ctx, what, `
SELECT tag, toInt64(count()) AS c
FROM (SELECT tags FROM posts FINAL WHERE `+postsCond(q)+`)
ARRAY JOIN tags AS tag
GROUP BY tag
ORDER BY c DESC, tag
LIMIT `+strconv.Itoa(n), out.scanTop(&uses))
	if err != nil {
		return PostCounts{}, err
	}
	out.Other = uses
	return out, nil
}

// scanTop reads one (key, posts) row into c.Top and takes its posts off
// *rest, which ends as the count outside the top.
func (c *PostCounts) scanTop(rest *int64) func(r driver.Rows) error {
	return func(r driver.Rows) error {
		var pc PostCount
		if err := r.Scan(&pc.Key, &pc.Posts); err != nil {
			return err
		}
		c.Top = append(c.Top, pc)
		*rest -= pc.Posts
		return nil
	}
}

// PostLanguages returns the n languages with the most posts
// (UndeterminedLanguage for posts without one).
func (s *Stats) PostLanguages(ctx context.Context, q Query, n int) (PostCounts, error) {
	const what = "post languages"
	if err := checkTop(n, MaxTop); err != nil {
		return PostCounts{}, err
	}
	q, err := q.check()
	if err != nil {
		return PostCounts{}, err
	}
	out := PostCounts{Top: []PostCount{}}
	err = s.query(ctx, what, `
SELECT toInt64(count()) FROM posts FINAL WHERE `+postsCond(q), func(r driver.Rows) error {
		return r.Scan(&out.Posts)
	})
	if err != nil {
		return PostCounts{}, err
	}
	other := out.Posts
	err = s.query(ctx, what, `
SELECT if(language = '', `+sqlString(UndeterminedLanguage)+`, language) AS lang, toInt64(count()) AS c
FROM posts FINAL
WHERE `+postsCond(q)+`
GROUP BY lang
ORDER BY c DESC, lang
LIMIT `+strconv.Itoa(n), out.scanTop(&other))
	if err != nil {
		return PostCounts{}, err
	}
	out.Other = other
	return out, nil
}

// postsCond is the WHERE condition of q over posts: the created days,
// the posts' language, the software of their instance's latest snapshot,
// and no opted-out instance.
func postsCond(q Query) string {
	c := []string{`host NOT IN (` + store.OptedOutHostsSQL + `)`}
	if !q.From.IsZero() {
		c = append(c, `created >= '`+day(q.From).Format(time.DateTime)+`'`)
	}
	if !q.To.IsZero() {
		c = append(c, `created < `+dayEndSQL(q.To))
	}
	if lang := strings.ToLower(strings.TrimSpace(q.Language)); lang != "" {
		if lang == UndeterminedLanguage {
			lang = ""
		}
		c = append(c, `language = `+sqlString(lang))
	}
	var sw []string
	for _, v := range q.Software {
		if v = normSoftware(v); v != "" {
			sw = append(sw, v)
		}
	}
	if len(sw) > 0 {
		c = append(c, `host IN (SELECT host FROM instances_latest GROUP BY host
    HAVING argMax(software, crawled_at) IN (`+sqlStrings(sw)+`))`)
	}
	return strings.Join(c, " AND ")
}
