package fedisim

import (
	"html"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// PeerTube content. A PeerTube instance's accounts are drawn the way every
// program's are (makeAccount: bios, opt-out words, decoys and, in a world
// with an opt-in word, that word in about half the bios), from their own
// stream (saltPeerTube), so the rest of the world is unchanged; each has
// one channel, "<name>_channel", as PeerTube creates at sign-up. PeerTube
// has no profile fields: the fields makeAccount draws (and the opt-out
// fields an epoch adds) are served as "Name: value" lines of the account's
// description, where rule 4 reads them the same way.
//
// Videos are posts (kind "video") whose id is the video's UUID and whose
// URI and URL are https://host/videos/watch/<uuid>, the ActivityPub id.
// Their visibility is PeerTube's privacy: public, unlisted, private or
// internal. Everything else about a video (title, Markdown description,
// category, licence, tags, counts, NSFW) is a pure function of the world
// seed, the instance and the post's sequence number (videoOf), so the
// endpoints recompute it instead of storing it.

// kindVideo is the Kind of a PeerTube video.
const kindVideo = "video"

// peerTubeDescriptionMax is where PeerTube truncates descriptions in video
// lists (lodash truncate: 247 characters and "...").
const peerTubeDescriptionMax = 250

// ptPrivacy are PeerTube's privacy settings in id order (1 = Public).
var ptPrivacy = []string{"public", "unlisted", "private", "internal"}

var ptPrivacyLabels = map[string]string{"public": "Public", "unlisted": "Unlisted", "private": "Private", "internal": "Internal"}

// ptCategories and ptLicences are PeerTube's built-in ids and labels.
var ptCategories = []struct {
	id    int
	label string
}{{1, "Music"}, {2, "Films"}, {4, "Art"}, {6, "Travels"}, {7, "Gaming"}, {11, "News & Politics"},
	{12, "How To"}, {13, "Education"}, {15, "Science & Technology"}, {16, "Animals"}, {18, "Food"}}

var ptLicences = []string{1: "Attribution", 2: "Attribution - Share Alike", 3: "Attribution - No Derivatives",
	4: "Attribution - Non Commercial", 5: "Attribution - Non Commercial - Share Alike",
	6: "Attribution - Non Commercial - No Derivatives", 7: "Public Domain Dedication"}

var ptLanguageLabels = map[string]string{"en": "English", "de": "German", "fr": "French", "es": "Spanish",
	"ja": "Japanese", "nl": "Dutch", "pt": "Portuguese"}

// Description material: short ones (some ending in "..." without being
// cut), paragraphs for long ones, and hostile Markdown a source must
// neutralise (PeerTube renders Markdown without raw HTML, but a crawler
// that pastes the description into a page would not).
var ptShortDescriptions = []string{
	"Recorded live at our local meetup.",
	"A short clip from last weekend's ride.",
	"More soon...",
	"Part two of the series. To be continued...",
	"No description yet.",
}

var ptParagraphs = []string{
	"In this video we walk through the whole process step by step, from the first sketch to the finished piece, and explain every tool we use along the way.",
	"Thanks to everyone who joined the stream! The **slides** and the _notes_ are on our wiki: https://wiki.example.org/talks/2026",
	"Chapters:\r\n00:00 Introduction\r\n02:15 Setting up\r\n10:40 The tricky part\r\n18:05 Questions",
	"Filmed on a small camera with natural light only. Music: [Free Music Archive](https://music.example.net/track/42) (CC BY 4.0).",
	"If you want to support the channel, you can do so on our donation page. Every contribution helps us keep the servers running and the videos free of ads.",
	"Source code for everything shown here: https://git.example.com/demo/project - issues and pull requests welcome.",
}

var ptHostileMarkdown = []string{
	`<script>alert('xss')</script>`,
	`[click me](javascript:alert(document.cookie))`,
	`<img src="x" onerror="alert(1)">`,
	`<a href="javascript:alert(1)" onclick="alert(2)">watch the full version</a>`,
	`<iframe src="https://evil.example/frame"></iframe>`,
}

var ptHostileTitles = []string{`<script>alert('xss')</script> Live stream`, `"><img src=x onerror=alert(1)> Vlog #3`}

// video is what PeerTube serves about one video beyond the post fields.
type video struct {
	numID           int
	uuid, shortUUID string
	name            string
	description     string // Markdown, full
	support         string
	category        int // index into ptCategories, -1 = none
	licence         int // 1..7, 0 = none
	lang            string
	duration        int
	views, viewers  int
	likes, dislikes int
	comments        int
	nsfw            bool
	tags            []string // as the uploader typed them
}

// generatePeerTube is the epoch-0 content of a PeerTube instance: accounts
// (with their channel) and videos of every privacy, newest first.
func (w *world) generatePeerTube(in *instance) *content {
	c := &content{}
	r := newRNG(w.seed, saltPeerTube, uint64(in.idx))
	n, pool := drawAccounts(in, r)
	scale := max(1, w.postScale)
	seq := 0
	for i := 0; i < n; i++ {
		a := w.makeAccount(in, r, pool[i], i)
		peerTubeAccount(in, a, i)
		c.accounts = append(c.accounts, a)
		for k := r.intn(6) * scale; k > 0; k-- {
			pst := &post{
				seq:        seq,
				author:     a,
				created:    w.now.Add(-time.Duration(3600+r.intn(90*86400)) * time.Second),
				visibility: ptPrivacy[r.weighted([]int{60, 15, 15, 10})],
			}
			seq++
			c.posts = append(c.posts, pst)
			a.posts = append(a.posts, pst)
		}
	}
	w.orderPosts(in, r, c, seq)
	return c
}

// peerTubeAccount sets PeerTube's identifiers: the actor (and the
// account's web page) is /accounts/<name>.
func peerTubeAccount(in *instance, a *account, i int) {
	a.id = strconv.Itoa(3 + i) // 1 is root, 2 the instance actor
	a.actorPath, a.outboxPath = "/accounts/"+a.username, "/accounts/"+a.username+"/outbox"
	a.actorURI = "https://" + in.host + a.actorPath
	a.profileURL = a.actorURI
}

// peerTubeDescription is the account's description as PeerTube serves it:
// plain text, the bio, then one "Name: value" line per profile field.
func peerTubeDescription(a *account) string {
	var b strings.Builder
	b.WriteString(plainBio(a))
	for _, f := range a.fields {
		b.WriteString("\n" + htmlText(f.name) + ": " + htmlText(f.value))
	}
	return b.String()
}

// fillVideo gives a post its video: id, paths, and the post fields the
// truth reports (language, NSFW as sensitive, likes as favourites,
// comments as replies, tags, kind). Epoch posts arrive with Mastodon's
// visibilities: direct becomes internal.
func (w *world) fillVideo(in *instance, pst *post) {
	if pst.visibility == "direct" {
		pst.visibility = "internal"
	}
	v := w.videoOf(in, pst)
	pst.id = v.uuid
	pst.objectPath = "/videos/watch/" + v.uuid
	pst.urlPath = pst.objectPath
	pst.lang = v.lang
	pst.contentHTML = "<p>" + html.EscapeString(v.name) + "</p><p>" + html.EscapeString(v.description) + "</p>"
	pst.summary, pst.sensitive = "", v.nsfw
	pst.tags = nil
	for _, t := range v.tags {
		pst.tags = append(pst.tags, strings.ToLower(t))
	}
	pst.mentions = nil
	pst.replies, pst.reblogs, pst.favourites = v.comments, 0, v.likes
	if !versionAtLeast(in.version, 7) {
		pst.replies = 0 // the comments count is served from 7.0 on
	}
	pst.kind = kindVideo
	pst.media, pst.poll, pst.inReplyTo = nil, nil, nil
}

// videoOf draws the video of a post: a pure function of the seed, the
// instance and the post's sequence number.
func (w *world) videoOf(in *instance, pst *post) video {
	r := newRNG(w.seed, saltPeerTube, uint64(in.idx), uint64(pst.seq), 1)
	v := video{numID: 100 + pst.seq}
	v.uuid = uuid(r)
	v.shortUUID = shortUUID(v.uuid)
	v.name = videoTitles[r.intn(len(videoTitles))]
	if k := r.intn(4); k > 0 {
		v.name += " (part " + strconv.Itoa(k) + ")"
	}
	v.lang = langs[r.weighted(langWeights)]
	v.category = r.intn(len(ptCategories)+1) - 1
	v.licence = r.intn(len(ptLicences))
	v.duration = 20 + r.intn(5400)
	v.views, v.viewers = r.intn(80000), r.intn(3)
	v.likes, v.dislikes, v.comments = r.intn(300), r.intn(10), r.intn(40)
	v.nsfw = r.chance(0.08)
	seen := map[string]bool{}
	for k := r.intn(6); k > 0; k-- {
		t := r.pick(hashtags)
		if !seen[t] {
			seen[t] = true
			v.tags = append(v.tags, t)
		}
	}
	if r.chance(0.3) {
		v.support = "Support us on https://donate.example.org/" + pst.author.username
	}
	hostileTitle, hostile := r.chance(0.04), r.pick(ptHostileMarkdown)
	if hostileTitle {
		v.name = r.pick(ptHostileTitles)
	}
	switch r.weighted([]int{30, 40, 10, 10, 10}) {
	case 0:
		v.description = r.pick(ptShortDescriptions)
	case 1:
		v.description = ptLongDescription(r, "")
	case 2:
		// No description: served as null.
	case 3:
		v.description = ptLongDescription(r, hostile)
	default:
		v.description = "Watch this! " + hostile
	}
	return v
}

// ptLongDescription joins paragraphs until the description is longer than
// what lists show; extra, if any, goes into the first paragraph, so the
// truncated description carries it too.
func ptLongDescription(r *rng, extra string) string {
	start := r.intn(len(ptParagraphs))
	var parts []string
	if extra != "" {
		parts = append(parts, "Before you watch: "+extra)
	}
	for k := 0; k < len(ptParagraphs) && utf8.RuneCountInString(strings.Join(parts, "\r\n\r\n")) <= peerTubeDescriptionMax+40; k++ {
		parts = append(parts, ptParagraphs[(start+k)%len(ptParagraphs)])
	}
	return strings.Join(parts, "\r\n\r\n")
}

// truncatedDescription is the description as video lists serve it: cut to
// 250 characters, the last three of them "...", when longer.
func truncatedDescription(d string) string {
	if utf8.RuneCountInString(d) <= peerTubeDescriptionMax {
		return d
	}
	rs := []rune(d)
	return string(rs[:peerTubeDescriptionMax-3]) + "..."
}

// shortUUID is PeerTube's short UUID: the UUID's 128 bits in base 58
// (the Flickr alphabet, as the short-uuid package writes them).
func shortUUID(u string) string {
	const alphabet = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
	n, ok := new(big.Int).SetString(strings.ReplaceAll(u, "-", ""), 16)
	if !ok {
		return ""
	}
	var out []byte
	base, mod := big.NewInt(58), new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, base, mod)
		out = append(out, alphabet[mod.Int64()])
	}
	for len(out) < 22 {
		out = append(out, alphabet[0])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

// peerTubePostTruth sets what the truth of a video differs in from the
// generic post: its links are those PeerTube shows in its Markdown
// description (markdownItLinks; the title is plain text).
func peerTubePostTruth(in *instance, p *PostTruth) {
	if in.kind != swPeerTube {
		return
	}
	_, desc, _ := strings.Cut(p.ContentHTML, "</p><p>")
	p.Links = sortedLinks(markdownItLinks(html.UnescapeString(strings.TrimSuffix(desc, "</p>"))))
}
