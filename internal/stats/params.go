package stats

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The URL parameters of a Query, shared by the API (/api/v1/stats/...) and
// the dashboard's pages, so that a dashboard view and the API query behind
// its chart select the same rows and a shared link reproduces the view.
const (
	ParamFrom           = "from"            // first day, YYYY-MM-DD
	ParamTo             = "to"              // last day, YYYY-MM-DD (at-a-date statistics: this day)
	ParamInterval       = "interval"        // day, week or month
	ParamSoftware       = "software"        // repeatable or comma-separated NodeInfo names
	ParamLanguage       = "language"        // one language tag of the instance document
	ParamIncludeFlagged = "include_flagged" // true: count suspect figures too
)

// DateLayout is the layout of ParamFrom and ParamTo.
const DateLayout = "2006-01-02"

// Bounds of what a URL may ask for: a hostile or mistyped link gets a
// clear error instead of a query that names thousands of programs.
const (
	maxSoftwareParams = 20
	maxParamLen       = 64
)

// ParseQuery reads a Query from URL parameters. Unknown parameters are
// ignored (pages and endpoints have their own); a malformed one wraps
// ErrBadQuery with a message that is safe to show to the visitor.
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	var err error
	if q.From, err = parseDate(v, ParamFrom); err != nil {
		return Query{}, err
	}
	if q.To, err = parseDate(v, ParamTo); err != nil {
		return Query{}, err
	}
	if s := strings.TrimSpace(v.Get(ParamInterval)); s != "" {
		q.Interval = Interval(strings.ToLower(s))
	}
	for _, raw := range v[ParamSoftware] {
		for _, sw := range strings.Split(raw, ",") {
			sw = normSoftware(sw)
			if sw == "" || slices.Contains(q.Software, sw) {
				continue
			}
			if len(sw) > maxParamLen || !isName(sw) {
				return Query{}, fmt.Errorf("%w: software must be a program's NodeInfo name (letters, digits, '-', '_', '.')", ErrBadQuery)
			}
			q.Software = append(q.Software, sw)
		}
	}
	if len(q.Software) > maxSoftwareParams {
		return Query{}, fmt.Errorf("%w: at most %d software names", ErrBadQuery, maxSoftwareParams)
	}
	if lang := strings.ToLower(strings.TrimSpace(v.Get(ParamLanguage))); lang != "" {
		if len(lang) > maxParamLen || !isName(lang) {
			return Query{}, fmt.Errorf("%w: language must be a language tag such as en or pt-br", ErrBadQuery)
		}
		q.Language = lang
	}
	if s := strings.TrimSpace(v.Get(ParamIncludeFlagged)); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return Query{}, fmt.Errorf("%w: %s must be true or false", ErrBadQuery, ParamIncludeFlagged)
		}
		q.IncludeFlagged = b
	}
	return q.check()
}

// Values encodes q as URL parameters that ParseQuery reads back to q
// (defaults are left out, so links stay short).
func (q Query) Values() url.Values {
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set(ParamFrom, q.From.UTC().Format(DateLayout))
	}
	if !q.To.IsZero() {
		v.Set(ParamTo, q.To.UTC().Format(DateLayout))
	}
	if q.Interval != "" && q.Interval != Day {
		v.Set(ParamInterval, string(q.Interval))
	}
	if len(q.Software) > 0 {
		v.Set(ParamSoftware, strings.Join(q.Software, ","))
	}
	if q.Language != "" {
		v.Set(ParamLanguage, q.Language)
	}
	if q.IncludeFlagged {
		v.Set(ParamIncludeFlagged, "true")
	}
	return v
}

func parseDate(v url.Values, name string) (time.Time, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s must be a date such as 2026-01-31", ErrBadQuery, name)
	}
	return t, nil
}

// isName reports whether s holds only lower-case letters, digits and
// the punctuation of program names and language tags.
func isName(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}
