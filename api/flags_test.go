package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

func (f *fakeStore) SummaryWith(_ context.Context, opts model.StatsOptions) (model.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastStats = &opts
	if f.err != nil {
		return model.Summary{}, f.err
	}
	return f.summary, nil
}

func (f *fakeStore) SoftwareShareWith(_ context.Context, opts model.StatsOptions) ([]model.SoftwareShare, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastStats = &opts
	if f.err != nil {
		return nil, f.err
	}
	return f.shares, nil
}

func (f *fakeStore) InstancesOverTimeWith(_ context.Context, opts model.StatsOptions) ([]model.DayCount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastStats = &opts
	if f.err != nil {
		return nil, f.err
	}
	return f.days, nil
}

// TestIncludeFlagged: every statistics endpoint passes include_flagged to
// the store, clean figures by default, and refuses other values.
func TestIncludeFlagged(t *testing.T) {
	for _, path := range []string{"/api/v1/stats/summary", "/api/v1/stats/software", "/api/v1/stats/instances-over-time"} {
		for _, tc := range []struct {
			query  string
			status int
			want   *model.StatsOptions
		}{
			{"", 200, &model.StatsOptions{}},
			{"?include_flagged=true", 200, &model.StatsOptions{IncludeFlagged: true}},
			{"?include_flagged=1", 200, &model.StatsOptions{IncludeFlagged: true}},
			{"?include_flagged=false", 200, &model.StatsOptions{}},
			{"?include_flagged=yes", 400, nil},
			{"?include_flagged=", 200, &model.StatsOptions{}},
		} {
			t.Run(path+tc.query, func(t *testing.T) {
				store, _ := newFakes()
				srv := newServer(t, store, nil, Options{})
				resp, body := get(t, srv, path+tc.query, nil)
				require.Equal(t, tc.status, resp.StatusCode, "%s", body)
				if tc.status != 200 {
					require.JSONEq(t, `{"error":{"code":"bad_request","message":"include_flagged must be true or false"}}`, string(body))
				}
				store.mu.Lock()
				defer store.mu.Unlock()
				require.Equal(t, tc.want, store.lastStats)
			})
		}
	}

	store, _ := newFakes()
	store.summary.Flagged = 3
	srv := newServer(t, store, nil, Options{})
	_, body := get(t, srv, "/api/v1/stats/summary?include_flagged=true", nil)
	require.JSONEq(t, `{"instances":2,"users_total":1203,"users_active_month":300,"users_active_halfyear":0,
	  "local_posts":45000,"softwares":2,"indexed_posts":17,"last_crawl":"2026-11-03T12:30:00Z",
	  "flagged_instances":3,"include_flagged":true}`, string(body))
}

// TestFlaggedListing: the listing's flagged filter reaches the store, and
// instances show their flags and whether they are suspect.
func TestFlaggedListing(t *testing.T) {
	for _, tc := range []struct {
		query  string
		status int
		want   string
	}{
		{"", 200, ""},
		{"?flagged=include", 200, model.FlaggedInclude},
		{"?flagged=only", 200, model.FlaggedOnly},
		{"?flagged=exclude", 200, model.FlaggedExclude},
		{"?flagged=ONLY", 400, ""},
		{"?flagged=all", 400, ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			store, _ := newFakes()
			srv := newServer(t, store, nil, Options{})
			resp, body := get(t, srv, "/api/v1/instances"+tc.query, nil)
			require.Equal(t, tc.status, resp.StatusCode, "%s", body)
			if tc.status != 200 {
				require.JSONEq(t, `{"error":{"code":"bad_request","message":"flagged must be include, only or exclude"}}`, string(body))
				return
			}
			store.mu.Lock()
			defer store.mu.Unlock()
			require.Equal(t, tc.want, store.lastQuery.Flagged)
		})
	}

	store, _ := newFakes()
	liar := store.instances["quiet.example"]
	liar.Flags = []string{"active_above_total", "single_user"}
	solo := store.instances["social.example"]
	solo.Flags = []string{"single_user"}
	store.instances["quiet.example"] = liar
	store.history["quiet.example"] = []model.Snapshot{{Host: "quiet.example", CrawledAt: crawled}, liar.Snapshot}
	store.page = model.InstancePage{Instances: []model.Instance{solo, liar}}
	srv := newServer(t, store, nil, Options{})

	var page struct {
		Instances []struct {
			Host    string   `json:"host"`
			Flags   []string `json:"flags"`
			Suspect bool     `json:"suspect"`
		} `json:"instances"`
	}
	decodeGet(t, srv, "/api/v1/instances?flagged=include", &page)
	require.Len(t, page.Instances, 2)
	require.Equal(t, []string{"single_user"}, page.Instances[0].Flags)
	require.False(t, page.Instances[0].Suspect, "info flags are not suspect")
	require.Equal(t, []string{"active_above_total", "single_user"}, page.Instances[1].Flags)
	require.True(t, page.Instances[1].Suspect)

	var detail struct {
		Instance struct {
			Flags   []string `json:"flags"`
			Suspect bool     `json:"suspect"`
		} `json:"instance"`
		History []struct {
			Flags   []string `json:"flags"`
			Suspect bool     `json:"suspect"`
		} `json:"history"`
	}
	decodeGet(t, srv, "/api/v1/instances/quiet.example", &detail)
	require.True(t, detail.Instance.Suspect)
	require.Len(t, detail.History, 2)
	require.Equal(t, []string{}, detail.History[0].Flags, "no flags are an empty array, not null")
	require.False(t, detail.History[0].Suspect)
	require.True(t, detail.History[1].Suspect)
}

func TestFlagsJSONIsBounded(t *testing.T) {
	many := make([]string, 100)
	for i := range many {
		many[i] = "from_the_future"
	}
	require.Len(t, flagsJSON(many), maxFlagsShown)
	require.Equal(t, []string{}, flagsJSON(nil))
}

// decodeGet fetches path and decodes its 200 answer into v.
func decodeGet(t *testing.T, srv *httptest.Server, path string, v any) {
	t.Helper()
	resp, body := get(t, srv, path, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.NoError(t, json.Unmarshal(body, v), "%s", body)
}
