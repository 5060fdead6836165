package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/fedilens/fedilens/internal/model"
)

// Bounds on free-form parameters: anything longer is not a real query and
// would only cost the store or the index work.
const (
	maxQueryLen    = 1024
	maxCursorLen   = 1024
	maxSoftwareLen = 64
	// maxHostLen is a 253-byte DNS name plus ":65535".
	maxHostLen = 259
)

func (a *API) instances(r *http.Request) (any, error) {
	params := r.URL.Query()
	limit, err := parseLimit(params.Get("limit"), MaxInstancesLimit)
	if err != nil {
		return nil, err
	}
	sort := params.Get("sort")
	switch sort {
	case "":
		sort = "users"
	case "users", "host":
	default:
		return nil, badRequest("sort must be users or host")
	}
	software := strings.ToLower(strings.TrimSpace(params.Get("software")))
	if len(software) > maxSoftwareLen {
		return nil, badRequest("software is longer than %d bytes", maxSoftwareLen)
	}
	cursor, err := parseCursor(params.Get("cursor"))
	if err != nil {
		return nil, err
	}
	flagged, err := parseFlagged(params.Get("flagged"))
	if err != nil {
		return nil, err
	}

	page, err := a.store.Instances(r.Context(), model.InstanceQuery{
		Software: software, Limit: limit, Sort: sort, Cursor: cursor, Flagged: flagged,
	})
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

func (a *API) summary(r *http.Request) (any, error) {
	opts, err := parseStatsOptions(r)
	if err != nil {
		return nil, err
	}
	s, err := a.store.SummaryWith(r.Context(), opts)
	if err != nil {
		return nil, fmt.Errorf("get summary: %w", err)
	}
	return summaryJSON{
		Instances:           s.Instances,
		UsersTotal:          s.UsersTotal,
		UsersActiveMonth:    s.UsersActiveMonth,
		UsersActiveHalfyear: s.UsersActiveHalfyear,
		LocalPosts:          s.LocalPosts,
		Softwares:           s.Softwares,
		IndexedPosts:        s.IndexedPosts,
		LastCrawl:           timestamp(s.LastCrawl),
		FlaggedInstances:    s.Flagged,
		IncludeFlagged:      opts.IncludeFlagged,
	}, nil
}

func (a *API) software(r *http.Request) (any, error) {
	opts, err := parseStatsOptions(r)
	if err != nil {
		return nil, err
	}
	shares, err := a.store.SoftwareShareWith(r.Context(), opts)
	if err != nil {
		return nil, fmt.Errorf("get software share: %w", err)
	}
	out := make([]softwareShareJSON, 0, len(shares))
	for _, s := range shares {
		out = append(out, softwareShareJSON{
			Software: s.Software, Instances: s.Instances,
			UsersTotal: s.UsersTotal, UsersActiveMonth: s.ActiveMonth,
		})
	}
	return out, nil
}

func (a *API) instancesOverTime(r *http.Request) (any, error) {
	opts, err := parseStatsOptions(r)
	if err != nil {
		return nil, err
	}
	days, err := a.store.InstancesOverTimeWith(r.Context(), opts)
	if err != nil {
		return nil, fmt.Errorf("get instances over time: %w", err)
	}
	out := make([]dayCountJSON, 0, len(days))
	for _, d := range days {
		out = append(out, dayCountJSON{Day: d.Day.UTC().Format("2006-01-02"), Count: d.Count})
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
