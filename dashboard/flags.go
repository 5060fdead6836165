package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
)

// Sanity flags on the pages: the census figures are the clean ones (the
// store leaves out instances whose latest figures are suspect); the
// overview says how many were left out and links to them, the listing
// filters by verdict, and the instance page explains each flag.

const (
	// listPageSize is the instance listing's page size.
	listPageSize = 50
	// maxFlagsShown bounds the flags shown for one snapshot: a database
	// written by a newer or broken fedilens must not flood a page.
	maxFlagsShown = 16
	// flaggedListPath is the listing of the instances left out of the
	// clean figures, linked from the overview.
	flaggedListPath = "/instances?flagged=" + model.FlaggedOnly
)

// flagView is one sanity flag as a page shows it.
type flagView struct {
	Name     string
	Severity string // "suspect", "info" or "unknown"
	Meaning  string
	Suspect  bool
}

// flagViews explains a snapshot's stored flags.
func flagViews(flags []string) []flagView {
	out := make([]flagView, 0, min(len(flags), maxFlagsShown))
	for _, name := range flags[:min(len(flags), maxFlagsShown)] {
		f := sanity.Flag(name)
		out = append(out, flagView{Name: name, Severity: string(f.Severity()), Meaning: f.Meaning(), Suspect: f.IsSuspect()})
	}
	return out
}

// listRow is one instance of the listing with its explained flags.
type listRow struct {
	model.Instance
	Flags []flagView
}

// filterLink is one choice of the listing's verdict filter.
type filterLink struct {
	Label   string
	Path    string
	Current bool
}

type listData struct {
	Heading string
	Note    string
	Filters []filterLink
	Rows    []listRow
	// NextPath is the next page, "" on the last one.
	NextPath string
	APIPath  string
}

// listFilters are the listing's verdict filters, in the order shown.
var listFilters = []struct{ value, label, heading, note string }{
	{model.FlaggedInclude, "All", "Instances",
		"Every known instance with its latest figures and sanity flags, largest first."},
	{model.FlaggedOnly, "Suspect figures", "Instances with suspect figures",
		"These instances publish figures that contradict themselves, their history or plausibility. The census totals leave them out."},
	{model.FlaggedExclude, "Clean figures", "Instances with clean figures",
		"The instances the census totals are made of."},
}

// instanceList is the instance listing, filtered by sanity verdict
// (?flagged=include|only|exclude) and paged by the store's cursor.
func (d *Dashboard) instanceList(r *http.Request) (pageResult, error) {
	params := r.URL.Query()
	flagged := params.Get("flagged")
	if flagged == "" {
		flagged = model.FlaggedInclude
	}
	idx := -1
	for i, f := range listFilters {
		if f.value == flagged {
			idx = i
		}
	}
	if idx < 0 {
		return pageResult{}, &pageError{status: http.StatusBadRequest, message: "Unknown filter: choose all instances, suspect figures or clean figures."}
	}
	cursor := params.Get("cursor")
	if len(cursor) > maxCursorLen {
		return pageResult{}, &pageError{status: http.StatusBadRequest, message: "The page cursor is invalid."}
	}
	page, err := d.store.Instances(r.Context(), model.InstanceQuery{Sort: "users", Limit: listPageSize, Cursor: cursor, Flagged: flagged})
	if errors.Is(err, model.ErrBadQuery) {
		return pageResult{}, &pageError{status: http.StatusBadRequest, message: "The page cursor is invalid."}
	}
	if err != nil {
		return pageResult{}, fmt.Errorf("list instances: %w", err)
	}
	data := listData{
		Heading: listFilters[idx].heading,
		Note:    listFilters[idx].note,
		APIPath: "/api/v1/instances?" + url.Values{"sort": {"users"}, "flagged": {flagged}}.Encode(),
	}
	for i, f := range listFilters {
		data.Filters = append(data.Filters, filterLink{Label: f.label, Path: "/instances?flagged=" + f.value, Current: i == idx})
	}
	for _, in := range page.Instances {
		data.Rows = append(data.Rows, listRow{Instance: in, Flags: flagViews(in.Flags)})
	}
	if page.NextCursor != "" {
		data.NextPath = "/instances?" + url.Values{"flagged": {flagged}, "cursor": {page.NextCursor}}.Encode()
	}
	return pageResult{name: "instances", title: data.Heading, data: data}, nil
}

// Suspect reports whether the instance's latest figures are left out of
// the census totals (the instance page says so).
func (d instanceData) Suspect() bool { return sanity.Suspect(d.Instance.Flags) }
