package fedisim

import (
	"sort"
	"strconv"
	"time"
)

// Boosts: accounts of the programs whose boosts a crawler reads without
// extra requests share posts of other instances (and now and then of
// their own). WordPress (the ActivityPub plugin) lists them as Announce
// activities in the author's outbox, among the Creates; the Misskey
// family lists plain renotes in POST /api/users/notes (withRenotes,
// true by default), the renoted note embedded. Every draw comes from the
// boosts' own streams (saltBoosts, saltBoostEpoch), so the posts, the
// accounts and everything else of a world are the same with them; the
// local timeline and the other programs' outboxes do not show boosts.
//
// At epoch 0 about half the accounts have 1 to 3 boosts (3 in 20
// addressed to followers, with the public in cc, or "home" on Misskey:
// not public), dated within the 90 days before Now like the posts. Each
// later epoch undoes about 10% of the live boosts, drops those of deleted
// accounts, and gives about 8% of the live accounts 1 or 2 new public
// boosts, dated Now+(j-1)h+45min to +55min (after that epoch's new
// posts, so ids and published times keep growing).
const (
	boostShare       = 0.5
	boostPublicShare = 0.85
	boostUndo        = 0.10
	boostNew         = 0.08
)

// boost is one boost by a local account.
type boost struct {
	seq     int
	author  *account
	created time.Time
	// id is the renote's note id (Misskey family), uri the Announce's id
	// or the renote's URI; public is false for followers-only (Announce)
	// or home (renote) boosts.
	id, uri string
	public  bool
	// object is the boosted post's URI, host its instance (the booster's
	// own for a boost of a local post), objectID the server's id of (its
	// copy of) the boosted note, objectUser its author's user name and
	// objectCreated its date.
	object, host, objectID, objectUser string
	objectCreated                      time.Time
	// note is the renote as a note of the Misskey notes API (renote set),
	// so that it pages with the author's notes; nil elsewhere.
	note *post
}

// hasBoosts reports whether the instance's program lists boosts where a
// crawler reads posts.
func hasBoosts(in *instance) bool { return in.kind == swWordPress || isMisskeyFamily(in) }

// generateBoosts draws the epoch-0 boosts of c's accounts.
func (w *world) generateBoosts(in *instance, c *content) {
	if !hasBoosts(in) {
		return
	}
	for i, a := range c.accounts {
		if a.planted {
			continue
		}
		r := newRNG(w.seed, saltBoosts, uint64(in.idx), uint64(i))
		if !r.chance(boostShare) {
			continue
		}
		for k := 1 + r.intn(3); k > 0; k-- {
			at := w.now.Add(-time.Duration(60+r.intn(90*86400)) * time.Second)
			a.boosts = append(a.boosts, w.makeBoost(in, r, a, c, at, r.chance(boostPublicShare)))
		}
		sortBoosts(a.boosts)
	}
}

// applyBoostEpoch applies the boost changes of epoch j (see the Boosts
// comment) after applyEpoch's.
func (w *world) applyBoostEpoch(in *instance, c *content, j int) {
	if !hasBoosts(in) {
		return
	}
	for _, a := range c.goneAccounts {
		a.boosts = nil
	}
	r := newRNG(w.seed, saltBoostEpoch, uint64(in.idx), uint64(j))
	at := w.now.Add(time.Duration(j-1)*time.Hour + 45*time.Minute)
	for _, a := range c.accounts {
		kept := a.boosts[:0:0]
		for _, b := range a.boosts {
			if !r.chance(boostUndo) {
				kept = append(kept, b)
			}
		}
		a.boosts = kept
		fresh, n := r.chance(boostNew), 1+r.intn(2)
		if !fresh || a.planted {
			continue
		}
		for ; n > 0; n-- {
			at = at.Add(time.Duration(1+r.intn(10)) * time.Second)
			a.boosts = append(a.boosts, w.makeBoost(in, r, a, c, at, true))
		}
		sortBoosts(a.boosts)
	}
}

// makeBoost draws one boost of a at the time at: a post of a random
// instance (the account's own one, one time in ten), by a random user.
func (w *world) makeBoost(in *instance, r *rng, a *account, c *content, at time.Time, public bool) *boost {
	o := w.instances[r.intn(len(w.instances))]
	if r.chance(0.1) {
		o = in // a boost of a post of the booster's own instance
	}
	b := &boost{seq: c.nextBoost, author: a, created: at.UTC(), public: public, host: o.host,
		objectUser: r.pick(usernames), objectCreated: at.Add(-time.Duration(1+r.intn(86400)) * time.Second).UTC()}
	c.nextBoost++
	remote := strconv.FormatUint(r.next()>>24, 10)
	b.object = "https://" + o.host + "/users/" + b.objectUser + "/statuses/" + remote
	if isMisskeyFamily(in) {
		b.id = aid(b.created, r)
		b.uri = "https://" + in.host + "/notes/" + b.id
		b.objectID = aid(b.objectCreated, r)
		if o == in {
			b.object = "https://" + in.host + "/notes/" + b.objectID
		}
		b.note = &post{id: b.id, seq: -1 - b.seq, author: a, created: b.created, visibility: "public", renote: b}
		if !public {
			b.note.visibility = "unlisted" // Misskey's "home"
		}
	} else {
		b.uri = "https://" + in.host + "/?p=" + strconv.Itoa(100+b.seq) + "&announce=" + a.id
		if o == in {
			b.object = "https://" + in.host + "/?p=" + strconv.Itoa(100+r.intn(max(1, c.nextSeq)))
		}
	}
	return b
}

// sortBoosts puts boosts newest first.
func sortBoosts(bs []*boost) {
	sort.SliceStable(bs, func(i, j int) bool {
		if !bs[i].created.Equal(bs[j].created) {
			return bs[i].created.After(bs[j].created)
		}
		return bs[i].seq > bs[j].seq
	})
}

// announceJSON renders a boost as the ActivityStreams Announce an outbox
// lists: to the public (cc the followers and the boosted author) or, for
// a followers-only boost, to the followers with the public in cc.
func (s *Sim) announceJSON(b *boost) obj {
	followers := b.author.actorURI + "followers"
	if b.author.actorURI[len(b.author.actorURI)-1] != '/' {
		followers = b.author.actorURI + "/followers"
	}
	boosted := "https://" + b.host + "/users/" + b.objectUser
	to, cc := []string{asPublic}, []string{followers, boosted}
	if !b.public {
		to, cc = []string{followers}, []string{asPublic, boosted}
	}
	return obj{{"id", b.uri}, {"type", "Announce"}, {"actor", b.author.actorURI},
		{"published", b.created.Format(timeSeconds)}, {"to", to}, {"cc", cc}, {"object", b.object}}
}

// misskeyRenoteJSON packs a plain renote the way Misskey does: no text,
// renoteId, and the renoted note embedded as "renote" with its author
// (host null for a local one) and, for a remote note, its uri and url.
func (s *Sim) misskeyRenoteJSON(in *instance, pst *post) obj {
	b := pst.renote
	host := ""
	if b.host != in.host {
		host = b.host
	}
	userID := strconv.FormatUint(hashString(b.host+"\x00"+b.objectUser), 36)
	return obj{
		{"id", pst.id}, {"createdAt", pst.created.Format(timeMillis)}, {"userId", pst.author.id},
		{"user", s.misskeyUser(in, pst.author)}, {"text", nil}, {"cw", nil},
		{"visibility", misskeyVisibility(pst.visibility)}, {"localOnly", false}, {"reactionAcceptance", nil},
		{"renoteCount", 0}, {"repliesCount", 0}, {"reactionCount", 0}, {"reactions", obj{}}, {"reactionEmojis", obj{}},
		{"fileIds", arr{}}, {"files", arr{}}, {"replyId", nil}, {"renoteId", b.objectID},
		{"renote", misskeyForeignNote(in, b.objectID, b.objectCreated, userID, b.objectUser, host, b.object)},
	}
}

// renoteNotes returns the account's renotes as notes (Misskey family).
func renoteNotes(a *account) []*post {
	var out []*post
	for _, b := range a.boosts {
		if b.note != nil {
			out = append(out, b.note)
		}
	}
	return out
}

// BoostTruth is one boost as served.
type BoostTruth struct {
	// URI is the boost's own id: the Announce's id, or the renote's URI
	// (https://host/notes/<id>).
	URI string
	// Author is the booster's user@host.
	Author string
	// Created is the boost's date, UTC, whole seconds.
	Created time.Time
	// Public is false for a boost addressed to followers only (the public
	// in cc) or a "home" renote: a crawler does not keep it.
	Public bool
	// Object is the boosted post's URI and BoostedHost its instance (the
	// booster's own for a boost of a local post).
	Object      string
	BoostedHost string
}

// boostTruths is the truth of an account's live boosts, newest first.
func boostTruths(acct string, bs []*boost) []BoostTruth {
	if len(bs) == 0 {
		return nil
	}
	out := make([]BoostTruth, len(bs))
	for i, b := range bs {
		out[i] = BoostTruth{URI: b.uri, Author: acct, Created: b.created, Public: b.public, Object: b.object, BoostedHost: b.host}
	}
	return out
}

// boostFamilies are the post families whose sources read boosts.
var boostFamilies = map[*postFamily]bool{apFamily: true, misskeyFamily: true}

// Boosts is the exact set of boosts a correct crawler stores after
// crawling from seeds once at every epoch up to this truth's (rule 5b of
// the package doc): for each instance of the census that PostsReadable
// and whose family's source reads boosts (WordPress through its outboxes,
// the Misskey family through users/notes), the live public boosts,
// created at or after notBefore, of each account that still exists and
// consents and that the crawl of this epoch rechecks: an author of the
// family's listings at this epoch, or one with posts stored by the
// previous epoch's crawl (Posts of the previous truth). A boost is kept
// only while its author's consent is rechecked, and the pseudonymous
// store cannot name an author who is neither listed nor has posts.
// Boosts are grouped by host in host order, newest first within a host.
func (t *Truth) Boosts(seeds []string, notBefore time.Time) []BoostTruth {
	var out []BoostTruth
	for _, it := range t.Census(seeds) {
		out = append(out, t.instanceBoosts(&it, notBefore)...)
	}
	return out
}

// instanceBoosts is Boosts for one stored instance.
func (t *Truth) instanceBoosts(it *InstanceTruth, notBefore time.Time) []BoostTruth {
	f := postFamilies[it.Software]
	if !it.PostsReadable() || !boostFamilies[f] {
		return nil
	}
	checked := map[string]bool{}
	f.authors(it, checked)
	if t.prev != nil {
		if old, ok := t.prev.Instance(it.Host); ok {
			for _, p := range t.prev.instancePosts(&old, notBefore) {
				checked[p.Author] = true
			}
		}
	}
	var out []BoostTruth
	for _, a := range it.Accounts {
		if !a.Consents || !checked[a.Acct] {
			continue
		}
		for _, b := range a.Boosts {
			if b.Public && !b.Created.Before(notBefore) {
				out = append(out, b)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].URI > out[j].URI
	})
	return out
}

// outboxEntry is one item of an outbox: a post (its Create) or a boost
// (its Announce).
type outboxEntry struct {
	post  *post
	boost *boost
}

// outboxEntries merges an outbox's posts and boosts, both newest first,
// into one list, newest first (a post before a boost of the same second).
func outboxEntries(posts []*post, boosts []*boost) []outboxEntry {
	out := make([]outboxEntry, 0, len(posts)+len(boosts))
	i, j := 0, 0
	for i < len(posts) || j < len(boosts) {
		if j == len(boosts) || i < len(posts) && !boosts[j].created.After(posts[i].created) {
			out = append(out, outboxEntry{post: posts[i]})
			i++
			continue
		}
		out = append(out, outboxEntry{boost: boosts[j]})
		j++
	}
	return out
}

// outboxItems renders outbox entries as their activities.
func (s *Sim) outboxItems(in *instance, entries []outboxEntry) arr {
	items := make(arr, 0, len(entries))
	for _, e := range entries {
		if e.post != nil {
			items = append(items, s.createJSON(in, e.post))
		} else {
			items = append(items, s.announceJSON(e.boost))
		}
	}
	return items
}
