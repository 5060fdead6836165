package pipeline_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/pipeline"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// TestConsentPurgesAgainstRealStores runs the pipeline over the real
// ClickHouse store and a real (in-memory) Bleve index: what both hold must
// be exactly the consenting, live, unexpired posts after every step.
func TestConsentPurgesAgainstRealStores(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := chtest.Store(t)
	ix, err := indexer.Open(indexer.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })
	p := pipeline.New(st, ix, pipeline.Options{FlushEvery: time.Hour})

	now := time.Now().UTC().Truncate(time.Second)
	post := func(uri, host, author string, age time.Duration) model.Post {
		return model.Post{URI: uri, Host: host, Author: author, Created: now.Add(-age), Text: "hello " + uri, Language: "en"}
	}
	requireStored := func(want ...string) {
		t.Helper()
		got, err := st.PostURIs(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got, "ClickHouse")
		got, err = ix.AllURIs(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got, "Bleve")
	}

	require.NoError(t, p.AddVisit(ctx, model.Visit{
		State: model.HostState{Host: "a.test", LastAttempt: now},
		Posts: []model.Post{post("https://a.test/1", "a.test", "ann@a.test", time.Hour), post("https://a.test/2", "a.test", "ann@a.test", time.Hour),
			post("https://a.test/3", "a.test", "bob@a.test", time.Hour), post("https://a.test/4", "a.test", "bob@a.test", 100*24*time.Hour)},
		PostVisit: &model.PostVisit{Host: "a.test", Source: model.SourceMastodon, Access: model.PostAccessOK,
			Authors: []model.AuthorState{{Author: "ann@a.test", Host: "a.test", Consent: true}, {Author: "bob@a.test", Host: "a.test", Consent: true}},
			Cursors: []model.PostCursor{{Host: "a.test", Account: "ann@a.test", Source: model.SourceMastodon, Cursor: "2"}},
		},
	}))
	require.NoError(t, p.AddVisit(ctx, model.Visit{
		State: model.HostState{Host: "b.test", LastAttempt: now},
		Posts: []model.Post{post("https://b.test/1", "b.test", "cy@b.test", time.Hour), post("https://b.test/2", "b.test", "dee@b.test", time.Hour)},
	}))
	require.NoError(t, p.Flush(ctx))
	requireStored("https://a.test/1", "https://a.test/2", "https://a.test/3", "https://a.test/4", "https://b.test/1", "https://b.test/2")

	// Second crawl of a.test: ann withdrew after a visit in the same flush
	// brought a new post of hers; a/3 was deleted at the source.
	require.NoError(t, p.AddVisit(ctx, model.Visit{
		State: model.HostState{Host: "a.test", LastAttempt: now},
		Posts: []model.Post{post("https://a.test/5", "a.test", "ann@a.test", 0), post("https://a.test/6", "a.test", "bob@a.test", 0)},
	}))
	require.NoError(t, p.AddVisit(ctx, model.Visit{
		State: model.HostState{Host: "a.test", LastAttempt: now.Add(time.Second)},
		PostVisit: &model.PostVisit{Host: "a.test", Source: model.SourceMastodon, Access: model.PostAccessOK,
			Authors: []model.AuthorState{{Author: "ann@a.test", Host: "a.test", Reason: "noindex"}},
			Gone:    []string{"https://a.test/3"}, Skipped: map[string]int{"noindex": 1}},
	}))
	require.NoError(t, p.Flush(ctx))
	requireStored("https://a.test/4", "https://a.test/6", "https://b.test/1", "https://b.test/2")
	totals, err := st.AuthorTotals(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), totals.Consenting)
	require.Equal(t, map[string]uint64{"noindex": 1}, totals.Declined)
	skips, err := st.PostSkipTotals(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]uint64{"noindex": 1}, skips)
	cursors, err := st.PostCursors(ctx, "a.test")
	require.NoError(t, err)
	require.Len(t, cursors, 1)
	require.Equal(t, st.AuthorKey("ann@a.test"), cursors[0].AccountKey)

	// Retention, then the operator forgets an author and a host.
	n, err := p.Expire(ctx, now.Add(-90*24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	requireStored("https://a.test/6", "https://b.test/1", "https://b.test/2")

	res, err := p.Forget(ctx, st, model.PurgeScope{Author: "cy@b.test", Host: "b.test"})
	require.NoError(t, err)
	require.Equal(t, pipeline.ForgetResult{Indexed: 1, Stored: 1}, res)
	requireStored("https://a.test/6", "https://b.test/2")
	// cy's posts are refused from now on, whatever a crawl says.
	require.NoError(t, p.AddVisit(ctx, model.Visit{
		State: model.HostState{Host: "b.test", LastAttempt: now},
		Posts: []model.Post{post("https://b.test/3", "b.test", "cy@b.test", 0)},
		PostVisit: &model.PostVisit{Host: "b.test",
			Authors: []model.AuthorState{{Author: "cy@b.test", Host: "b.test", Consent: true}}},
	}))
	require.NoError(t, p.Flush(ctx))
	requireStored("https://a.test/6", "https://b.test/2")

	res, err = pipeline.Forget(ctx, st, ix, model.PurgeScope{Host: "a.test"})
	require.NoError(t, err)
	require.Equal(t, pipeline.ForgetResult{Indexed: 1, Stored: 1}, res)
	requireStored("https://b.test/2")
	optouts, err := st.OptOuts(ctx)
	require.NoError(t, err)
	require.Len(t, optouts, 1)
	require.Equal(t, "a.test", optouts[0].Host)
	require.NoError(t, p.Close(ctx))
}
