package dashboard

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
)

// PostStatsStore is the part of the store behind /posts: what the posts
// crawl stored and why it left the rest out. The ClickHouse store
// (*store.Store) satisfies it; with a Store that does not, /posts says
// that post statistics are not available.
type PostStatsStore interface {
	// PostStats aggregates the stored posts and the crawl's verdicts;
	// PerDay covers exactly the days of the query's window.
	PostStats(ctx context.Context, q model.PostStatsQuery) (model.PostStats, error)
}

// Bounds of the posts page.
const (
	// postsDays is the span of the posts-per-day chart: the default
	// retention, so the chart shows what the index can hold.
	postsDays = 90
	// postsTop is how many languages and instances are ranked.
	postsTop = 20
	// postsAPIPath is the JSON behind the page.
	postsAPIPath = "/api/v1/stats/posts"
)

// accessMeanings explain the posts crawl verdicts of hosts
// (model.PostAccess*) to readers who do not know the codes.
var accessMeanings = map[string]string{
	model.PostAccessOK:                "posts read",
	model.PostAccessSignatureRequired: "requires signed requests (authorized fetch); skipped until fedilens signs",
	model.PostAccessDisallowed:        "robots.txt disallows the paths fedilens would read",
	model.PostAccessPrivate:           "the instance says it is private",
	model.PostAccessOptedOut:          "on the opt-out list or the operator's denylist",
	model.PostAccessUnsupported:       "software whose posts fedilens cannot read yet",
	model.PostAccessNoOptIn:           "software without an indexable flag, and no opt-in word configured: nobody there can have said yes, so nothing is read",
	model.PostAccessRefused:           "the instance switched the needed API off",
	model.PostAccessFailed:            "network or server errors",
}

// reasonMeanings explain why accounts and posts were not stored (the
// consent package's reasons and the crawler's own).
var reasonMeanings = map[string]string{
	"not_indexable":       "the author did not opt in to being searchable",
	"noindex":             "the author asked search engines not to index them",
	"opt_out_word":        "#nobot, #noindex, #nosearch or a similar word in the profile",
	"not_public":          "not public: unlisted, followers-only or direct",
	"instance_private":    "the instance is private",
	"forgotten":           "removed at the author's or the operator's request",
	"account_gone":        "the account no longer exists",
	"not_local":           "a post of another instance, read where it was written",
	"lookup_mismatch":     "the server answered for another account",
	"invalid_account":     "an account the server described invalidly",
	"statuses_unreadable": "the author's posts could not be read",
}

// countRow is one row of a table of counts; Meaning explains Name when it
// is a known code, and Path links an instance to its page.
type countRow struct {
	Name    string
	Meaning string
	Value   uint64
	Percent float64
	Path    string
}

type postsData struct {
	Stats model.PostStats
	// Declined is the number of authors whose latest check found no
	// consent, the sum of DeclinedRows.
	Declined uint64
	// Percentages of the stored posts with each flag.
	ContentWarningPct, SensitivePct, AltTextPct float64

	PerDay    chartView
	Languages chartView
	Access    chartView
	Skips     chartView

	LanguageTable countTable
	InstanceTable countTable
	AccessTable   countTable
	SkipTable     countTable
	DeclinedTable countTable
	APIPath       string
}

// countTable is a table of countRows, the text alternative of a chart
// (open when there is no chart) or a table of its own.
type countTable struct {
	Caption, Head, Of string
	// Empty is what the table says when it has no rows.
	Empty string
	Rows  []countRow
	Open  bool
}

// registerPostStats mounts the posts page.
func (d *Dashboard) registerPostStats(mux *http.ServeMux) {
	mux.Handle("GET /posts", d.page(d.postStats))
}

func (d *Dashboard) postStats(r *http.Request) (pageResult, error) {
	ps, ok := d.store.(PostStatsStore)
	if !ok {
		return pageResult{}, &pageError{status: http.StatusNotFound,
			message: "Post statistics are not available on this server."}
	}
	y, m, day := time.Now().UTC().Date()
	to := time.Date(y, m, day+1, 0, 0, 0, 0, time.UTC)
	st, err := ps.PostStats(r.Context(), model.PostStatsQuery{From: to.AddDate(0, 0, -postsDays), To: to, Top: postsTop})
	if err != nil {
		return pageResult{}, wrap("get post statistics", err)
	}
	data := postsData{
		Stats:             st,
		ContentWarningPct: percent(st.ContentWarning, st.Posts),
		SensitivePct:      percent(st.Sensitive, st.Posts),
		AltTextPct:        percent(st.AltText, st.Posts),
		LanguageTable: countTable{Caption: "Table: stored posts by language", Head: "Language", Of: "Posts",
			Empty: "No posts stored yet.", Rows: rankedRows(st.ByLanguage, st.Posts, "languages", languageName, nil)},
		AccessTable: countTable{Caption: "Table: instances by access", Head: "Verdict", Of: "Instances",
			Empty: "No instance's posts were crawled yet.", Rows: mapRows(st.HostsByAccess, accessMeanings)},
		SkipTable: countTable{Caption: "Table: not stored, by reason", Head: "Reason", Of: "Accounts and posts",
			Empty: "Nothing was skipped.", Rows: mapRows(st.Skipped, reasonMeanings)},
		DeclinedTable: countTable{Caption: "Table: authors without consent, by reason", Head: "Reason", Of: "Authors",
			Empty: "No author declined.", Rows: mapRows(st.DeclinedAuthors, reasonMeanings), Open: true},
		InstanceTable: countTable{Caption: "Table: stored posts by instance", Head: "Instance", Of: "Posts",
			Empty: "No posts stored yet.", Open: true,
			Rows: rankedRows(st.ByInstance, st.Posts, "instances", func(s string) string { return s }, instancePath)},
		APIPath: postsAPIPath,
	}
	for _, row := range data.DeclinedTable.Rows {
		data.Declined += row.Value
	}
	if d.chartsReady {
		if err := data.charts(); err != nil {
			return pageResult{}, err
		}
	}
	// A table whose chart is missing is the only view of its data.
	data.LanguageTable.Open = data.Languages.Option == ""
	data.AccessTable.Open = data.Access.Option == ""
	data.SkipTable.Open = data.Skips.Option == ""
	return pageResult{name: "posts", title: "Posts", data: data, charts: true}, nil
}

// charts draws the page's charts from its tables, so chart and table
// always agree.
func (p *postsData) charts() error {
	labels := make([]string, len(p.Stats.PerDay))
	counts := make([]*int64, len(p.Stats.PerDay))
	for i, dc := range p.Stats.PerDay {
		labels[i] = dc.Day.UTC().Format(time.DateOnly)
		counts[i] = model.Int64(int64(min(dc.Count, 1<<62)))
	}
	var err error
	if len(labels) > 0 {
		p.PerDay, err = lineChart("posts-per-day", "Stored posts by day written", labels,
			lineSeries{name: "Posts", values: counts})
		if err != nil {
			return err
		}
	}
	for _, c := range []struct {
		view          *chartView
		id, title, of string
		rows          []countRow
	}{
		{&p.Languages, "posts-languages", "Stored posts by language", "Posts", p.LanguageTable.Rows},
		{&p.Access, "posts-access", "Instances by access to their posts", "Instances", p.AccessTable.Rows},
		{&p.Skips, "posts-skipped", "Not stored, by reason", "Accounts and posts", p.SkipTable.Rows},
	} {
		if len(c.rows) == 0 {
			continue
		}
		labels := make([]string, len(c.rows))
		values := make([]int64, len(c.rows))
		for i, row := range c.rows {
			labels[i], values[i] = row.Name, int64(min(row.Value, 1<<62))
		}
		if *c.view, err = barChart(c.id, c.title, c.of, labels, values); err != nil {
			return err
		}
	}
	return nil
}

// languageName shows a post without a language as BCP 47's "und".
func languageName(code string) string {
	if code == "" {
		return "und"
	}
	return code
}

// rankedRows turns a ranking into rows with shares of total, and one row
// for the rest when the ranking does not cover the total.
func rankedRows(ranked []model.NameCount, total uint64, what string, name func(string) string, path func(string) string) []countRow {
	rows := make([]countRow, 0, len(ranked)+1)
	rest := total
	for _, c := range ranked {
		row := countRow{Name: name(c.Name), Value: c.Count, Percent: percent(c.Count, total)}
		if path != nil {
			row.Path = path(c.Name)
		}
		rows = append(rows, row)
		rest -= min(rest, c.Count)
	}
	if rest > 0 {
		rows = append(rows, countRow{Name: "other " + what, Value: rest, Percent: percent(rest, total)})
	}
	return rows
}

// mapRows sorts counts by code into rows, largest first (ties by code),
// with their meaning and share.
func mapRows(counts map[string]uint64, meanings map[string]string) []countRow {
	var total uint64
	for _, n := range counts {
		total += n
	}
	rows := make([]countRow, 0, len(counts))
	for code, n := range counts {
		name := code
		if name == "" {
			name = "(none)"
		}
		rows = append(rows, countRow{Name: name, Meaning: meanings[code], Value: n, Percent: percent(n, total)})
	}
	slices.SortFunc(rows, func(a, b countRow) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Name, b.Name))
	})
	return rows
}

// percent is 100·n/total, 0 for an empty total.
func percent(n, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}
