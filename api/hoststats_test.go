package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// hostStatsFake adds the host statistics to the fake store.
type hostStatsFake struct {
	*fakeStore
	counts    map[model.HostStatus]uint64
	domains   []model.DomainStats
	err       error
	lastMin   int
	lastLimit int
}

var _ HostStatsStore = (*hostStatsFake)(nil)

func (f *hostStatsFake) HostStatusCounts(context.Context) (map[model.HostStatus]uint64, error) {
	return f.counts, f.err
}

func (f *hostStatsFake) DomainStats(_ context.Context, minHosts, limit int) ([]model.DomainStats, error) {
	f.lastMin, f.lastLimit = minHosts, limit
	if f.err != nil {
		return nil, f.err
	}
	var out []model.DomainStats
	for _, d := range f.domains {
		if d.Known >= uint64(minHosts) && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func newHostStatsServer(t *testing.T, store Store) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	New(Options{Store: store}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHostStatsEndpoints(t *testing.T) {
	base, _ := newFakes()
	fake := &hostStatsFake{
		fakeStore: base,
		counts: map[model.HostStatus]uint64{
			model.StatusOK: 120, model.StatusDead: 7, model.StatusCapped: 29950, model.StatusUnreachable: 50, "": 3,
		},
		domains: []model.DomainStats{
			{Domain: "spamfarm.example", Known: 30000, Capped: 29950},
			{Domain: "masto-host.example", Known: 700, Proven: 650, Dead: 12},
			{Domain: "small.example", Known: 4, Proven: 4},
		},
	}
	srv := newHostStatsServer(t, fake)
	for _, tc := range []struct {
		name, path string
		status     int
		want       string
		min, limit int
	}{
		{name: "hosts by status", path: "/api/v1/stats/hosts", status: 200,
			want: `{"by_status":{"ok":120,"dead":7,"capped":29950,"unreachable":50,"pending":3},"total":30130}`},
		{name: "domains, default min_hosts", path: "/api/v1/stats/domains", status: 200, min: DefaultMinHosts, limit: DefaultLimit,
			want: `{"min_hosts":10,"domains":[
			  {"domain":"spamfarm.example","known":30000,"proven":0,"capped":29950,"dead":0},
			  {"domain":"masto-host.example","known":700,"proven":650,"capped":0,"dead":12}]}`},
		{name: "domains, min_hosts and limit", path: "/api/v1/stats/domains?min_hosts=2&limit=5000", status: 200, min: 2, limit: MaxDomainsLimit,
			want: `{"min_hosts":2,"domains":[
			  {"domain":"spamfarm.example","known":30000,"proven":0,"capped":29950,"dead":0},
			  {"domain":"masto-host.example","known":700,"proven":650,"capped":0,"dead":12},
			  {"domain":"small.example","known":4,"proven":4,"capped":0,"dead":0}]}`},
		{name: "domains, none that large", path: "/api/v1/stats/domains?min_hosts=50000", status: 200, min: 50000, limit: DefaultLimit,
			want: `{"min_hosts":50000,"domains":[]}`},
		{name: "min_hosts zero", path: "/api/v1/stats/domains?min_hosts=0", status: 400,
			want: `{"error":{"code":"bad_request","message":"min_hosts must be a positive integer"}}`},
		{name: "min_hosts junk", path: "/api/v1/stats/domains?min_hosts=1e9", status: 400,
			want: `{"error":{"code":"bad_request","message":"min_hosts must be a positive integer"}}`},
		{name: "min_hosts huge", path: "/api/v1/stats/domains?min_hosts=99999999999999999999", status: 400,
			want: `{"error":{"code":"bad_request","message":"min_hosts must be a positive integer"}}`},
		{name: "bad limit", path: "/api/v1/stats/domains?limit=-1", status: 400,
			want: `{"error":{"code":"bad_request","message":"limit must be a positive integer"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.lastMin, fake.lastLimit = 0, 0
			resp, body := get(t, srv, tc.path, nil)
			require.Equal(t, tc.status, resp.StatusCode, "%s", body)
			require.JSONEq(t, tc.want, string(body))
			require.Equal(t, tc.min, fake.lastMin)
			require.Equal(t, tc.limit, fake.lastLimit)
		})
	}

	// A store failure is an internal error, its detail is not shown.
	fake.err = errors.New("clickhouse: connection refused to 10.0.0.5")
	for _, path := range []string{"/api/v1/stats/hosts", "/api/v1/stats/domains"} {
		resp, body := get(t, srv, path, nil)
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode, path)
		require.NotContains(t, string(body), "10.0.0.5")
	}
}

func TestHostStatsNotAvailable(t *testing.T) {
	base, _ := newFakes()
	srv := newHostStatsServer(t, base)
	for _, path := range []string{"/api/v1/stats/hosts", "/api/v1/stats/domains?min_hosts=3"} {
		resp, body := get(t, srv, path, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		require.JSONEq(t, `{"error":{"code":"not_found","message":"host statistics are not available on this server"}}`, string(body))
	}
}
