package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/fedilens/fedilens/internal/model"
)

// The instance explorer (/instances): every known instance with its
// latest figures, filtered by software and sanity verdict, sorted by
// users or host, paged by the store's cursor, with all of that in the URL
// (the same parameters as the API listing it links). These are the
// filters and orders the store's listing offers.

// Explorer parameters.
const (
	explorerSoftware = "software"
	explorerSort     = "sort"
	explorerFlagged  = "flagged"
	explorerCursor   = "cursor"
)

// listRow is one instance of the listing with its explained flags.
type listRow struct {
	model.Instance
	Flags []flagView
	// SoftwarePath filters the listing by the row's software ("" when the
	// name cannot be a filter).
	SoftwarePath string
}

// filterLink is one choice of the listing's verdict filter.
type filterLink struct {
	Label   string
	Path    string
	Current bool
}

// sortLink is a sortable column heading.
type sortLink struct {
	Path    string
	Current bool
}

type listData struct {
	Heading string
	Note    string
	Filters []filterLink
	// Form state.
	Software string
	Sorts    []option
	Verdicts []option
	// ByUsers and ByHost sort the table by a column.
	ByUsers, ByHost sortLink
	Rows            []listRow
	// NextPath is the next page, "" on the last one; FirstPath the first
	// page, "" on it.
	NextPath, FirstPath string
	APIPath             string
}

// listFilters are the listing's verdict filters, in the order shown.
var listFilters = []struct{ value, label, heading, note string }{
	{model.FlaggedInclude, "All", "Instances",
		"Every known instance with its latest figures and sanity flags."},
	{model.FlaggedOnly, "Suspect figures", "Instances with suspect figures",
		"These instances publish figures that contradict themselves, their history or plausibility. The census totals leave them out."},
	{model.FlaggedExclude, "Clean figures", "Instances with clean figures",
		"The instances the census totals are made of."},
}

// listSorts are the orders the store offers.
var listSorts = []struct{ value, label string }{
	{"users", "Most users first"},
	{"host", "By host name"},
}

// explorerQuery reads the explorer's parameters; a bad one is a 400 page
// that says which.
func explorerQuery(v url.Values, limit int) (model.InstanceQuery, int, error) {
	q := model.InstanceQuery{Limit: limit, Sort: "users", Flagged: model.FlaggedInclude}
	if s := strings.ToLower(strings.TrimSpace(v.Get(explorerSoftware))); s != "" {
		if !queryName(s) {
			return q, 0, &pageError{status: http.StatusBadRequest,
				message: "Invalid filter: software must be a program's NodeInfo name (letters, digits, '-', '_', '.')."}
		}
		q.Software = s
	}
	if s := v.Get(explorerSort); s != "" {
		ok := false
		for _, o := range listSorts {
			ok = ok || o.value == s
		}
		if !ok {
			return q, 0, &pageError{status: http.StatusBadRequest, message: "Invalid order: sort by users or by host."}
		}
		q.Sort = s
	}
	idx := 0
	if f := v.Get(explorerFlagged); f != "" {
		idx = -1
		for i, lf := range listFilters {
			if lf.value == f {
				idx = i
			}
		}
		if idx < 0 {
			return q, 0, &pageError{status: http.StatusBadRequest, message: "Unknown filter: choose all instances, suspect figures or clean figures."}
		}
		q.Flagged = f
	}
	q.Cursor = v.Get(explorerCursor)
	if len(q.Cursor) > maxCursorLen {
		return q, 0, &pageError{status: http.StatusBadRequest, message: "The page cursor is invalid."}
	}
	return q, idx, nil
}

// explorerPath is the explorer showing q (defaults left out).
func explorerPath(q model.InstanceQuery) string {
	v := url.Values{}
	if q.Software != "" {
		v.Set(explorerSoftware, q.Software)
	}
	if q.Sort != "" && q.Sort != "users" {
		v.Set(explorerSort, q.Sort)
	}
	if q.Flagged != "" && q.Flagged != model.FlaggedInclude {
		v.Set(explorerFlagged, q.Flagged)
	}
	if q.Cursor != "" {
		v.Set(explorerCursor, q.Cursor)
	}
	return withValues("/instances", v)
}

// instanceList is the instance explorer.
func (d *Dashboard) instanceList(r *http.Request) (pageResult, error) {
	q, idx, err := explorerQuery(r.URL.Query(), d.listSize)
	if err != nil {
		return pageResult{}, err
	}
	page, err := d.store.Instances(r.Context(), q)
	if errors.Is(err, model.ErrBadQuery) {
		return pageResult{}, &pageError{status: http.StatusBadRequest, message: "The page cursor is invalid."}
	}
	if err != nil {
		return pageResult{}, fmt.Errorf("list instances: %w", err)
	}
	first := q
	first.Cursor = ""
	data := listData{
		Heading:  listFilters[idx].heading,
		Note:     listFilters[idx].note,
		Software: q.Software,
		APIPath:  instancesAPIPath(q),
	}
	if q.Software != "" {
		data.Heading += " running " + q.Software
	}
	for i, f := range listFilters {
		fq := first
		fq.Flagged = f.value
		data.Filters = append(data.Filters, filterLink{Label: f.label, Path: explorerPath(fq), Current: i == idx})
		data.Verdicts = append(data.Verdicts, option{Value: f.value, Label: f.label, Selected: i == idx})
	}
	for _, s := range listSorts {
		data.Sorts = append(data.Sorts, option{Value: s.value, Label: s.label, Selected: s.value == q.Sort})
	}
	byUsers, byHost := first, first
	byUsers.Sort, byHost.Sort = "users", "host"
	data.ByUsers = sortLink{Path: explorerPath(byUsers), Current: q.Sort == "users"}
	data.ByHost = sortLink{Path: explorerPath(byHost), Current: q.Sort == "host"}
	for _, in := range page.Instances {
		sq := first
		sq.Software = in.Software
		row := listRow{Instance: in, Flags: flagViews(in.Flags)}
		if queryName(in.Software) {
			row.SoftwarePath = explorerPath(sq)
		}
		data.Rows = append(data.Rows, row)
	}
	if page.NextCursor != "" {
		next := q
		next.Cursor = page.NextCursor
		data.NextPath = explorerPath(next)
	}
	if q.Cursor != "" {
		data.FirstPath = explorerPath(first)
	}
	return pageResult{name: "instances", title: data.Heading, data: data}, nil
}

// Registrations describes the row's registrations: the instance
// document's mode where known, else NodeInfo's open or closed.
func (r listRow) Registrations() string {
	switch r.RegistrationMode {
	case model.RegistrationApproval:
		return "approval"
	case model.RegistrationOpen, model.RegistrationClosed:
		return r.RegistrationMode
	}
	if r.OpenRegistrations {
		return "open"
	}
	return "closed"
}
