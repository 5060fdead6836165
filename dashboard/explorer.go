package dashboard

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// The instance explorer (/instances): every known instance with its
// latest figures, filtered, sorted and paged by the store's listing
// (Store.ListInstances), with all of that in the URL. The page takes the
// parameters of the API listing (GET /api/v1/instances), read the same
// way, so that its "Data:" link is its own query and a view can be shared.

// Explorer parameters, the API listing's.
const (
	explorerRegistrations = "registrations"
	explorerText          = "q"
	explorerFlagged       = "flagged"
	explorerSort          = "sort"
	explorerOrder         = "order"
	explorerCursor        = "cursor"
	explorerLimit         = "limit"
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

// sortHeader is a sortable column heading: a link that sorts by the
// column (or, on the sorted column, reverses the order).
type sortHeader struct {
	Label string
	Path  string
	// AriaSort is "ascending" or "descending" on the sorted column, ""
	// on the others.
	AriaSort string
	// Arrow shows the order of the sorted column.
	Arrow string
	// Hint says what following the link does.
	Hint string
	Num  bool
}

type listData struct {
	Heading string
	Note    string
	Filters []filterLink
	// Form state.
	Text, Software, Language string
	Registrations            []option
	Verdicts                 []option
	Sorts                    []option
	Orders                   []option
	// Filtered is set when any filter or a sort other than the default
	// is in the URL (the form offers to clear them).
	Filtered bool
	// Head are the sortable column headings, by key (Host, Users,
	// Active, Posts, Peers, FirstSeen).
	Head map[string]sortHeader
	Rows []listRow
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

// listSorts are the store's sorts, in the order the form offers them,
// with the heading of their column.
var listSorts = []struct{ value, label, column, key string }{
	{model.InstanceSortUsers, "Users", "Users", "Users"},
	{model.InstanceSortActive, "Active users (month)", "Active (month)", "Active"},
	{model.InstanceSortPosts, "Local posts", "Posts", "Posts"},
	{model.InstanceSortPeers, "Peers", "Peers", "Peers"},
	{model.InstanceSortFirstSeen, "First seen", "First seen", "FirstSeen"},
	{model.InstanceSortHost, "Host name", "Host", "Host"},
}

// naturalOrder is the order a sort takes when none is given: the biggest
// and newest first, host names from A.
func naturalOrder(sort string) string {
	if sort == model.InstanceSortHost {
		return model.OrderAsc
	}
	return model.OrderDesc
}

// explorerQuery reads the explorer's parameters as the API listing does
// (software, language and include_flagged with stats.ParseQuery) and
// resolves the sort and order; a bad parameter is a 400 page that says
// which. It returns the index of the verdict filter in listFilters.
func explorerQuery(v url.Values, limit int) (model.InstanceListQuery, int, error) {
	bad := func(msg string) error { return &pageError{status: http.StatusBadRequest, message: msg} }
	common, err := stats.ParseQuery(v)
	if errors.Is(err, stats.ErrBadQuery) {
		return model.InstanceListQuery{}, 0, bad(badQueryMessage(err))
	}
	if err != nil {
		return model.InstanceListQuery{}, 0, fmt.Errorf("parse explorer query: %w", err)
	}
	q := model.InstanceListQuery{Software: common.Software, Language: common.Language, Limit: limit,
		Sort: model.InstanceSortUsers, Flagged: model.FlaggedInclude}
	if s := strings.TrimSpace(v.Get(explorerSort)); s != "" {
		if !slices.Contains(model.InstanceSorts, s) {
			return q, 0, bad("Invalid order: sort by users, active, posts, peers, first_seen or host.")
		}
		q.Sort = s
	}
	q.Order = naturalOrder(q.Sort)
	switch o := strings.TrimSpace(v.Get(explorerOrder)); o {
	case "":
	case model.OrderAsc, model.OrderDesc:
		q.Order = o
	default:
		return q, 0, bad("Invalid order: order must be asc or desc.")
	}
	switch r := strings.TrimSpace(v.Get(explorerRegistrations)); r {
	case "", model.RegistrationsOpen, model.RegistrationsClosed:
		q.Registrations = r
	default:
		return q, 0, bad("Invalid filter: registrations must be open or closed.")
	}
	if q.Text = strings.TrimSpace(v.Get(explorerText)); len(q.Text) > model.MaxInstanceText {
		return q, 0, bad(fmt.Sprintf("Invalid filter: the name to look for is longer than %d bytes.", model.MaxInstanceText))
	}
	flagged := strings.TrimSpace(v.Get(explorerFlagged))
	switch flagged {
	case "", model.FlaggedInclude, model.FlaggedOnly, model.FlaggedExclude:
	default:
		return q, 0, bad("Unknown filter: choose all instances, suspect figures or clean figures.")
	}
	if strings.TrimSpace(v.Get(stats.ParamIncludeFlagged)) != "" {
		// include_flagged, as in the API: false leaves the suspect
		// figures out, true lists them (the default).
		want := model.FlaggedExclude
		if common.IncludeFlagged {
			want = model.FlaggedInclude
		}
		switch {
		case flagged == "":
			flagged = want
		case flagged != want && !(flagged == model.FlaggedOnly && common.IncludeFlagged):
			return q, 0, bad("Invalid filter: flagged contradicts include_flagged.")
		}
	}
	idx := 0
	for i, lf := range listFilters {
		if lf.value == flagged {
			idx = i
		}
	}
	q.Flagged = listFilters[idx].value
	q.Cursor = v.Get(explorerCursor)
	if len(q.Cursor) > maxCursorLen {
		return q, 0, bad("The page cursor is invalid.")
	}
	return q, idx, nil
}

// explorerValues are q's parameters, defaults left out: the explorer's
// URL, and with the page size the API listing's.
func explorerValues(q model.InstanceListQuery) url.Values {
	v := url.Values{}
	if len(q.Software) > 0 {
		v.Set(stats.ParamSoftware, strings.Join(q.Software, ","))
	}
	if q.Language != "" {
		v.Set(stats.ParamLanguage, q.Language)
	}
	if q.Registrations != "" {
		v.Set(explorerRegistrations, q.Registrations)
	}
	if q.Text != "" {
		v.Set(explorerText, q.Text)
	}
	if q.Flagged != "" && q.Flagged != model.FlaggedInclude {
		v.Set(explorerFlagged, q.Flagged)
	}
	sort := cmp.Or(q.Sort, model.InstanceSortUsers)
	if sort != model.InstanceSortUsers {
		v.Set(explorerSort, sort)
	}
	if q.Order != "" && q.Order != naturalOrder(sort) {
		v.Set(explorerOrder, q.Order)
	}
	if q.Cursor != "" {
		v.Set(explorerCursor, q.Cursor)
	}
	return v
}

// explorerPath is the explorer showing q.
func explorerPath(q model.InstanceListQuery) string {
	return withValues("/instances", explorerValues(q))
}

// explorerAPIPath is the API listing of q: the page's own parameters and
// its page size, so that it answers the rows (and cursor) the page shows.
func explorerAPIPath(q model.InstanceListQuery) string {
	v := explorerValues(q)
	if q.Limit > 0 {
		v.Set(explorerLimit, strconv.Itoa(q.Limit))
	}
	return withValues(apiInstances, v)
}

// instanceList is the instance explorer.
func (d *Dashboard) instanceList(r *http.Request) (pageResult, error) {
	q, idx, err := explorerQuery(r.URL.Query(), d.listSize)
	if err != nil {
		return pageResult{}, err
	}
	page, err := d.store.ListInstances(r.Context(), q)
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
		Text:     q.Text,
		Software: strings.Join(q.Software, ","),
		Language: q.Language,
		Filtered: len(explorerValues(first)) > 0,
		APIPath:  explorerAPIPath(q),
		Head:     make(map[string]sortHeader, len(listSorts)),
	}
	if len(q.Software) > 0 {
		data.Heading += " running " + strings.Join(q.Software, ", ")
	}
	for i, f := range listFilters {
		fq := first
		fq.Flagged = f.value
		data.Filters = append(data.Filters, filterLink{Label: f.label, Path: explorerPath(fq), Current: i == idx})
		data.Verdicts = append(data.Verdicts, option{Value: f.value, Label: f.label, Selected: i == idx})
	}
	for _, o := range []option{{Label: "Any"}, {Value: model.RegistrationsOpen, Label: "Open"}, {Value: model.RegistrationsClosed, Label: "Closed"}} {
		o.Selected = o.Value == q.Registrations
		data.Registrations = append(data.Registrations, o)
	}
	explicit := ""
	if q.Order != naturalOrder(q.Sort) {
		explicit = q.Order
	}
	data.Orders = []option{
		{Label: "Largest or newest first (hosts A to Z)", Selected: explicit == ""},
		{Value: model.OrderAsc, Label: "Ascending", Selected: explicit == model.OrderAsc},
		{Value: model.OrderDesc, Label: "Descending", Selected: explicit == model.OrderDesc},
	}
	for _, s := range listSorts {
		data.Sorts = append(data.Sorts, option{Value: s.value, Label: s.label, Selected: s.value == q.Sort})
		data.Head[s.key] = sortHeading(first, s.value, s.column)
	}
	for _, in := range page.Instances {
		sq := first
		sq.Software = []string{in.Software}
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

// sortHeading is the heading of the column sorted by sort, for the
// listing q (first page): a link to q sorted by the column in its natural
// order, or in the reverse order when q is sorted by it already.
func sortHeading(q model.InstanceListQuery, sort, label string) sortHeader {
	h := sortHeader{Label: label, Num: sort != model.InstanceSortHost}
	sq := q
	sq.Sort, sq.Order = sort, naturalOrder(sort)
	if q.Sort == sort {
		h.AriaSort, h.Arrow = "descending", "▼"
		if q.Order == model.OrderAsc {
			h.AriaSort, h.Arrow = "ascending", "▲"
		}
		sq.Order = model.OrderAsc
		if q.Order == model.OrderAsc {
			sq.Order = model.OrderDesc
		}
	}
	h.Path = explorerPath(sq)
	if sq.Order == model.OrderAsc {
		h.Hint = "Sort by " + strings.ToLower(label) + ", ascending"
	} else {
		h.Hint = "Sort by " + strings.ToLower(label) + ", descending"
	}
	return h
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

// Peers is the size of the instance's latest peer list read, or that
// none was read ("unknown" would suggest a published list of no size).
func (r listRow) Peers() string { return listSize(r.PeerCount) }

// Blocks is the size of the instance's latest public block list read.
func (r listRow) Blocks() string { return listSize(r.BlockCount) }

func listSize(n *int64) string {
	if n == nil {
		return "not read"
	}
	return formatNum(*n)
}
