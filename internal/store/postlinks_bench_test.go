package store_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
)

// BenchmarkPostLinks measures the post link readers on 1,000,000 stored
// posts: 100,000 of one host (big.test) among 900 hosts of 1,000 posts,
// each post mentioning up to three of 2,000 hosts and answering one post
// in five; plus 100,000 boosts of big.test. Run it with
//
//	go test ./internal/store -run '^$' -bench PostLinks -benchtime 10x
func BenchmarkPostLinks(b *testing.B) {
	s := chtest.Store(b)
	ctx := b.Context()
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	host := func(i int) string { return fmt.Sprintf("h%04d.test", i) }
	post := func(h string, i int) model.Post {
		p := model.Post{URI: fmt.Sprintf("https://%s/statuses/%d", h, i), Host: h, Author: fmt.Sprintf("u%d@%s", i%50, h),
			Created: start.Add(time.Duration(r.IntN(90*86400)) * time.Second)}
		for k := r.IntN(4); k > 0; k-- {
			p.Mentions = append(p.Mentions, "x@"+host(r.IntN(2000)))
		}
		if r.IntN(5) == 0 {
			p.ReplyHost = host(r.IntN(2000))
			p.InReplyTo = "https://" + p.ReplyHost + "/1"
		}
		return p
	}
	batch := make([]model.Post, 0, 100_000)
	flush := func() {
		require.NoError(b, s.InsertPosts(ctx, batch))
		batch = batch[:0]
	}
	for i := range 100_000 {
		batch = append(batch, post("big.test", i))
	}
	flush()
	for h := range 900 {
		for i := range 1000 {
			batch = append(batch, post(host(h), i))
		}
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
	boosts := make([]model.Boost, 100_000)
	for i := range boosts {
		boosts[i] = model.Boost{URI: fmt.Sprintf("https://big.test/boosts/%d", i), Host: "big.test", Author: fmt.Sprintf("u%d@big.test", i%50),
			Created: start.Add(time.Duration(r.IntN(90*86400)) * time.Second), BoostedHost: host(r.IntN(2000)), Source: model.SourceMisskey}
	}
	require.NoError(b, s.InsertBoosts(ctx, boosts))
	require.NoError(b, s.Conn().Exec(ctx, "OPTIMIZE TABLE posts FINAL"))

	b.Run("PostLinks", func(b *testing.B) {
		for b.Loop() {
			links, err := s.PostLinks(ctx, "big.test", time.Time{})
			require.NoError(b, err)
			require.Greater(b, len(links), 2000)
		}
	})
	b.Run("PostLinksSmallHost", func(b *testing.B) {
		for b.Loop() {
			_, err := s.PostLinks(ctx, host(7), time.Time{})
			require.NoError(b, err)
		}
	})
	b.Run("TopPostLinks", func(b *testing.B) {
		for b.Loop() {
			top, err := s.TopPostLinks(ctx, time.Time{}, time.Time{}, 20)
			require.NoError(b, err)
			require.Len(b, top, 20)
		}
	})
}
