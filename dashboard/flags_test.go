package dashboard

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
)

// filterFlagged applies InstanceQuery.Flagged the way the store does.
func filterFlagged(in []model.Instance, flagged string) []model.Instance {
	if flagged == "" || flagged == model.FlaggedInclude {
		return in
	}
	var out []model.Instance
	for _, i := range in {
		if sanity.Suspect(i.Flags) == (flagged == model.FlaggedOnly) {
			out = append(out, i)
		}
	}
	return out
}

// flaggedFakes adds a suspect instance (with a hostile flag name from a
// "newer version") and an info-only one to the fakes.
func flaggedFakes() *fakeStore {
	store, _ := newFakes()
	liar := model.Instance{Snapshot: model.Snapshot{Host: "liar.example", CrawledAt: crawled, Software: "pleroma", Title: "Liar",
		UsersTotal: model.Int64(10), UsersActiveMonth: model.Int64(99),
		Flags: []string{"active_above_total", "month_above_halfyear", xss}}, FirstSeen: crawled, Snapshots: 1}
	solo := model.Instance{Snapshot: model.Snapshot{Host: "solo.example", CrawledAt: crawled, Software: "gotosocial", Title: "Solo",
		UsersTotal: model.Int64(1), Flags: []string{"single_user"}}, FirstSeen: crawled, Snapshots: 1}
	store.instances[liar.Host], store.instances[solo.Host] = liar, solo
	store.top = append([]model.Instance{liar}, append(store.top, solo)...)
	store.summary.Flagged = 1
	return store
}

func TestFlagsOnPages(t *testing.T) {
	store := flaggedFakes()
	srv := newTestServer(t, store, nil, nil, nil)
	for _, tc := range []struct {
		name     string
		path     string
		status   int
		contains []string
		absent   []string
	}{
		{
			name: "suspect instance page explains its flags", path: "/instances/liar.example", status: 200,
			contains: []string{`<span class="flag flag-suspect">active_above_total</span> (suspect): More active users than users in total`,
				`<span class="flag flag-suspect">month_above_halfyear</span> (suspect)`,
				`(unknown): A finding this version of fedilens does not know.`,
				`The census totals leave this instance out`, `href="/instances?flagged=only"`},
			absent: []string{"<img src=x"},
		},
		{
			name: "info flags are explained but do not exclude", path: "/instances/solo.example", status: 200,
			contains: []string{`<span class="flag flag-info">single_user</span> (info): A single-user instance`},
			absent:   []string{"The census totals leave this instance out"},
		},
		{
			name: "clean instance page", path: "/instances/social.example", status: 200,
			contains: []string{`<p id="flags">The latest figures pass every check.</p>`},
		},
		{
			name: "listing of suspect figures", path: "/instances?flagged=only", status: 200,
			contains: []string{"<h1>Instances with suspect figures</h1>", `<a href="/instances/liar.example">liar.example</a>`,
				`title="More active users than users in total: at least one figure is wrong."`,
				`<strong aria-current="page">Suspect figures</strong>`, `href="/api/v1/instances?flagged=only&amp;limit=50"`},
			absent: []string{"social.example", "solo.example", "<img src=x"},
		},
		{
			name: "listing of clean figures", path: "/instances?flagged=exclude", status: 200,
			contains: []string{"<h1>Instances with clean figures</h1>", "social.example", "solo.example"},
			absent:   []string{"liar.example"},
		},
		{
			name: "listing of all", path: "/instances", status: 200,
			contains: []string{"<h1>Instances</h1>", "social.example", "solo.example", "liar.example",
				`<span class="flag flag-info" title="A single-user instance (at most one account).">single_user</span>`},
		},
		{
			name: "unknown filter", path: "/instances?flagged=everything", status: 400,
			contains: []string{"Unknown filter"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, srv, tc.path)
			require.Equal(t, tc.status, resp.StatusCode, body)
			for _, s := range tc.contains {
				require.Contains(t, body, s)
			}
			for _, s := range tc.absent {
				require.NotContains(t, body, s)
			}
		})
	}
}

func TestFlagViewsAreBounded(t *testing.T) {
	many := strings.Split(strings.Repeat("total_jump,", 100), ",")
	require.Len(t, flagViews(many), maxFlagsShown)
	require.Empty(t, flagViews(nil))
	require.Equal(t, []flagView{{Name: "single_user", Severity: "info", Meaning: sanity.SingleUser.Meaning()}}, flagViews([]string{"single_user"}))
}
