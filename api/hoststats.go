package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/fedilens/fedilens/internal/model"
)

// HostStatsStore is the part of the store that reports on the crawler's
// hosts rather than on instances: how many hosts have each status (dead,
// capped, unreachable, ...), and which registrable domains have many hosts
// (spam farms, hosting providers). The ClickHouse store satisfies it; the
// API serves the two endpoints when Options.Store does, and answers them
// with not_found otherwise.
type HostStatsStore interface {
	// HostStatusCounts counts known hosts by the status of their latest
	// state ("" for hosts not visited yet).
	HostStatusCounts(ctx context.Context) (map[model.HostStatus]uint64, error)
	// DomainStats lists the registrable domains with at least minHosts
	// known hosts, most hosts first, at most limit of them.
	DomainStats(ctx context.Context, minHosts, limit int) ([]model.DomainStats, error)
}

// Routes of the host statistics.
const (
	RouteHostStats   = "GET /api/v1/stats/hosts"
	RouteDomainStats = "GET /api/v1/stats/domains"
)

// Parameters of /api/v1/stats/domains.
const (
	// DefaultMinHosts is min_hosts when the client gives none: a domain
	// with fewer hosts is neither a farm nor a provider worth listing.
	DefaultMinHosts = 10
	// MaxDomainsLimit caps the domains of one answer.
	MaxDomainsLimit = 1000
	// pendingStatus names the hosts not visited yet in by_status, as the
	// crawler's hosts-by-status gauge does.
	pendingStatus = "pending"
)

// registerHostStats mounts the host statistics.
func (a *API) registerHostStats(mux *http.ServeMux) {
	mux.Handle(RouteHostStats, a.wrap(RouteHostStats, a.hostStats))
	mux.Handle(RouteDomainStats, a.wrap(RouteDomainStats, a.domainStats))
}

// hostStatsJSON is the answer of /api/v1/stats/hosts.
type hostStatsJSON struct {
	// ByStatus maps each host status to its number of hosts.
	ByStatus map[string]uint64 `json:"by_status"`
	Total    uint64            `json:"total"`
}

// domainStatsJSON is one registrable domain of /api/v1/stats/domains.
type domainStatsJSON struct {
	Domain string `json:"domain"`
	Known  uint64 `json:"known"`
	Proven uint64 `json:"proven"`
	Capped uint64 `json:"capped"`
	Dead   uint64 `json:"dead"`
}

type domainsJSON struct {
	MinHosts int               `json:"min_hosts"`
	Domains  []domainStatsJSON `json:"domains"`
}

func (a *API) hostStatsStore() (HostStatsStore, error) {
	hs, ok := a.store.(HostStatsStore)
	if !ok {
		return nil, notFound("host statistics are not available on this server")
	}
	return hs, nil
}

func (a *API) hostStats(r *http.Request) (any, error) {
	hs, err := a.hostStatsStore()
	if err != nil {
		return nil, err
	}
	counts, err := hs.HostStatusCounts(r.Context())
	if err != nil {
		return nil, fmt.Errorf("count hosts by status: %w", err)
	}
	out := hostStatsJSON{ByStatus: make(map[string]uint64, len(counts))}
	for status, n := range counts {
		key := string(status)
		if key == "" {
			key = pendingStatus
		}
		out.ByStatus[key] += n
		out.Total += n
	}
	return out, nil
}

func (a *API) domainStats(r *http.Request) (any, error) {
	hs, err := a.hostStatsStore()
	if err != nil {
		return nil, err
	}
	params := r.URL.Query()
	minHosts := DefaultMinHosts
	if v := params.Get("min_hosts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000_000 {
			return nil, badRequest("min_hosts must be a positive integer")
		}
		minHosts = n
	}
	limit, err := parseLimit(params.Get("limit"), MaxDomainsLimit)
	if err != nil {
		return nil, err
	}
	domains, err := hs.DomainStats(r.Context(), minHosts, limit)
	if err != nil {
		return nil, fmt.Errorf("group hosts by domain: %w", err)
	}
	out := domainsJSON{MinHosts: minHosts, Domains: make([]domainStatsJSON, 0, len(domains))}
	for _, d := range domains {
		out.Domains = append(out.Domains, domainStatsJSON{
			Domain: d.Domain, Known: d.Known, Proven: d.Proven, Capped: d.Capped, Dead: d.Dead,
		})
	}
	return out, nil
}
