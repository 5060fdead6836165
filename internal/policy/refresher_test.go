package policy

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// fakeStore keeps posts and submissions in memory and records the order
// of deletions across the store and the index.
type fakeStore struct {
	mu        sync.Mutex
	optedOut  map[string]bool
	posts     map[string]string // uri -> host
	subs      []model.Submission
	deleteErr error
	log       *[]string
}

func (f *fakeStore) OptedOutPostURIs(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for u, h := range f.posts {
		if f.optedOut[h] {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f *fakeStore) DeletePosts(_ context.Context, uris []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.log = append(*f.log, "store")
	if f.deleteErr != nil {
		return f.deleteErr
	}
	for _, u := range uris {
		delete(f.posts, u)
	}
	return nil
}

func (f *fakeStore) Submissions(_ context.Context, after model.Submission, limit int) ([]model.Submission, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []model.Submission
	for _, s := range f.subs {
		if s.SubmittedAt.After(after.SubmittedAt) || (s.SubmittedAt.Equal(after.SubmittedAt) && s.Host > after.Host) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].SubmittedAt.Equal(out[j].SubmittedAt) {
			return out[i].SubmittedAt.Before(out[j].SubmittedAt)
		}
		return out[i].Host < out[j].Host
	})
	return out[:min(limit, len(out))], nil
}

type fakeIndex struct {
	deleted []string
	err     error
	log     *[]string
}

func (f *fakeIndex) Delete(_ context.Context, uris []string) error {
	*f.log = append(*f.log, "index")
	if f.err != nil {
		return f.err
	}
	f.deleted = append(f.deleted, uris...)
	return nil
}

func TestRefreshPurgesOptedOutPosts(t *testing.T) {
	ctx := context.Background()
	var order []string
	src := &fakeSource{}
	st := &fakeStore{
		optedOut: map[string]bool{},
		posts:    map[string]string{"u1": "gone.example", "u2": "gone.example", "u3": "keep.example"},
		log:      &order,
	}
	ix := &fakeIndex{log: &order}
	p := New(Options{OptOuts: src})
	r := NewRefresher(RefresherOptions{Policy: p, Store: st, Index: ix})

	require.NoError(t, r.Refresh(ctx))
	require.Empty(t, order, "nothing opted out, nothing deleted")

	// The admin opts out: the next refresh reloads and purges.
	src.set([]model.OptOut{{Host: "gone.example"}}, nil)
	st.optedOut["gone.example"] = true
	require.NoError(t, r.Refresh(ctx))
	ok, _ := p.Allowed("gone.example")
	require.False(t, ok)
	require.Equal(t, []string{"index", "store"}, order, "the index is purged before the store")
	require.Equal(t, []string{"u1", "u2"}, ix.deleted)
	require.Equal(t, map[string]string{"u3": "keep.example"}, st.posts)

	// Idempotent: nothing left to purge.
	order = order[:0]
	require.NoError(t, r.Refresh(ctx))
	require.Empty(t, order)

	// A post that was in flight arrives after the purge: the next refresh
	// finds it.
	st.posts["u4"] = "gone.example"
	n, err := r.Purge(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NotContains(t, st.posts, "u4")
}

func TestRefreshPurgeFailures(t *testing.T) {
	ctx := context.Background()
	var order []string
	st := &fakeStore{optedOut: map[string]bool{"gone.example": true}, posts: map[string]string{"u1": "gone.example"}, log: &order}
	ix := &fakeIndex{log: &order, err: errors.New("index locked")}
	src := &fakeSource{list: []model.OptOut{{Host: "gone.example"}}}
	p := New(Options{OptOuts: src})
	r := NewRefresher(RefresherOptions{Policy: p, Store: st, Index: ix})

	// The index fails: the store keeps the post, so the next run retries.
	err := r.Refresh(ctx)
	require.ErrorContains(t, err, "index locked")
	require.Equal(t, []string{"index"}, order)
	require.Contains(t, st.posts, "u1")
	ok, _ := p.Allowed("gone.example")
	require.False(t, ok, "the reload happened although the purge failed")

	// The store fails after the index succeeded: retried as a whole later.
	ix.err, st.deleteErr = nil, errors.New("mutation failed")
	require.ErrorContains(t, r.Refresh(ctx), "mutation failed")
	st.deleteErr = nil
	require.NoError(t, r.Refresh(ctx))
	require.Empty(t, st.posts)

	// A failed reload is reported, and the purge still runs.
	st.posts["u2"] = "gone.example"
	src.set(nil, errors.New("clickhouse down"))
	require.ErrorContains(t, r.Refresh(ctx), "clickhouse down")
	require.Empty(t, st.posts)

	// Without an index (a process that holds none) only the store is purged.
	src.set([]model.OptOut{{Host: "gone.example"}}, nil)
	order = order[:0]
	st.posts["u3"] = "gone.example"
	r2 := NewRefresher(RefresherOptions{Policy: p, Store: st})
	require.NoError(t, r2.Refresh(ctx))
	require.Equal(t, []string{"store"}, order)
}

func TestSubmitted(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	st := &fakeStore{log: new([]string)}
	for i := range submissionsPage + 5 {
		st.subs = append(st.subs, model.Submission{Host: "h" + strconv.Itoa(i) + ".example", SubmittedAt: t0})
	}
	st.subs = append(st.subs,
		model.Submission{Host: "Upper.Example.", SubmittedAt: t0.Add(time.Second)},
		model.Submission{Host: "bad host", SubmittedAt: t0.Add(time.Second)},
	)
	r := NewRefresher(RefresherOptions{Policy: New(Options{}), Store: st})

	got, err := r.Submitted(ctx)
	require.NoError(t, err)
	require.Len(t, got, submissionsPage+6, "every page is read; the invalid name is dropped")
	require.Contains(t, got, "upper.example", "normalised")
	require.NotContains(t, got, "bad host")

	got, err = r.Submitted(ctx)
	require.NoError(t, err)
	require.Empty(t, got, "each submission is handed out once")

	st.mu.Lock()
	st.subs = append(st.subs, model.Submission{Host: "new.example", SubmittedAt: t0.Add(time.Minute)})
	st.mu.Unlock()
	got, err = r.Submitted(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"new.example"}, got)
}

func TestNewRefresherNeedsPolicyAndStore(t *testing.T) {
	require.Panics(t, func() { NewRefresher(RefresherOptions{}) })
	require.Panics(t, func() { NewRefresher(RefresherOptions{Policy: New(Options{})}) })
}
