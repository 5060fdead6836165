package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/stats"
)

// Stats is the part of the observatory's statistics (internal/stats) the
// census pages read. *stats.Stats satisfies it. Every method takes the
// page's stats.Query, so a page and the API query linked under each of its
// charts (the same path as the API's, with Query.Values) select the same
// rows. Errors that wrap stats.ErrBadQuery carry a message safe to show.
type Stats interface {
	// Totals is instances, accounts, active users and posts per interval.
	Totals(ctx context.Context, q stats.Query) ([]stats.TotalsPoint, error)
	// SoftwareShare groups the instances of To's day by software.
	SoftwareShare(ctx context.Context, q stats.Query) (stats.Shares, error)
	// SoftwareShareOverTime is SoftwareShare per interval.
	SoftwareShareOverTime(ctx context.Context, q stats.Query) ([]stats.Shares, error)
	// VersionShare groups one software's instances by version.
	VersionShare(ctx context.Context, q stats.Query, software string) (stats.Shares, error)
	// VersionShareOverTime is VersionShare per interval.
	VersionShareOverTime(ctx context.Context, q stats.Query, software string) ([]stats.Shares, error)
	// Growth is new, dead and returning instances per interval.
	Growth(ctx context.Context, q stats.Query) ([]stats.GrowthPoint, error)
	// Registrations is open versus closed registrations per interval.
	Registrations(ctx context.Context, q stats.Query) ([]stats.RegistrationsPoint, error)
	// RegistrationsBySoftware is open versus closed by software on To's day.
	RegistrationsBySoftware(ctx context.Context, q stats.Query) (stats.RegistrationsAt, error)
	// Languages groups the instances of To's day by listed language.
	Languages(ctx context.Context, q stats.Query) (stats.Shares, error)
	// Sizes is the distribution of accounts and active users on To's day.
	Sizes(ctx context.Context, q stats.Query) (stats.SizeDistribution, error)
	// History is one instance's daily points; an instance without a point
	// in the range wraps model.ErrNotFound.
	History(ctx context.Context, host string, q stats.Query) ([]stats.HostPoint, error)
}

var _ Stats = (*stats.Stats)(nil)

// The API paths behind the census pages' charts (the shared contract of
// the API and the dashboard).
const (
	apiTotals              = "/api/v1/stats/totals"
	apiSoftware            = "/api/v1/stats/software"
	apiSoftwareOverTime    = "/api/v1/stats/software/over-time"
	apiVersions            = "/api/v1/stats/versions/"
	apiGrowth              = "/api/v1/stats/growth"
	apiRegistrations       = "/api/v1/stats/registrations"
	apiRegistrationsByProg = "/api/v1/stats/registrations/by-software"
	apiLanguages           = "/api/v1/stats/languages"
	apiSizes               = "/api/v1/stats/sizes"
	apiInstances           = "/api/v1/instances"
)

// Bounds of the census pages, so that a census of 50,000 instances and a
// hostile set of software names or languages still make readable charts
// and small pages.
const (
	// seriesShown is how many softwares or versions get a line of their
	// own in a chart over time; the rest are summed as "other".
	seriesShown = 8
	// barsShown is how many bars a ranking chart and its table show; the
	// rest are one "others" row.
	barsShown = 15
	// languagesShown is barsShown for languages, which are many.
	languagesShown = 20
	// versionSoftwares bounds the softwares whose versions /software
	// shows at once.
	versionSoftwares = 4
)

// errNoStats is the page of a deployment without statistics.
var errNoStats = &pageError{status: http.StatusNotFound, message: "The observatory's statistics are not available on this server."}

// parseStatsQuery reads the page's filters from its URL. A malformed one
// is a 400 page that says what is wrong.
func parseStatsQuery(r *http.Request) (stats.Query, error) {
	q, err := stats.ParseQuery(r.URL.Query())
	if errors.Is(err, stats.ErrBadQuery) {
		return stats.Query{}, &pageError{status: http.StatusBadRequest, message: badQueryMessage(err)}
	}
	if err != nil {
		return stats.Query{}, fmt.Errorf("parse statistics query: %w", err)
	}
	return q, nil
}

// badQueryMessage is err's message for a visitor, without the sentinel's
// prefix: "interval must be ...".
func badQueryMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), stats.ErrBadQuery.Error()+": ")
	if msg == "" {
		return "The filters are invalid."
	}
	return "Invalid filter: " + msg + "."
}

// statsError turns a statistic's error into the page's: a query the
// statistics reject (a range that ends before it starts) is the visitor's
// 400, anything else stays an internal error.
func statsError(action string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, stats.ErrBadQuery) {
		return &pageError{status: http.StatusBadRequest, message: badQueryMessage(err)}
	}
	return fmt.Errorf("%s: %w", action, err)
}

// withQuery is path with q's parameters: the link to the API query behind
// a chart, or to another page with the same filters.
func withQuery(path string, q stats.Query) string {
	return withValues(path, q.Values())
}

// withValues is path with v as its query string ("" for none).
func withValues(path string, v url.Values) string {
	if enc := v.Encode(); enc != "" {
		return path + "?" + enc
	}
	return path
}

// filterForm is the state of a census page's filter form, all of it in
// the URL: submitting the form is a plain GET of the page.
type filterForm struct {
	// Action is the page's path.
	Action string
	// Title names the form ("Filters").
	Title    string
	From, To string
	Interval string
	Software string
	Language string
	Flagged  bool
	// Intervals offers the interval choices; empty hides the field (a
	// page without charts over time).
	Intervals []option
	// NoSoftware hides the software and language fields (the instance
	// page, whose host already fixes them).
	NoSoftware bool
	// Any is set when a filter is active (the form is shown open).
	Any bool
	// Reset is the page without filters, "" when there are none.
	Reset string
}

// option is one choice of a select element.
type option struct {
	Value, Label string
	Selected     bool
}

// newFilterForm builds the form of the page at action from q.
func newFilterForm(action string, q stats.Query, intervals bool) filterForm {
	f := filterForm{
		Action:   action,
		Title:    "Filters",
		Interval: string(q.Interval),
		Software: strings.Join(q.Software, ","),
		Language: q.Language,
		Flagged:  q.IncludeFlagged,
		Any:      len(q.Values()) > 0,
	}
	if !q.From.IsZero() {
		f.From = q.From.UTC().Format(stats.DateLayout)
	}
	if !q.To.IsZero() {
		f.To = q.To.UTC().Format(stats.DateLayout)
	}
	if intervals {
		iv := q.Interval
		if iv == "" {
			iv = stats.Day
		}
		for _, o := range []struct {
			v     stats.Interval
			label string
		}{{stats.Day, "Day"}, {stats.Week, "Week"}, {stats.Month, "Month"}} {
			f.Intervals = append(f.Intervals, option{Value: string(o.v), Label: o.label, Selected: o.v == iv})
		}
	}
	if f.Any {
		f.Reset = action
	}
	return f
}

// figure is one chart (or a few charts of the same data) with its table
// alternative and the API query behind it.
type figure struct {
	// ID names the section; chart IDs derive from it.
	ID      string
	Heading string
	// Hint explains what the figure counts, in one sentence.
	Hint string
	// Form, when set, is the filter form shown under the heading (the
	// instance page's time range); Notice says why the figure is empty.
	Form    *filterForm
	Notice  string
	Charts  []chartView
	Table   tableView
	APIPath string
}

// HasChart reports whether a chart is drawn; without one the table is
// the figure and is shown open.
func (f figure) HasChart() bool {
	for _, c := range f.Charts {
		if c.Option != "" {
			return true
		}
	}
	return false
}

// tableView is a table of preformatted cells: every chart's text
// alternative, and the tables of their own.
type tableView struct {
	Caption string
	Head    []column
	Rows    [][]cell
	// Empty is what the table says when it has no rows.
	Empty string
}

// column is a table heading; Num right-aligns the column.
type column struct {
	Label string
	Num   bool
}

// cell is one table cell: text, linked to Path when set, right-aligned
// when Num.
type cell struct {
	Text string
	Path string
	Num  bool
}

// textCell and numCell build cells.
func textCell(s string) cell { return cell{Text: s} }
func numCell(n int64) cell   { return cell{Text: formatNum(n), Num: true} }
func pctCell(f float64) cell { return cell{Text: formatPct(f), Num: true} }
func linkCell(s, path string) cell {
	return cell{Text: s, Path: path}
}

// optCell shows an optional count ("unknown" for nil).
func optCell(v *int64) cell { return cell{Text: formatOptional(v), Num: true} }

// formatPct writes a percentage with one decimal.
func formatPct(f float64) string { return fmt.Sprintf("%.1f %%", f) }

// dayLabel is a chart label for a period or a day.
func dayLabel(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// share is 100·n/total, 0 for an empty total.
func share(n, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

// queryName reports whether s may go into a filter link: what
// stats.ParseQuery accepts as a software name or language tag. Remote
// names that are not (anything is possible) are shown, never linked.
func queryName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// softwarePath is /software with q's filters and software chosen, or ""
// when the name cannot be a filter.
func softwarePath(software string, q stats.Query) string {
	if !queryName(software) {
		return ""
	}
	q.Software = []string{software}
	return withQuery("/software", q)
}

// softwareLabel shows an unknown software as such.
func softwareLabel(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
