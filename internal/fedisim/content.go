package fedisim

import (
	"fmt"
	"html"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// field is a profile field; value is HTML as served.
type field struct{ name, value string }

// account is one simulated local account.
type account struct {
	username    string
	displayName string
	id          string // server-side id (snowflake, aid, ...)
	actorURI    string
	actorPath   string
	outboxPath  string
	profileURL  string
	noteHTML    string
	fields      []field
	// indexable is nil where the program (or version) has no such flag.
	indexable *bool
	// discoverable false may be served as null by Mastodon.
	discoverable, discoverableNull bool
	noindex                        bool
	bot, locked                    bool
	created                        time.Time
	followers, following           int
	posts                          []*post // newest first
	// boosts are the account's live boosts, newest first (boosts.go).
	boosts []*boost
	// gone: the account was deleted (an epoch change); planted: it was
	// added for the relevance cases and is exempt from epoch changes.
	gone, planted bool
	// rendered caches the account's Mastodon Account JSON (render.go).
	rendered atomic.Pointer[renderedJSON]
}

// mention is a mention of another account inside a post.
type mention struct {
	username, acct, url, uri string
}

// post is one simulated status.
type post struct {
	id          string // server-side id; newest posts have the largest
	seq         int
	author      *account
	created     time.Time
	visibility  string // public, unlisted, private, direct
	lang        string
	contentHTML string
	summary     string
	sensitive   bool
	tags        []string // lower-case
	mentions    []mention
	uri, url    string
	objectPath  string // path of uri on the instance
	urlPath     string // path of url on the instance
	replies     int
	reblogs     int
	favourites  int
	// The extras (extras.go): media, the post answered, a poll, the
	// object type; gone marks a post deleted by an epoch change.
	media     []media
	inReplyTo *post
	poll      *poll
	kind      string // note, article, question
	gone      bool
	// renote is set on the note a Misskey-family renote pages as
	// (boosts.go); such notes are in no posts list. remoteParent is the
	// post of another instance this one answers (Options.RemoteReplies;
	// inReplyTo is then nil).
	renote       *boost
	remoteParent *remotePost
	// rendered caches the post's Mastodon Status JSON (render.go).
	rendered atomic.Pointer[renderedJSON]
}

// target is what a content path serves.
type target struct {
	kind    uint8
	account *account
	post    *post
}

const (
	targetActor uint8 = iota + 1
	targetOutbox
	targetObject
	targetPage
)

// content is the lazily generated accounts and posts of one instance.
type content struct {
	accounts []*account
	posts    []*post // all posts, newest first
	paths    map[string]target
	// goneAccounts and gonePosts were deleted by epoch changes: their
	// URLs answer 410, 404 or a Tombstone (epoch.go).
	goneAccounts []*account
	gonePosts    []*post
	// nextSeq is the next unused post sequence number.
	nextSeq int
	// nextBoost is the next unused boost sequence number (boosts.go).
	nextBoost int
	// public lists the visibility=public posts, newest first, built on
	// first use (render.go): the local timeline pages through it.
	publicOnce sync.Once
	public     []*post
}

var usernames = []string{
	"alice", "bruno", "chidi", "dagny", "emeka", "farah", "gwen", "hiro", "ines",
	"jonas", "kofi", "lena", "mateo", "nadia", "oskar", "priya", "quinn", "rosa",
	"sven", "tamar", "uma", "vikram", "wanda", "xiadani", "yusuf", "zoe",
	"birdwatcher", "photos", "news", "tootbot", "writer", "dev", "cat", "admin",
}

var displaySuffixes = []string{"", "", " 🌻", " :verified:", " (she/her)", " (they/them)", " 🐘"}

var hostileDisplayNames = []string{`<b>Bold</b> name`, `"><img src=x onerror=alert(1)>`, "Zoë & Co"}

var bioTemplates = []string{
	"Gardener, cyclist and occasional baker.",
	"Software developer. Opinions are my own.",
	"I post photos of birds and the odd cloud.",
	"Librarian by day, musician by night.",
	"Just here for the cat pictures.",
	"Writing about books, tea and small computers.",
	"Researcher in climate science &amp; data.",
	"Hiking, maps &amp; open data.",
	"Posting in English, Deutsch und Français.",
	"Retired teacher. Grandmother. Knitter.",
}

// optOuts are bio suffixes that opt the author out (rule 4); decoys must not.
var optOuts = []string{"#nobot", "#NoBots", "#noindex", "#NoSearch", "noindex", "nosearch please"}
var decoys = []string{"#nobotany", "#NoBotany fan", "noindexing enthusiast", "#nobots_allowed_here_lol"}

var hashtags = []string{
	"Fediverse", "Caturday", "Photography", "OpenSource", "Linux", "Gardening",
	"Cycling", "Books", "Music", "Coffee", "Rust", "Golang", "Birding", "Hiking",
	"Cooking", "MastoArt", "Science", "Climate", "Privacy", "SilentSunday",
}

var postTexts = map[string][]string{
	"en": {"Just finished reading a great book.", "The weather here is lovely today.", "Anyone else trying out a new editor?", "Working on a small side project this weekend.", "Coffee first, then everything else.", "Found a heron by the river this morning."},
	"de": {"Heute ist ein schöner Tag zum Radfahren.", "Hat jemand Erfahrung mit Sauerteig?", "Ich lese gerade ein spannendes Buch."},
	"fr": {"Quelle belle journée pour une promenade.", "Quelqu'un connaît un bon livre sur les oiseaux ?", "Le café est prêt."},
	"es": {"Hoy he cocinado una paella increíble.", "¿Alguien conoce una buena ruta de senderismo?"},
	"ja": {"今日はいい天気ですね。", "新しいカメラを買いました。"},
	"nl": {"Vandaag lekker gefietst langs de rivier.", "Wie heeft er tips voor een goede fietsroute?"},
	"pt": {"Alguém recomenda um bom livro sobre jardinagem?", "Que dia lindo para caminhar."},
	"":   {"Hello world!", "Testing, testing, 1 2 3."},
}

var langWeights = []int{40, 15, 10, 8, 7, 5, 5, 10}
var langs = []string{"en", "de", "fr", "es", "ja", "nl", "pt", ""}

// hostileHTML is what a sanitiser must neutralise.
var hostileHTML = []string{
	`<script>alert('xss')</script>`,
	`<p><img src="x" onerror="alert(1)"></p>`,
	`<p>Check <a href="javascript:alert(document.cookie)">this link</a></p>`,
	`<p onmouseover="alert(1)">hover me</p>`,
	`<iframe src="https://evil.example/frame"></iframe>`,
	`<p><a href="https://evil.example/" style="position:fixed;top:0">styled</a></p>`,
}

var contentWarnings = []string{"politics", "food", "eye contact", "long post", "mental health", "spoilers: The Expanse"}

// contentOf returns the instance's accounts and posts at the current
// epoch, generating them on first use. Generation is a pure function of
// the world seed, the options, the instance and the epoch, so lazy and
// eager generation agree.
func (w *world) contentOf(in *instance) *content {
	in = w.instances[in.idx] // a day view's content is the canonical instance's
	e := int(w.epoch.Load())
	lz := in.lazy
	if e == 0 {
		lz.contentOnce.Do(func() { lz.content = w.generateContent(in) })
		return lz.content
	}
	lz.epochMu.Lock()
	defer lz.epochMu.Unlock()
	if lz.epochContent == nil || lz.epochN != e {
		lz.epochContent, lz.epochN = w.contentAt(in, e), e
	}
	return lz.epochContent
}

// generateContent is the content at epoch 0.
func (w *world) generateContent(in *instance) *content {
	c := w.generateBase(in)
	c.buildPaths()
	return c
}

// contentAt is the content at epoch e: epoch 0 with the changes of epochs
// 1 to e applied in order.
func (w *world) contentAt(in *instance, e int) *content {
	c := w.contentState(in, e)
	c.buildPaths()
	return c
}

// contentState is contentAt without the path index (for the truth).
func (w *world) contentState(in *instance, e int) *content {
	c := w.generateBase(in)
	for j := 1; j <= e; j++ {
		w.applyEpoch(in, c, j)
		w.applyBoostEpoch(in, c, j)
	}
	return c
}

// generateBase generates the epoch-0 accounts and posts, without paths.
func (w *world) generateBase(in *instance) *content {
	c := &content{}
	p := in.prof()
	if in.kind == swPeerTube {
		return w.generatePeerTube(in) // accounts, channels, videos (peertube_content.go)
	}
	if !p.hasAccounts {
		return c
	}
	r := newRNG(w.seed, saltContent, uint64(in.idx))
	n, pool := drawAccounts(in, r)
	seq := 0
	// Options.PostScale multiplies the posts per account and the caps;
	// at 1 the draws are exactly those of the original world.
	scale := max(1, w.postScale)
	publicLeft, totalLeft := 20*scale, 40*scale
	for i := 0; i < n; i++ {
		a := w.makeAccount(in, r, pool[i], i)
		c.accounts = append(c.accounts, a)
		k := r.intn(7)
		if scale > 1 {
			k = k*scale + 2*(scale-1)
		}
		for ; k > 0 && totalLeft > 0; k-- {
			pst := w.makePost(in, r, a, c, seq)
			if pst.visibility == "public" {
				if publicLeft == 0 {
					pst.visibility = "unlisted"
				} else {
					publicLeft--
				}
			}
			seq++
			totalLeft--
			c.posts = append(c.posts, pst)
			a.posts = append(a.posts, pst)
		}
	}
	w.orderPosts(in, r, c, seq)
	if in.kind == swWordPress {
		wpLocalMentions(in, c) // blogs mention no remote accounts (wordpress.go)
	}
	w.decorate(in, c, c.posts)
	w.plantRelevance(in, c)
	w.generateBoosts(in, c)
	return c
}

// buildPaths indexes the content paths: live accounts and posts, and the
// gone ones (which answer 410, 404 or a Tombstone).
func (c *content) buildPaths() {
	c.paths = make(map[string]target, 2*len(c.accounts)+2*len(c.posts))
	for _, a := range c.goneAccounts {
		c.paths[a.actorPath] = target{kind: targetActor, account: a}
		c.paths[a.outboxPath] = target{kind: targetOutbox, account: a}
		if u := pathOf(a.profileURL); u != a.actorPath {
			c.paths[u] = target{kind: targetPage, account: a}
		}
	}
	for _, pst := range c.gonePosts {
		c.paths[pst.objectPath] = target{kind: targetObject, post: pst}
		if pst.urlPath != pst.objectPath {
			c.paths[pst.urlPath] = target{kind: targetPage, post: pst}
		}
	}
	for _, a := range c.accounts {
		c.paths[a.actorPath] = target{kind: targetActor, account: a}
		c.paths[a.outboxPath] = target{kind: targetOutbox, account: a}
		if u := pathOf(a.profileURL); u != a.actorPath {
			c.paths[u] = target{kind: targetPage, account: a}
		}
	}
	for _, pst := range c.posts {
		c.paths[pst.objectPath] = target{kind: targetObject, post: pst}
		if pst.urlPath != pst.objectPath {
			c.paths[pst.urlPath] = target{kind: targetPage, post: pst}
		}
	}
}

// drawAccounts draws how many accounts an instance has (1 to 12, at most
// its users) and the order of the usernames they take.
func drawAccounts(in *instance, r *rng) (int, []string) {
	n := 1
	if in.users > 1 {
		want := int64(1 + r.intn(4))
		if in.users >= 20 {
			want += int64(r.intn(9))
		}
		n = int(max(1, min(12, in.users, want)))
	}
	pool := append([]string(nil), usernames...)
	r.shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	return n, pool
}

// orderPosts puts the generated posts newest first, on the instance and on
// each account, and then gives them ids in that order; seq is the next
// post sequence number.
func (w *world) orderPosts(in *instance, r *rng, c *content, seq int) {
	sort.SliceStable(c.posts, func(i, j int) bool { return newer(c.posts[i], c.posts[j]) })
	for _, a := range c.accounts {
		sort.SliceStable(a.posts, func(i, j int) bool { return newer(a.posts[i], a.posts[j]) })
	}
	for _, pst := range c.posts {
		w.assignPostIDs(in, r, pst)
	}
	c.nextSeq = seq
}

func newer(a, b *post) bool {
	if !a.created.Equal(b.created) {
		return a.created.After(b.created)
	}
	return a.seq > b.seq
}

// pathOf returns the path (and query) of an absolute https URL.
func pathOf(u string) string {
	rest := strings.TrimPrefix(u, "https://")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}

func boolPtr(b bool) *bool { return &b }

func (w *world) makeAccount(in *instance, r *rng, username string, i int) *account {
	h := in.host
	a := &account{
		username: username,
		created:  w.now.Add(-time.Duration(r.between(30, 1500)) * 24 * time.Hour).Truncate(24 * time.Hour),
		bot:      username == "tootbot" || username == "news" || r.chance(0.05),
		locked:   r.chance(0.1),
	}
	a.followers, a.following = r.intn(2000), r.intn(500)
	rs := []rune(username)
	a.displayName = strings.ToUpper(string(rs[0])) + string(rs[1:]) + r.pick(displaySuffixes)
	if r.chance(0.03) {
		a.displayName = r.pick(hostileDisplayNames)
	}

	// Consent flags, as far as the program (and version) has them. The
	// scaled world of the posts work (PostScale > 1) is one where most
	// people who can opt in did: the same draws, other odds.
	pIndexable, pNoIndex, pBioOptOut := 0.5, 0.15, 0.12
	if w.postScale > 1 {
		pIndexable, pNoIndex, pBioOptOut = 0.95, 0.04, 0.05
	}
	switch in.kind {
	case swMastodon:
		switch {
		case versionAtLeast(in.version, 4, 3):
			a.indexable = boolPtr(r.chance(pIndexable))
		case versionAtLeast(in.version, 4, 2):
			// 4.2 publishes indexable on the actor only; the simulation keeps
			// it false so that the REST and ActivityPub views agree.
			a.indexable = boolPtr(false)
		}
		if versionAtLeast(in.version, 4, 0) {
			a.noindex = r.chance(pNoIndex)
		}
	case swGoToSocial, swWordPress:
		a.indexable = boolPtr(r.chance(pIndexable))
	}
	a.discoverable = r.chance(0.6)
	a.discoverableNull = !a.discoverable && in.kind == swMastodon && r.chance(0.3)

	// Bio, with opt-out words and decoys at word boundaries.
	text := html.EscapeString(html.UnescapeString(r.pick(bioTemplates)))
	switch x := r.float(); {
	case x < pBioOptOut:
		text = bioWithTag(text, r.pick(optOuts), r.chance(0.3), h)
	case x < pBioOptOut+0.08:
		text = bioWithTag(text, r.pick(decoys), false, h)
	}
	a.noteHTML = "<p>" + text + "</p>"

	for k := r.intn(4); k > 0; k-- {
		a.fields = append(a.fields, makeField(r, username))
	}
	switch x := r.float(); {
	case x < 0.04:
		opt := [][2]string{{"Crawlers", "#nobot"}, {"Search", "nosearch"}, {"noindex", "yes please"}}[r.intn(3)]
		a.fields = append(a.fields, field{opt[0], html.EscapeString(opt[1])})
	case x < 0.08:
		a.fields = append(a.fields, field{"Interests", "#nobotany, ferns"})
	}

	// Identifiers per program.
	switch in.kind {
	case swMastodon:
		a.id = strconv.FormatInt(snowflake(a.created, i), 10)
		a.actorPath, a.outboxPath = "/users/"+username, "/users/"+username+"/outbox"
		a.profileURL = "https://" + h + "/@" + username
	case swGoToSocial:
		a.id = ulid(a.created, r)
		a.actorPath, a.outboxPath = "/users/"+username, "/users/"+username+"/outbox"
		a.profileURL = "https://" + h + "/@" + username
	case swPleroma, swAkkoma:
		a.id = flake(r)
		a.actorPath, a.outboxPath = "/users/"+username, "/users/"+username+"/outbox"
		a.profileURL = "https://" + h + "/users/" + username
	case swMisskey, swSharkey, swFirefish, swFedired:
		a.id = aid(a.created, r)
		a.actorPath, a.outboxPath = "/users/"+a.id, "/users/"+a.id+"/outbox"
		a.profileURL = "https://" + h + "/@" + username
	case swPixelfed:
		a.id = strconv.FormatInt(snowflake(a.created, i), 10)
		a.actorPath, a.outboxPath = "/users/"+username, "/users/"+username+"/outbox"
		a.profileURL = "https://" + h + "/" + username
	case swFriendica:
		a.id = strconv.Itoa(2 + i)
		a.actorPath, a.outboxPath = "/profile/"+username, "/outbox/"+username
		a.profileURL = "https://" + h + "/profile/" + username
	case swSnac:
		a.id = username
		a.actorPath, a.outboxPath = "/"+username, "/"+username+"/outbox"
		a.profileURL = "https://" + h + "/" + username
	case swWriteFreely:
		a.id = username
		a.actorPath, a.outboxPath = "/api/collections/"+username, "/api/collections/"+username+"/outbox"
		a.profileURL = "https://" + h + "/" + username + "/"
	case swWordPress:
		a.id = strconv.Itoa(1 + i)
		a.actorPath, a.outboxPath = "/author/"+username+"/", "/wp-json/activitypub/1.0/actors/"+a.id+"/outbox"
		a.profileURL = "https://" + h + "/author/" + username + "/"
	}
	a.actorURI = "https://" + h + a.actorPath

	// The operator's opt-in word, in about half the bios of the programs
	// without an indexable flag; its own stream, so the other draws (and
	// the world without a word) do not change.
	if w.optInWord != "" && a.indexable == nil && newRNG(w.seed, saltOptIn, uint64(in.idx), uint64(i)).chance(0.5) {
		a.noteHTML = withOptIn(a.noteHTML, w.optInWord)
	}
	w.misskeyAccount(in, a, i)
	return a
}

// withOptIn appends the opt-in word to a bio's last paragraph.
func withOptIn(bio, word string) string {
	return strings.TrimSuffix(bio, "</p>") + " " + html.EscapeString(word) + "</p>"
}

// withoutOptIn removes what withOptIn added.
func withoutOptIn(bio, word string) string {
	return strings.Replace(bio, " "+html.EscapeString(word)+"</p>", "</p>", 1)
}

// bioWithTag adds word to the bio text, at the end after a space or at the
// start, rendering "#tags" the way Mastodon links them. Either way the word
// is preceded by a space or the start of the text and followed by the end
// of the text or a space, so any reasonable text extraction sees the same
// word boundaries.
func bioWithTag(text, word string, atStart bool, host string) string {
	rendered := ""
	for i, part := range strings.Fields(word) {
		if i > 0 {
			rendered += " "
		}
		if strings.HasPrefix(part, "#") {
			tag := part[1:]
			rendered += `<a href="https://` + host + `/tags/` + strings.ToLower(tag) + `" class="mention hashtag" rel="tag">#<span>` + tag + `</span></a>`
		} else {
			rendered += html.EscapeString(part)
		}
	}
	if atStart {
		return rendered + " " + text
	}
	return text + " " + rendered
}

func makeField(r *rng, username string) field {
	switch r.intn(4) {
	case 0:
		site := username + "." + r.pick(wordsA) + r.pick(wordsB) + ".example"
		return field{"Website", `<a href="https://` + site + `" target="_blank" rel="nofollow noopener me" translate="no"><span class="invisible">https://</span><span class="">` + site + `</span><span class="invisible"></span></a>`}
	case 1:
		return field{"Pronouns", r.pick([]string{"she/her", "he/him", "they/them", "any"})}
	case 2:
		return field{"Location", r.pick([]string{"Berlin", "Lagos", "Osaka", "Lima", "Utrecht", "the woods"})}
	default:
		return field{"Languages", r.pick([]string{"en, de", "fr", "ja, en", "es, pt"})}
	}
}

func (w *world) makePost(in *instance, r *rng, a *account, c *content, seq int) *post {
	pst := &post{
		seq:     seq,
		author:  a,
		created: w.now.Add(-time.Duration(60+r.intn(90*86400)) * time.Second),
		lang:    langs[r.weighted(langWeights)],
	}
	pst.visibility = []string{"public", "unlisted", "private", "direct"}[r.weighted([]int{55, 20, 15, 10})]
	pst.replies, pst.reblogs, pst.favourites = r.intn(5), r.intn(10), r.intn(30)

	var b strings.Builder
	b.WriteString("<p>")
	if pst.visibility == "direct" || r.chance(0.15) {
		m := w.mentionFor(in, r, a, c)
		pst.mentions = append(pst.mentions, m)
		b.WriteString(`<span class="h-card" translate="no"><a href="` + m.url + `" class="u-url mention">@<span>` + m.username + `</span></a></span> `)
	}
	b.WriteString(html.EscapeString(r.pick(postTexts[pst.lang])))
	seen := map[string]bool{}
	for k := r.intn(4); k > 0; k-- {
		tag := r.pick(hashtags)
		low := strings.ToLower(tag)
		if seen[low] {
			continue
		}
		seen[low] = true
		pst.tags = append(pst.tags, low)
		b.WriteString(` <a href="https://` + in.host + `/tags/` + low + `" class="mention hashtag" rel="tag">#<span>` + tag + `</span></a>`)
	}
	b.WriteString("</p>")
	if r.chance(0.08) {
		b.WriteString(r.pick(hostileHTML))
	}
	pst.contentHTML = strings.Clone(b.String()) // drop the builder's slack
	switch x := r.float(); {
	case x < 0.12:
		pst.summary, pst.sensitive = r.pick(contentWarnings), true
	case x < 0.15:
		pst.sensitive = true
	}
	return pst
}

// mentionFor picks a local or remote account to mention.
func (w *world) mentionFor(in *instance, r *rng, a *account, c *content) mention {
	if len(c.accounts) > 1 && r.chance(0.5) {
		o := c.accounts[r.intn(len(c.accounts))]
		if o != a {
			return mention{username: o.username, acct: o.username, url: o.profileURL, uri: o.actorURI}
		}
	}
	o := w.instances[r.intn(len(w.instances))]
	name := r.pick(usernames)
	return mention{username: name, acct: name + "@" + o.host, url: "https://" + o.host + "/@" + name, uri: "https://" + o.host + "/users/" + name}
}

// assignPostIDs sets ids, URIs and URLs once posts are in time order.
func (w *world) assignPostIDs(in *instance, r *rng, pst *post) {
	h, a := in.host, pst.author
	switch in.kind {
	case swMastodon:
		pst.id = strconv.FormatInt(snowflake(pst.created, pst.seq), 10)
		pst.objectPath = "/users/" + a.username + "/statuses/" + pst.id
		pst.urlPath = "/@" + a.username + "/" + pst.id
	case swGoToSocial:
		pst.id = ulid(pst.created, r)
		pst.objectPath = "/users/" + a.username + "/statuses/" + pst.id
		pst.urlPath = "/@" + a.username + "/statuses/" + pst.id
	case swPleroma, swAkkoma:
		pst.id = flake(r)
		pst.objectPath = "/objects/" + uuid(r)
		pst.urlPath = "/notice/" + pst.id
	case swMisskey, swSharkey, swFirefish, swFedired:
		pst.id = aid(pst.created, r)
		pst.objectPath = "/notes/" + pst.id
		pst.urlPath = pst.objectPath
	case swPixelfed:
		pst.id = strconv.FormatInt(snowflake(pst.created, pst.seq), 10)
		pst.objectPath = "/p/" + a.username + "/" + pst.id
		pst.urlPath = pst.objectPath
	case swFriendica:
		guid := uuid(r)
		pst.id = strconv.Itoa(1000 + pst.seq)
		pst.objectPath = "/objects/" + guid
		pst.urlPath = "/display/" + guid
	case swSnac:
		pst.id = fmt.Sprintf("%d.%06d", pst.created.Unix(), r.intn(1000000))
		pst.objectPath = "/" + a.username + "/p/" + pst.id
		pst.urlPath = pst.objectPath
	case swWriteFreely:
		pst.id = base36(r, 10)
		pst.objectPath = "/api/posts/" + pst.id
		pst.urlPath = "/" + a.username + "/post-" + pst.id
	case swPeerTube:
		w.fillVideo(in, pst) // id, paths and the video's fields (peertube_content.go)
	case swWordPress:
		pst.id = strconv.Itoa(100 + pst.seq)
		pst.objectPath = "/?p=" + pst.id
		pst.urlPath = pst.created.Format("/2006/01/02/") + "post-" + pst.id + "/"
	}
	pst.uri = "https://" + h + pst.objectPath
	pst.url = "https://" + h + pst.urlPath
}

// snowflake is Mastodon's id: milliseconds since the epoch, shifted, plus a
// sequence.
func snowflake(t time.Time, seq int) int64 {
	return t.UnixMilli()<<16 | int64(seq&0xffff)
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ulid is GoToSocial's id: 48 bits of milliseconds and 80 random bits in
// Crockford base32.
func ulid(t time.Time, r *rng) string {
	var b [26]byte
	ms := uint64(t.UnixMilli())
	for i := 9; i >= 0; i-- {
		b[i] = crockford[ms&31]
		ms >>= 5
	}
	for i := 10; i < 26; i++ {
		b[i] = crockford[r.intn(32)]
	}
	return string(b[:])
}

// aid is Misskey's id: base36 milliseconds since 2000 plus two random chars.
func aid(t time.Time, r *rng) string {
	ms := t.UnixMilli() - 946684800000
	s := strconv.FormatInt(ms, 36)
	for len(s) < 8 {
		s = "0" + s
	}
	return s + base36(r, 2)
}

func base36(r *rng, n int) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.intn(36)]
	}
	return string(b)
}

// flake is Pleroma's base62 FlakeId.
func flake(r *rng) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 18)
	for i := range b {
		b[i] = digits[r.intn(62)]
	}
	return string(b)
}

// uuid is a random (version 4) UUID.
func uuid(r *rng) string {
	a, b := r.next(), r.next()
	a = a&^(0xf<<12) | 0x4<<12
	b = b&^(0x3<<62) | 0x2<<62
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}
