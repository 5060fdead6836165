package fedisim

import (
	"html"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// media is one media attachment; description is its alt text (plain
// text, "" when the author wrote none).
type media struct {
	id, kind, url, description string
}

// poll is a post's poll (a Question in ActivityPub).
type poll struct {
	options  []string
	votes    []int
	multiple bool
	expires  time.Time
}

// Post kinds, as model.Post.Kind spells them.
const (
	kindNote     = "note"
	kindArticle  = "article"
	kindQuestion = "question"
)

var altTexts = []string{
	"A heron standing in shallow water at dawn.",
	"Screenshot of a terminal showing a passing test suite.",
	"Sourdough loaf on a cooling rack, with an open crumb.",
	"Zwei Fahrräder an einem Geländer am Fluss.",
	"Un chat qui dort sur une pile de livres.",
	`Alt text with <script>alert("alt")</script> markup & "quotes".`,
	"Chart of monthly rainfall, highest in October.",
}

var pollOptions = []string{"Yes", "No", "Tea", "Coffee", "Both", "Neither", "Vim", "Emacs", "Later"}

// decorate gives posts their extras: the object type per program, media
// attachments with alt text on about a fifth, a reply to an older local
// public or unlisted post on about 15%, and a poll on about 3% of the
// Mastodon-API and Misskey posts without media. Every post draws from
// its own stream (instance, seq), so the extras never shift the draws of
// the original world and do not depend on the order of generation.
// c.posts must hold the candidates for replies, newest first.
func (w *world) decorate(in *instance, c *content, posts []*post) {
	for _, pst := range posts {
		if in.kind == swPeerTube {
			continue // videos carry no media, replies or polls (fillVideo sets the kind)
		}
		r := newRNG(w.seed, saltExtras, uint64(in.idx), uint64(pst.seq))
		pst.kind = kindNote
		if in.kind == swWriteFreely {
			pst.kind = kindArticle
		}
		if r.chance(0.2) {
			for k, n := 0, 1+r.intn(2); k < n; k++ {
				m := media{
					id:   strconv.FormatUint(r.next()>>16, 10),
					kind: "image",
					url:  "https://" + in.host + "/system/media_attachments/files/" + pst.id + "/" + strconv.Itoa(k) + ".png",
				}
				if r.chance(0.7) {
					m.description = r.pick(altTexts)
				}
				pst.media = append(pst.media, m)
			}
		}
		reply, target := r.chance(0.15), r.next()
		if reply {
			// Candidates: the posts older than pst (c.posts is newest first).
			k := sort.Search(len(c.posts), func(i int) bool { return newer(pst, c.posts[i]) })
			if rest := c.posts[k:]; len(rest) > 0 {
				if t := rest[target%uint64(len(rest))]; t.visibility == "public" || t.visibility == "unlisted" {
					pst.inReplyTo = t
				}
			}
		}
		w.remoteReply(in, pst) // Options.RemoteReplies, its own stream
		hasPoll := in.prof().mastoAPI || in.prof().misskeyAPI
		if r.chance(0.03) && len(pst.media) == 0 && hasPoll && in.kind != swWriteFreely {
			p := &poll{multiple: r.chance(0.3), expires: pst.created.Add(time.Duration(1+r.intn(72)) * time.Hour)}
			start := r.intn(len(pollOptions) - 3)
			for k, n := 0, 2+r.intn(3); k < n && start+k < len(pollOptions); k++ {
				p.options = append(p.options, pollOptions[start+k])
				p.votes = append(p.votes, r.intn(20))
			}
			pst.poll = p
			pst.kind = kindQuestion
		}
	}
}

// altText joins the media descriptions with "\n" (rule 5's AltText).
func altText(pst *post) string {
	var parts []string
	for _, m := range pst.media {
		if m.description != "" {
			parts = append(parts, m.description)
		}
	}
	return strings.Join(parts, "\n")
}

// linksIn returns the http(s) hrefs of the anchors in content that are not
// mentions or hashtags (class "mention" or "hashtag"), sorted and without
// duplicates, at most 20, the way model.Post.Links holds them. The
// simulation writes its HTML itself, so a plain scan of the start tags
// suffices.
func linksIn(content string) []string {
	var out []string
	for rest := content; ; {
		i := strings.Index(rest, "<a ")
		if i < 0 {
			break
		}
		rest = rest[i+3:]
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			break
		}
		tag := rest[:end]
		rest = rest[end:]
		href, ok := attr(tag, "href")
		if !ok {
			continue
		}
		href = html.UnescapeString(href)
		if class, _ := attr(tag, "class"); slices.ContainsFunc(strings.Fields(class), func(f string) bool {
			return f == "mention" || f == "hashtag"
		}) {
			continue
		}
		low := strings.ToLower(href)
		if (strings.HasPrefix(low, "https://") || strings.HasPrefix(low, "http://")) && !slices.Contains(out, href) {
			out = append(out, href)
		}
	}
	sort.Strings(out)
	if len(out) > 20 {
		out = out[:20]
	}
	return out
}

// attr returns the double-quoted value of attribute name in a start tag.
func attr(tag, name string) (string, bool) {
	for rest := tag; ; {
		i := strings.Index(rest, name+`="`)
		if i < 0 {
			return "", false
		}
		if i > 0 && rest[i-1] != ' ' {
			rest = rest[i+len(name):]
			continue
		}
		v := rest[i+len(name)+2:]
		j := strings.IndexByte(v, '"')
		if j < 0 {
			return "", false
		}
		return v[:j], true
	}
}
