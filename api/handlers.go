package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// Bounds on free-form parameters: anything longer is not a real query and
// would only cost the store or the index work.
const (
	maxQueryLen  = 1024
	maxCursorLen = 1024
	// maxHostLen is a 253-byte DNS name plus ":65535".
	maxHostLen = 259
)

// instances serves the instance explorer: the latest state of every
// instance, filtered by the common parameters of the statistics that
// apply to a listing (software, language, include_flagged; read with
// stats.ParseQuery like everywhere else) and by its own (registrations,
// q, flagged), sorted and paged with a cursor.
func (a *API) instances(r *http.Request) (any, error) {
	params := r.URL.Query()
	limit, err := parseLimit(params.Get("limit"), MaxInstancesLimit)
	if err != nil {
		return nil, err
	}
	common, err := stats.ParseQuery(params)
	if err != nil {
		return nil, badRequest("%s", truncate(err.Error(), maxMessageLen))
	}
	q := model.InstanceListQuery{Software: common.Software, Language: common.Language, Limit: limit}
	if q.Sort = params.Get("sort"); q.Sort != "" && !slices.Contains(model.InstanceSorts, q.Sort) {
		return nil, badRequest("sort must be one of %s", strings.Join(model.InstanceSorts, ", "))
	}
	switch q.Order = params.Get("order"); q.Order {
	case "", model.OrderAsc, model.OrderDesc:
	default:
		return nil, badRequest("order must be %s or %s", model.OrderAsc, model.OrderDesc)
	}
	switch q.Registrations = params.Get("registrations"); q.Registrations {
	case "", model.RegistrationsOpen, model.RegistrationsClosed:
	default:
		return nil, badRequest("registrations must be %s or %s", model.RegistrationsOpen, model.RegistrationsClosed)
	}
	if q.Text = strings.TrimSpace(params.Get("q")); len(q.Text) > model.MaxInstanceText {
		return nil, badRequest("q is longer than %d bytes", model.MaxInstanceText)
	}
	if q.Cursor, err = parseCursor(params.Get("cursor")); err != nil {
		return nil, err
	}
	if q.Flagged, err = parseFlagged(params.Get("flagged")); err != nil {
		return nil, err
	}
	if strings.TrimSpace(params.Get(stats.ParamIncludeFlagged)) != "" {
		// include_flagged, as on the statistics: false leaves the flagged
		// instances out, true lists them (the listing's default).
		want := model.FlaggedExclude
		if common.IncludeFlagged {
			want = model.FlaggedInclude
		}
		switch {
		case q.Flagged == "":
			q.Flagged = want
		case q.Flagged != want && !(q.Flagged == model.FlaggedOnly && common.IncludeFlagged):
			return nil, badRequest("flagged=%s contradicts include_flagged=%t", q.Flagged, common.IncludeFlagged)
		}
	}

	page, err := a.store.ListInstances(r.Context(), q)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	out := instancesJSON{Instances: make([]instanceJSON, 0, len(page.Instances)), NextCursor: page.NextCursor}
	for _, in := range page.Instances {
		out.Instances = append(out.Instances, newInstanceJSON(in))
	}
	return out, nil
}

func (a *API) instance(r *http.Request) (any, error) {
	host, err := normaliseHost(r.PathValue("host"))
	if err != nil {
		return nil, err
	}
	in, history, err := a.store.Instance(r.Context(), host)
	if errors.Is(err, model.ErrNotFound) {
		return nil, notFound("unknown instance")
	}
	if err != nil {
		return nil, fmt.Errorf("get instance %s: %w", host, err)
	}
	peers, err := a.store.Peers(r.Context(), host)
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return nil, fmt.Errorf("get peers of %s: %w", host, err)
	}
	if peers == nil {
		peers = []string{}
	}
	links, err := a.store.InstanceLinkCounts(r.Context(), host)
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return nil, fmt.Errorf("get list sizes of %s: %w", host, err)
	}
	in.PeerCount, in.BlockCount = links.Peers, links.Blocks
	out := instanceDetailJSON{
		Instance: newInstanceJSON(in),
		History:  make([]snapshotJSON, 0, len(history)),
		Peers:    peers,
	}
	for _, s := range history {
		out.History = append(out.History, newSnapshotJSON(s))
	}
	if ps, ok := a.store.(PostAccessStore); ok {
		pa, err := ps.HostPostAccess(r.Context(), host)
		switch {
		case err == nil:
			out.Posts = newPostAccessJSON(pa)
		case !errors.Is(err, model.ErrNotFound):
			return nil, fmt.Errorf("get post access of %s: %w", host, err)
		}
	}
	return out, nil
}

// parseLimit reads a page size: empty means DefaultLimit, values above max
// are capped (a client asking for more simply gets a full page), and
// anything that is not a positive integer is the client's mistake.
func parseLimit(v string, max int) (int, error) {
	if v == "" {
		return min(DefaultLimit, max), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, badRequest("limit must be a positive integer")
	}
	return min(n, max), nil
}

// parseCursor bounds the opaque cursor; its content is the store's or the
// index's business (they reject what they did not issue).
func parseCursor(v string) (string, error) {
	if len(v) > maxCursorLen {
		return "", badRequest("cursor is longer than %d bytes", maxCursorLen)
	}
	return v, nil
}

// normaliseHost turns a host from the URL into the store's form: lower
// case, without the trailing dot of a fully-qualified name. It rejects what
// cannot be a host name (with an optional port or IPv6 brackets) early, so
// hostile paths never reach the store. Non-ASCII is let through: such a
// name is merely unknown.
func normaliseHost(raw string) (string, error) {
	host := strings.TrimSuffix(strings.ToLower(raw), ".")
	if host == "" || len(host) > maxHostLen {
		return "", badRequest("invalid host")
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c >= 0x80, c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == '_', c == ':', c == '[', c == ']':
		default:
			return "", badRequest("invalid host")
		}
	}
	return host, nil
}
