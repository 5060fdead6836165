package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

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
