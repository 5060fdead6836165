package fedisim

import (
	"html"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Epochs model the time between two crawls. Epoch 0 is the world as New
// builds it; each Advance applies one more round of changes, cumulatively
// and deterministically from (Seed, Instances, options, epoch):
//
//   - about 10% of the consenting accounts withdraw consent, a quarter
//     each by setting indexable false, adding an opt-out word to the bio,
//     adding an opt-out profile field, or deleting the account (its
//     WebFinger, lookup and statuses answer 404, its actor 410 on Mastodon
//     and 404 elsewhere, and all its posts are gone);
//   - about 5% of the consenting accounts set discoverable false but stay
//     indexable: they leave the directory yet still consent (a trap for a
//     crawler that purges on discoverable);
//   - about 5% of the live posts of every visibility are deleted: their
//     object answers 410 on Mastodon, a Tombstone (200) on Pleroma and
//     Akkoma and 404 elsewhere, and they vanish from outboxes, timelines
//     and account statuses;
//   - about 8% of the live accounts publish 1 to 3 new posts, created
//     after Now (epoch j's between Now+(j-1)h and Now+jh) so that their ids
//     are greater than every earlier id: they test since_id cursors. New
//     posts mention only local accounts, so discovery (rule 1) is the same
//     at every epoch.
//
// Accounts planted for the relevance cases are exempt.
const (
	epochWithdraw     = 0.10
	epochUndiscover   = 0.05
	epochDeletePost   = 0.05
	epochPublish      = 0.08
	epochNewPostsUpTo = 3
)

// Epoch returns the current epoch (0 until the first Advance).
func (s *Sim) Epoch() int { return int(s.world.epoch.Load()) }

// Advance moves the simulation to the next epoch and returns it. It is safe
// to call while the handler serves: requests that started before see
// either epoch, later ones the new one.
func (s *Sim) Advance() int { return int(s.world.epoch.Add(1)) }

// drawAccess picks the Mastodon instances that require authentication for
// their client API and those in secure mode (AUTHORIZED_FETCH). Only
// instances whose local timeline is already closed to anonymous readers
// close their API, so the census and TimelinePosts do not change; the
// seeds never do either. The draws use their own stream, so the rest of
// the world is unchanged.
func (w *world) drawAccess() {
	for _, in := range w.instances {
		if in.kind != swMastodon || in.idx <= 2 {
			continue
		}
		r := newRNG(w.seed, saltAccess, uint64(in.idx))
		in.apiAuth = r.chance(0.35) && in.tlLocal != tlPublic
		in.authFetch = r.chance(0.15)
	}
}

// applyEpoch applies the changes of epoch j to c (see the Epochs comment).
// The number of draws per account and post is fixed, so one change never
// shifts the draws of another.
func (w *world) applyEpoch(in *instance, c *content, j int) {
	if len(c.accounts) == 0 {
		return
	}
	r := newRNG(w.seed, saltEpoch, uint64(in.idx), uint64(j))
	var live []*account
	for _, a := range c.accounts {
		x, how, pick := r.float(), r.intn(4), r.intn(len(optOuts))
		if a.planted || !w.consents(a) {
			live = append(live, a)
			continue
		}
		switch {
		case x < epochWithdraw:
			switch how {
			case 0:
				if a.indexable == nil {
					// No flag to turn off: the opt-in word goes.
					a.noteHTML = withoutOptIn(a.noteHTML, w.optInWord)
				} else {
					a.indexable = boolPtr(false)
				}
			case 1:
				text := strings.TrimSuffix(strings.TrimPrefix(a.noteHTML, "<p>"), "</p>")
				a.noteHTML = "<p>" + bioWithTag(text, optOuts[pick], false, in.host) + "</p>"
			case 2:
				opt := [][2]string{{"Crawlers", "#nobot"}, {"Search", "nosearch"}, {"noindex", "yes please"}}[pick%3]
				a.fields = append(a.fields, field{opt[0], html.EscapeString(opt[1])})
			default:
				a.gone = true
				c.goneAccounts = append(c.goneAccounts, a)
				continue
			}
		case x < epochWithdraw+epochUndiscover:
			a.discoverable, a.discoverableNull = false, false
		}
		live = append(live, a)
	}
	c.accounts = live

	var posts []*post
	for _, pst := range c.posts {
		del := r.chance(epochDeletePost)
		if pst.author.gone || del && !pst.author.planted {
			pst.gone = true
			c.gonePosts = append(c.gonePosts, pst)
			continue
		}
		posts = append(posts, pst)
	}

	// New posts, oldest first, after every earlier post.
	at := w.now.Add(time.Duration(j-1) * time.Hour)
	var fresh []*post
	for _, a := range c.accounts {
		n := 1 + r.intn(epochNewPostsUpTo)
		if !r.chance(epochPublish) || a.planted {
			continue
		}
		for k := 0; k < n; k++ {
			at = at.Add(time.Duration(1+r.intn(50)) * time.Second)
			pst := w.makeEpochPost(in, r, a, c, at)
			w.assignPostIDs(in, r, pst)
			fresh = append(fresh, pst)
		}
	}
	c.posts = posts
	w.decorate(in, c, fresh)
	c.posts = append(fresh, c.posts...)
	for _, a := range c.accounts {
		kept := a.posts[:0:0]
		for _, pst := range a.posts {
			if !pst.gone {
				kept = append(kept, pst)
			}
		}
		a.posts = kept
	}
	for _, pst := range fresh {
		pst.author.posts = append([]*post{pst}, pst.author.posts...)
	}
	sort.SliceStable(c.posts, func(i, j int) bool { return newer(c.posts[i], c.posts[j]) })
}

// epochLinks are the links new posts may carry (rule 5's Links).
var epochLinks = []string{
	"https://news.example/2026/11/the-story",
	"https://blog.example.org/posts/42",
	"https://docs.example.net/guide?lang=en&page=2",
}

// makeEpochPost writes a post published in an epoch after the first.
func (w *world) makeEpochPost(in *instance, r *rng, a *account, c *content, at time.Time) *post {
	pst := &post{
		seq:     c.nextSeq,
		author:  a,
		created: at,
		lang:    langs[r.weighted(langWeights)],
	}
	c.nextSeq++
	pst.visibility = []string{"public", "unlisted", "private", "direct"}[r.weighted([]int{55, 20, 15, 10})]
	pst.replies, pst.reblogs, pst.favourites = r.intn(3), r.intn(4), r.intn(8)
	var b strings.Builder
	b.WriteString("<p>")
	if len(c.accounts) > 1 && r.chance(0.2) {
		if o := c.accounts[r.intn(len(c.accounts))]; o != a {
			m := mention{username: o.username, acct: o.username, url: o.profileURL, uri: o.actorURI}
			pst.mentions = append(pst.mentions, m)
			b.WriteString(`<span class="h-card" translate="no"><a href="` + m.url + `" class="u-url mention">@<span>` + m.username + `</span></a></span> `)
		}
	}
	b.WriteString(html.EscapeString(r.pick(postTexts[pst.lang])))
	if r.chance(0.4) {
		link := r.pick(epochLinks)
		b.WriteString(` <a href="` + html.EscapeString(link) + `" target="_blank" rel="nofollow noopener noreferrer">` + html.EscapeString(strings.TrimPrefix(link, "https://")) + `</a>`)
	}
	if r.chance(0.5) {
		tag := r.pick(hashtags)
		low := strings.ToLower(tag)
		pst.tags = append(pst.tags, low)
		b.WriteString(` <a href="https://` + in.host + `/tags/` + low + `" class="mention hashtag" rel="tag">#<span>` + tag + `</span></a>`)
	}
	b.WriteString(" (update " + strconv.Itoa(pst.seq) + ")</p>")
	pst.contentHTML = b.String()
	if r.chance(0.1) {
		pst.summary, pst.sensitive = r.pick(contentWarnings), true
	}
	return pst
}
