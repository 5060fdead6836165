package pipeline

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// boostRecorder is the recorder with a boosts table.
type boostRecorder struct {
	*recorder
	failBoosts error
	boosts     []model.Boost
}

var _ BoostWriter = (*boostRecorder)(nil)

func (b *boostRecorder) InsertBoosts(_ context.Context, bs []model.Boost) error {
	if b.failBoosts != nil {
		return b.failBoosts
	}
	return b.do("boosts", func() { b.boosts = append(b.boosts, bs...) })
}

func boostURIs(bs []model.Boost) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.URI)
	}
	return out
}

// TestBoostsFollowTheirVisit: boosts are written after the posts of the
// same flush and before its purges, never for an author withdrawn in the
// batch or forgotten, nor when found gone (undone); a failed write keeps
// them for the next flush without writing the posts twice.
func TestBoostsFollowTheirVisit(t *testing.T) {
	rec := &recorder{forgotten: []string{"zed@a.example"}}
	st := &boostRecorder{recorder: rec}
	p := New(st, rec, Options{FlushEvery: time.Hour})
	ctx := context.Background()
	boost := func(uri, author string) model.Boost {
		return model.Boost{URI: uri, Host: "a.example", Author: author, BoostedHost: "b.example", Source: model.SourceMisskey}
	}
	require.NoError(t, p.AddVisit(ctx, model.Visit{
		State: model.HostState{Host: "a.example"},
		Posts: []model.Post{{URI: "p1", Host: "a.example", Author: "ann@a.example"}},
		PostVisit: &model.PostVisit{
			Host: "a.example",
			Authors: []model.AuthorState{{Author: "ann@a.example", Consent: true},
				{Author: "bob@a.example", Consent: false, Reason: "not_indexable"}},
			Boosts: []model.Boost{boost("b1", "ann@a.example"), boost("b2", "bob@a.example"),
				boost("b3", "zed@a.example"), boost("b4", "ann@a.example")},
			Gone: []string{"b4"},
		},
	}))

	st.failBoosts = errors.New("post_boosts unavailable")
	require.Error(t, p.Flush(ctx))
	require.Len(t, rec.posts, 1)
	require.Empty(t, rec.purges, "no purge ahead of the boosts")

	st.failBoosts = nil
	require.NoError(t, p.Close(ctx))
	require.Equal(t, []string{"b1"}, boostURIs(st.boosts))
	require.Len(t, rec.posts, 1, "the posts are not written twice")
	require.Equal(t, []string{"index", "posts", "boosts"}, rec.callOrder[:3])
	require.Greater(t, slices.Index(rec.callOrder, "purge"), 2, "purges come after the boosts: %v", rec.callOrder)
}

// TestForgetAndExpireDropBufferedBoosts: a forget or an expiry between
// two flushes drops the buffered boosts it covers.
func TestForgetAndExpireDropBufferedBoosts(t *testing.T) {
	rec := &recorder{}
	st := &boostRecorder{recorder: rec}
	p := New(st, rec, Options{FlushEvery: time.Hour})
	ctx := context.Background()
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, p.AddVisit(ctx, model.Visit{
		State: model.HostState{Host: "a.example"},
		PostVisit: &model.PostVisit{Host: "a.example", Boosts: []model.Boost{
			{URI: "b1", Host: "a.example", Author: "ann@a.example", Created: old.AddDate(1, 0, 0)},
			{URI: "b2", Host: "a.example", Author: "bob@a.example", Created: old.AddDate(1, 0, 0)},
			{URI: "b3", Host: "a.example", Author: "cy@a.example", Created: old},
		}},
	}))
	_, err := p.Forget(ctx, st, model.PurgeScope{Author: "Bob@a.example"})
	require.NoError(t, err)
	_, err = p.Expire(ctx, old.Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, p.Close(ctx))
	require.Equal(t, []string{"b1"}, boostURIs(st.boosts))

	// A store without boosts drops them at the flush.
	plain := New(rec, rec, Options{FlushEvery: time.Hour})
	require.NoError(t, plain.AddVisit(ctx, model.Visit{State: model.HostState{Host: "a.example"},
		PostVisit: &model.PostVisit{Host: "a.example", Boosts: []model.Boost{{URI: "b9", Author: "ann@a.example"}}}}))
	require.NoError(t, plain.Close(ctx))
	require.Equal(t, []string{"b1"}, boostURIs(st.boosts))
}
