package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// wantPostLinks computes, from the ground truth, every host's post links
// as of at (zero: all): the hosts its stored posts mention and answer and
// the hosts of the posts its stored boosts share, with counts and the
// first and last creation times; a host's links to itself are not links.
func wantPostLinks(posts []fedisim.PostTruth, boosts []fedisim.BoostTruth, at time.Time) map[string][]model.PostLink {
	type key struct{ host, target, kind string }
	agg := map[key]*model.PostLink{}
	add := func(host, target, kind string, created time.Time) {
		if target == "" || target == host || !at.IsZero() && created.After(at) {
			return
		}
		k := key{host, target, kind}
		l := agg[k]
		if l == nil {
			l = &model.PostLink{Host: host, Target: target, Kind: kind, FirstSeen: created, LastSeen: created}
			agg[k] = l
		}
		l.Count++
		if created.Before(l.FirstSeen) {
			l.FirstSeen = created
		}
		if created.After(l.LastSeen) {
			l.LastSeen = created
		}
	}
	for _, p := range posts {
		_, host, _ := strings.Cut(p.Author, "@")
		seen := map[string]bool{}
		for _, m := range p.Mentions {
			target := host
			if _, h, ok := strings.Cut(m, "@"); ok {
				target = strings.ToLower(h)
			}
			if !seen[target] {
				seen[target] = true
				add(host, target, model.PostLinkMention, p.Created)
			}
		}
		if p.InReplyTo != "" {
			parent, err := hostname.FromURL(p.InReplyTo)
			if err == nil {
				add(host, parent, model.PostLinkReply, p.Created)
			}
		}
	}
	for _, b := range boosts {
		_, host, _ := strings.Cut(b.Author, "@")
		add(host, b.BoostedHost, model.PostLinkBoost, b.Created)
	}
	out := map[string][]model.PostLink{}
	for _, l := range agg {
		out[l.Host] = append(out[l.Host], *l)
	}
	for _, ls := range out {
		sort.Slice(ls, func(i, j int) bool {
			if ls[i].Target != ls[j].Target {
				return ls[i].Target < ls[j].Target
			}
			return ls[i].Kind < ls[j].Kind
		})
	}
	return out
}

// checkPostLinks compares PostLinks of every stored host, as of at, with
// the truth, and returns the number of links compared.
func checkPostLinks(t *testing.T, st *store.Store, census []fedisim.InstanceTruth, want map[string][]model.PostLink, at time.Time, what string) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	for _, it := range census {
		got, err := st.PostLinks(ctx, it.Host, at)
		require.NoError(t, err)
		require.Equal(t, want[it.Host], got, "%s: post links of %s (%s)", what, it.Host, it.Software)
		n += len(got)
	}
	return n
}

// linkKinds counts links by kind.
func linkKinds(want map[string][]model.PostLink) map[string]int {
	n := map[string]int{}
	for _, ls := range want {
		for _, l := range ls {
			n[l.Kind]++
		}
	}
	return n
}

// TestPostLinksMatchTruth crawls a simulator whose authors mention,
// answer (partly across instances: fedisim.Options.RemoteReplies) and
// boost (WordPress Announces, Misskey renotes), and checks PostLinks of
// every stored host against the ground truth exactly: targets, kinds,
// counts, first and last seen, also as of a date in the past; then the
// ranking of TopPostLinks. Time passes in the simulator (posts deleted,
// boosts undone, consent withdrawn, accounts deleted, new posts and
// boosts) and a second crawl must leave links that are exactly the new
// truth's; finally `fedilens forget` of a boosting author removes her
// links at once.
func TestPostLinksMatchTruth(t *testing.T) {
	const optIn = "#searchable"
	env := startSimWith(t, fedisim.Options{Seed: 11, Instances: 200, PostScale: 2, OptInWord: optIn, RemoteReplies: true})
	dsn := freshDSN(t)
	data := t.TempDir()
	flags := []string{"--data", data, "--clickhouse", dsn, "--log-level", "warn"}
	crawl := func() {
		start := time.Now()
		out := runMain(t, append(append([]string{"crawl", "--once", "--host-delay", "5ms", "--recrawl-after", "0",
			"--post-revalidate-after", "0", "--post-retention", "0", "--opt-in-word", optIn}, flags...), env.crawlArg...)...)
		t.Logf("crawl took %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Addr: dsn})
	require.NoError(t, err)
	defer st.Close()

	check := func(epoch int) map[string][]model.PostLink {
		truth := env.sim.Truth()
		census := truth.Census(env.seeds)
		posts, boosts := truth.Posts(env.seeds, time.Time{}), truth.Boosts(env.seeds, time.Time{})
		want := wantPostLinks(posts, boosts, time.Time{})
		n := checkPostLinks(t, st, census, want, time.Time{}, fmt.Sprintf("epoch %d", epoch))
		kinds := linkKinds(want)
		t.Logf("epoch %d: %d posts and %d boosts make %d links (by kind: %v)", epoch, len(posts), len(boosts), n, kinds)
		for _, kind := range []string{model.PostLinkBoost, model.PostLinkMention, model.PostLinkReply} {
			require.Greater(t, kinds[kind], 10, "every kind of link is checked: %s", kind)
		}

		past := truth.Now.Add(-45 * 24 * time.Hour)
		checkPostLinks(t, st, census, wantPostLinks(posts, boosts, past), past, fmt.Sprintf("epoch %d, as of %s", epoch, past.Format(time.DateOnly)))

		// The ranking: the counts of the top 15 are the truth's, and each
		// link is one of the truth's, with its first and last seen.
		var all []model.PostLink
		byKey := map[string]model.PostLink{}
		for _, ls := range want {
			for _, l := range ls {
				all = append(all, l)
				byKey[l.Host+" "+l.Target+" "+l.Kind] = l
			}
		}
		sort.Slice(all, func(i, j int) bool { return all[i].Count > all[j].Count })
		top, err := st.TopPostLinks(ctx, time.Time{}, time.Time{}, 15)
		require.NoError(t, err)
		require.Len(t, top, 15)
		for i, l := range top {
			require.Equal(t, all[i].Count, l.Count, "rank %d", i)
			require.Equal(t, byKey[l.Host+" "+l.Target+" "+l.Kind], l)
		}
		return want
	}

	crawl()
	first := check(0)
	require.Equal(t, 1, env.sim.Advance())
	crawl()
	second := check(1)
	require.NotEqual(t, first, second, "the epoch changed the links")

	// Forget the author of the most boosts: her boosts (and posts) go from
	// ClickHouse at once, and with them her links.
	count := map[string]int{}
	for _, b := range env.sim.Truth().Boosts(env.seeds, time.Time{}) {
		count[b.Author]++
	}
	author := ""
	for a, n := range count {
		if author == "" || n > count[author] || n == count[author] && a < author {
			author = a
		}
	}
	require.NotEmpty(t, author)
	runMain(t, append([]string{"forget", "acct:" + author}, flags...)...)
	var posts []fedisim.PostTruth
	var boosts []fedisim.BoostTruth
	for _, p := range env.sim.Truth().Posts(env.seeds, time.Time{}) {
		if p.Author != author {
			posts = append(posts, p)
		}
	}
	for _, b := range env.sim.Truth().Boosts(env.seeds, time.Time{}) {
		if b.Author != author {
			boosts = append(boosts, b)
		}
	}
	_, host, _ := strings.Cut(author, "@")
	got, err := st.PostLinks(ctx, host, time.Time{})
	require.NoError(t, err)
	require.Equal(t, wantPostLinks(posts, boosts, time.Time{})[host], got, "after forgetting %s", author)
	metas, err := st.BoostMetas(ctx, host)
	require.NoError(t, err)
	for _, m := range metas {
		require.NotEqual(t, st.AuthorKey(author), m.AuthorKey, "a forgotten author's boosts are purged")
	}
}
