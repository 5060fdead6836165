package fedisim

import (
	"html"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Lemmy's content: persons, communities, posts and comments, in their own
// random stream (saltLemmy), so the rest of the world never shifts. Lemmy
// persons are served only through Lemmy's API (lemmy_api.go), not over
// WebFinger and ActivityPub (Lemmy's person outbox is empty anyway): the
// truth lists them in InstanceTruth.LemmyPersons, not in Accounts.
//
// Bios, post bodies and comments are Markdown, as Lemmy stores them. Lemmy
// has no indexable flag: a person consents only through the opt-in word
// (rule 4), and a banned person never does.

// lemmyPerson is one local Lemmy user.
type lemmyPerson struct {
	id          int
	name        string
	displayName string // "" is served as null
	bio         string // Markdown; "" is served as null
	created     time.Time
	bot, banned bool
	gone        bool // deleted (an epoch change): /api/v3/user answers 404
	avatar      bool
}

// lemmyCommunity is one local community.
type lemmyCommunity struct {
	id          int
	name, title string
	desc        string
	nsfw        bool
	created     time.Time
}

// lemmyPost is one post (a link, a text or both).
type lemmyPost struct {
	id        int
	seq       int // generation order, for the tie-break of equal times
	creator   *lemmyPerson
	community *lemmyCommunity
	name      string // the title
	url       string // "" for a text post
	body      string // Markdown; "" is served as null
	created   time.Time
	lang      int // language_id (0 = undetermined)
	nsfw      bool
	featured  bool
	up, down  int
	// gone: deleted or removed (an epoch change); it vanishes from every
	// listing.
	gone bool
}

// lemmyComment is one comment on a post, possibly answering a comment.
type lemmyComment struct {
	id       int
	seq      int
	creator  *lemmyPerson
	post     *lemmyPost
	parent   *lemmyComment // nil: a top-level comment
	content  string        // Markdown
	created  time.Time
	lang     int
	up, down int
	// deleted or removed (an epoch change): still listed while its post
	// lives, with deleted or removed true and the content blanked, the way
	// Lemmy keeps a thread's shape; rule 5 never keeps it.
	deleted, removed bool
}

// gone reports a comment a crawler must not keep.
func (c *lemmyComment) gone() bool { return c.deleted || c.removed || c.post.gone }

// path is Lemmy's ltree of the comment: "0", the ancestors' ids, its id.
func (c *lemmyComment) path() string {
	var ids []string
	for x := c; x != nil; x = x.parent {
		ids = append(ids, strconv.Itoa(x.id))
	}
	var b strings.Builder
	b.WriteString("0")
	for i := len(ids) - 1; i >= 0; i-- {
		b.WriteString("." + ids[i])
	}
	return b.String()
}

// lemmyContent is one Lemmy instance's content at one epoch.
type lemmyContent struct {
	persons     []*lemmyPerson // every person, gone ones included, by id
	communities []*lemmyCommunity
	posts       []*lemmyPost    // every post, gone ones included, newest first
	comments    []*lemmyComment // every comment on a live or gone post, newest first
	nextPost    int
	nextComment int
	nextSeq     int
}

// lemmyLanguages is the language table the simulated Lemmy serves in
// /api/v3/site all_languages: language_id → code (0 = undetermined).
var lemmyLanguages = []struct {
	id         int
	code, name string
}{
	{0, "und", "Undetermined"}, {32, "de", "Deutsch"}, {37, "en", "English"}, {39, "es", "Español"},
	{47, "fr", "Français"}, {70, "ja", "日本語"}, {109, "nl", "Nederlands"}, {129, "pt", "Português"},
}

// lemmyLangID maps a language code to its language_id (0 when unknown).
func lemmyLangID(code string) int {
	for _, l := range lemmyLanguages {
		if l.code == code {
			return l.id
		}
	}
	return 0
}

// lemmyLangCode maps a language_id to the code a crawler stores ("" for
// undetermined).
func lemmyLangCode(id int) string {
	for _, l := range lemmyLanguages {
		if l.id == id && id != 0 {
			return l.code
		}
	}
	return ""
}

var lemmyCommunityNames = []string{"technology", "gardening", "asklemmy", "books", "photography", "cycling", "linux", "news"}

var lemmyTitles = []string{
	"What are you reading this week?", "Show us your garden", "A small tool I wrote",
	"Weekly discussion thread", "Best budget camera in 2026?", "Interesting article on cycling infrastructure",
	"How do you back up your home server?", "Photo of the day", "TIL about something neat",
}

// lemmyHostile is Markdown a renderer must neutralise: raw HTML, script
// links, image tricks.
var lemmyHostile = []string{
	"<script>alert('xss')</script>",
	"[click me](javascript:alert(document.cookie))",
	"<img src=x onerror=alert(1)>",
	"![tracker](javascript:alert(1))",
	`<a href="https://evil.example/" style="position:fixed">styled</a>`,
	"<iframe src=\"https://evil.example/frame\"></iframe>",
}

// lemmyLinks are the links posts point to or carry in their body.
var lemmyLinks = []string{
	"https://news.example/2026/11/the-story",
	"https://blog.example.org/posts/42",
	"https://docs.example.net/guide?lang=en&page=2",
	"https://photos.example/album/7",
}

// lemmyContentAt is the content of a Lemmy instance at epoch e.
func (w *world) lemmyContentAt(in *instance, e int) *lemmyContent {
	c := w.lemmyBase(in)
	for j := 1; j <= e; j++ {
		w.lemmyEpoch(in, c, j)
	}
	return c
}

// lemmyBase generates the epoch-0 content.
func (w *world) lemmyBase(in *instance) *lemmyContent {
	c := &lemmyContent{}
	if in.kind != swLemmy {
		return c
	}
	r := newRNG(w.seed, saltLemmy, uint64(in.idx), 0)
	created := w.now.AddDate(-2, 0, 0)
	pool := append([]string(nil), lemmyCommunityNames...)
	r.shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	for i, n := 0, 1+r.intn(3); i < n; i++ {
		c.communities = append(c.communities, &lemmyCommunity{
			id: 2 + i, name: pool[i], title: strings.ToUpper(pool[i][:1]) + pool[i][1:],
			desc: "A community about " + pool[i] + ".", nsfw: r.chance(0.05),
			created: created.Add(time.Duration(r.intn(300*24)) * time.Hour),
		})
	}
	n, names := drawAccounts(in, r)
	for i := 0; i < n; i++ {
		c.persons = append(c.persons, w.makeLemmyPerson(in, r, names[i], i))
	}
	// Posts, then comments on them, in generation order; ids follow time.
	latest := w.now.Add(-time.Minute)
	for _, p := range c.persons {
		for k := r.intn(5); k > 0; k-- {
			at := w.now.Add(-time.Duration(60+r.intn(90*86400)) * time.Second)
			c.posts = append(c.posts, w.makeLemmyPost(r, c, p, at))
		}
	}
	if len(c.posts) > 0 {
		for _, p := range c.persons {
			for k := r.intn(6); k > 0; k-- {
				pst := c.posts[r.intn(len(c.posts))]
				var parent *lemmyComment
				if cands := commentsOn(c.comments, pst); len(cands) > 0 && r.chance(0.4) {
					parent = cands[r.intn(len(cands))]
				}
				after := pst.created
				if parent != nil {
					after = parent.created
				}
				span := int(latest.Sub(after) / time.Second)
				at := after.Add(time.Duration(1+r.intn(max(1, span))) * time.Second)
				c.comments = append(c.comments, w.makeLemmyComment(r, c, p, pst, parent, at))
			}
		}
	}
	sort.SliceStable(c.posts, func(i, j int) bool {
		return lemmyOlder(c.posts[i].created, c.posts[i].seq, c.posts[j].created, c.posts[j].seq)
	})
	for i, pst := range c.posts {
		pst.id = 1 + i
	}
	sort.SliceStable(c.comments, func(i, j int) bool {
		return lemmyOlder(c.comments[i].created, c.comments[i].seq, c.comments[j].created, c.comments[j].seq)
	})
	for i, cm := range c.comments {
		cm.id = 1 + i
	}
	c.nextPost, c.nextComment = len(c.posts)+1, len(c.comments)+1
	c.sortNewest()
	return c
}

// lemmyOlder orders by time, then generation order.
func lemmyOlder(a time.Time, as int, b time.Time, bs int) bool {
	if !a.Equal(b) {
		return a.Before(b)
	}
	return as < bs
}

// sortNewest puts posts and comments newest first (Lemmy's sort=New: by
// published, then id).
func (c *lemmyContent) sortNewest() {
	sort.SliceStable(c.posts, func(i, j int) bool {
		a, b := c.posts[i], c.posts[j]
		if !a.created.Equal(b.created) {
			return a.created.After(b.created)
		}
		return a.id > b.id
	})
	sort.SliceStable(c.comments, func(i, j int) bool {
		a, b := c.comments[i], c.comments[j]
		if !a.created.Equal(b.created) {
			return a.created.After(b.created)
		}
		return a.id > b.id
	})
}

func commentsOn(all []*lemmyComment, pst *lemmyPost) []*lemmyComment {
	var out []*lemmyComment
	for _, c := range all {
		if c.post == pst {
			out = append(out, c)
		}
	}
	return out
}

// makeLemmyPerson draws one person. The opt-in word is drawn from its own
// stream, so a world with a word differs from one without only there.
func (w *world) makeLemmyPerson(in *instance, r *rng, name string, i int) *lemmyPerson {
	p := &lemmyPerson{
		id:      2 + i,
		name:    name,
		created: w.now.Add(-time.Duration(r.between(30, 1500)) * 24 * time.Hour).Truncate(24 * time.Hour),
		bot:     name == "news" || name == "tootbot" || r.chance(0.05),
		banned:  r.chance(0.03),
		avatar:  r.chance(0.5),
	}
	if r.chance(0.6) {
		p.displayName = strings.ToUpper(name[:1]) + name[1:] + r.pick(displaySuffixes)
		if r.chance(0.05) {
			p.displayName = r.pick(hostileDisplayNames)
		}
	}
	bio := ""
	if r.chance(0.8) {
		bio = html.UnescapeString(r.pick(bioTemplates))
	}
	switch x := r.float(); {
	case x < 0.12:
		bio = strings.TrimSpace(bio + " " + r.pick(optOuts))
	case x < 0.20:
		bio = strings.TrimSpace(bio + " " + r.pick(decoys))
	}
	if r.chance(0.1) {
		bio += "\n\n" + r.pick(lemmyHostile)
	}
	if newRNG(w.seed, saltLemmy, uint64(in.idx), 2, uint64(i)).chance(0.5) && w.optInWord != "" {
		bio = strings.TrimSpace(bio + " " + w.optInWord)
	}
	p.bio = bio
	return p
}

// makeLemmyPost draws one post of p at time at (its id is set later).
func (w *world) makeLemmyPost(r *rng, c *lemmyContent, p *lemmyPerson, at time.Time) *lemmyPost {
	pst := &lemmyPost{
		seq:       c.nextSeq,
		creator:   p,
		community: c.communities[r.intn(len(c.communities))],
		name:      r.pick(lemmyTitles),
		created:   at.UTC().Truncate(time.Second),
		up:        1 + r.intn(60),
		down:      r.intn(6),
		featured:  r.chance(0.03),
	}
	c.nextSeq++
	lang := langs[r.weighted(langWeights)]
	pst.lang = lemmyLangID(lang)
	pst.nsfw = pst.community.nsfw || r.chance(0.05)
	if r.chance(0.3) {
		pst.url = r.pick(lemmyLinks)
	}
	if pst.url == "" || r.chance(0.5) {
		pst.body = lemmyMarkdown(r, lang)
	}
	return pst
}

// makeLemmyComment draws one comment (its id is set later).
func (w *world) makeLemmyComment(r *rng, c *lemmyContent, p *lemmyPerson, pst *lemmyPost, parent *lemmyComment, at time.Time) *lemmyComment {
	lang := langs[r.weighted(langWeights)]
	cm := &lemmyComment{
		seq: c.nextSeq, creator: p, post: pst, parent: parent,
		created: at.UTC().Truncate(time.Second), lang: lemmyLangID(lang),
		up: 1 + r.intn(20), down: r.intn(3),
	}
	c.nextSeq++
	cm.content = lemmyMarkdown(r, lang)
	return cm
}

// lemmyMarkdown writes a body or comment: a paragraph, sometimes a link,
// a second paragraph, or hostile markup.
func lemmyMarkdown(r *rng, lang string) string {
	var b strings.Builder
	b.WriteString(r.pick(postTexts[lang]))
	if r.chance(0.25) {
		link := r.pick(lemmyLinks)
		b.WriteString(" See [this](" + link + ").")
	}
	if r.chance(0.3) {
		b.WriteString("\n\n" + r.pick(postTexts[lang]))
	}
	if r.chance(0.08) {
		b.WriteString("\n\n" + r.pick(lemmyHostile))
	}
	return b.String()
}

// lemmyConsents applies rule 4 to a person: the opt-in word in the bio,
// no opt-out word, not banned, not deleted.
func (w *world) lemmyConsents(p *lemmyPerson) bool {
	if p.gone || p.banned {
		return false
	}
	return w.consents(&account{noteHTML: html.EscapeString(p.bio)})
}

// lemmyEpochWithdraw is the share of consenting persons who withdraw in
// an epoch.
const lemmyEpochWithdraw = 0.3

// lemmyEpoch applies the epoch changes of Lemmy content (the Epochs comment in epoch.go, with
// Lemmy's means): about 30% of the consenting persons withdraw (more
// than elsewhere: Lemmy instances have few persons, and every way of
// withdrawing should occur in a test world), a quarter each by removing the opt-in word, adding an opt-out word, being banned
// or deleting their account (all their posts and comments go); about 5%
// of the live posts are deleted or removed (their comments vanish with
// them) and 5% of the live comments (still listed, blanked); about 8% of
// the live, unbanned persons write 1 to 3 new posts or comments after Now.
func (w *world) lemmyEpoch(in *instance, c *lemmyContent, j int) {
	if len(c.persons) == 0 {
		return
	}
	r := newRNG(w.seed, saltLemmy, uint64(in.idx), 1, uint64(j))
	for _, p := range c.persons {
		x, how, pick := r.float(), r.intn(4), r.intn(len(optOuts))
		if p.gone || !w.lemmyConsents(p) || x >= lemmyEpochWithdraw {
			continue
		}
		switch how {
		case 0:
			p.bio = strings.TrimSpace(strings.Replace(p.bio, w.optInWord, "", 1))
		case 1:
			p.bio += " " + optOuts[pick]
		case 2:
			p.banned = true
		default:
			p.gone = true
		}
	}
	for _, pst := range c.posts {
		del := r.chance(epochDeletePost)
		if !pst.gone && (pst.creator.gone || del) {
			pst.gone = true
		}
	}
	for _, cm := range c.comments {
		del, removed := r.chance(epochDeletePost), r.chance(0.3)
		if cm.deleted || cm.removed {
			continue
		}
		switch {
		case cm.creator.gone:
			cm.deleted = true
		case del && removed:
			cm.removed = true
		case del:
			cm.deleted = true
		}
	}
	at := w.now.Add(time.Duration(j-1) * time.Hour)
	for _, p := range c.persons {
		n, publish := 1+r.intn(epochNewPostsUpTo), r.chance(epochPublish)
		if !publish || p.gone || p.banned {
			continue
		}
		for k := 0; k < n; k++ {
			at = at.Add(time.Duration(1+r.intn(50)) * time.Second)
			var live []*lemmyPost
			for _, pst := range c.posts {
				if !pst.gone {
					live = append(live, pst)
				}
			}
			if len(live) == 0 || r.chance(0.5) {
				pst := w.makeLemmyPost(r, c, p, at)
				pst.id = c.nextPost
				c.nextPost++
				c.posts = append(c.posts, pst)
				continue
			}
			pst := live[r.intn(len(live))]
			var parent *lemmyComment
			if cands := commentsOn(c.comments, pst); len(cands) > 0 && r.chance(0.4) {
				parent = cands[r.intn(len(cands))]
			}
			cm := w.makeLemmyComment(r, c, p, pst, parent, at)
			cm.id = c.nextComment
			c.nextComment++
			c.comments = append(c.comments, cm)
		}
	}
	c.sortNewest()
}

// livePosts returns the listed posts, newest first.
func (c *lemmyContent) livePosts() []*lemmyPost {
	var out []*lemmyPost
	for _, p := range c.posts {
		if !p.gone {
			out = append(out, p)
		}
	}
	return out
}

// listedComments returns the comments Lemmy lists (those on live posts,
// deleted and removed ones included, blanked), newest first.
func (c *lemmyContent) listedComments() []*lemmyComment {
	var out []*lemmyComment
	for _, cm := range c.comments {
		if !cm.post.gone {
			out = append(out, cm)
		}
	}
	return out
}

// commentCount is a post's counts.comments: its live comments.
func (c *lemmyContent) commentCount(pst *lemmyPost) int {
	n := 0
	for _, cm := range c.comments {
		if cm.post == pst && !cm.gone() {
			n++
		}
	}
	return n
}

// childCount is a comment's counts.child_count: its live descendants.
func (c *lemmyContent) childCount(parent *lemmyComment) int {
	n := 0
	for _, cm := range c.comments {
		if cm.gone() || cm == parent {
			continue
		}
		for x := cm.parent; x != nil; x = x.parent {
			if x == parent {
				n++
				break
			}
		}
	}
	return n
}

// person returns the live person named name.
func (c *lemmyContent) person(name string) *lemmyPerson {
	for _, p := range c.persons {
		if p.name == name && !p.gone {
			return p
		}
	}
	return nil
}
