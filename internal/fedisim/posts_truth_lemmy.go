package fedisim

import (
	"sort"
	"strconv"

	"github.com/fedilens/fedilens/internal/model"
)

// Paths the Lemmy rule reads; robots.txt must allow all three.
const (
	LemmyPostListPath    = "/api/v3/post/list"
	LemmyCommentListPath = "/api/v3/comment/list"
	LemmyUserPath        = "/api/v3/user"
)

// lemmyFamily is rule 5 for Lemmy: flagless (the opt-in word only); each
// stored instance whose robots.txt allows the post and comment listings
// and the person endpoint; the authors are the creators of the local
// posts and comments listed (post/list and comment/list, Local, every
// page) at this epoch or an earlier one; for each author who still exists
// and consents (not banned, rule 4 on the Markdown bio), every live post
// and comment.
var lemmyFamily = &postFamily{
	flagless: true,
	access: func(it *InstanceTruth) string {
		if !it.Allows(LemmyPostListPath) || !it.Allows(LemmyCommentListPath) || !it.Allows(LemmyUserPath) {
			return model.PostAccessDisallowed
		}
		return model.PostAccessOK
	},
	authors: func(it *InstanceTruth, into map[string]bool) {
		for _, a := range it.LemmyPersons {
			if len(a.Posts) > 0 {
				into[a.Acct] = true
			}
		}
	},
	keep: func(*PostTruth) bool { return true },
}

var _ = registerPostFamily(lemmyFamily, "lemmy")

// postAccounts returns the accounts rule 5 reads posts of: the accounts,
// and Lemmy's persons.
func (it *InstanceTruth) postAccounts() []AccountTruth {
	if len(it.LemmyPersons) == 0 {
		return it.Accounts
	}
	return append(append([]AccountTruth(nil), it.Accounts...), it.LemmyPersons...)
}

// lemmyPersonsTruth is InstanceTruth.LemmyPersons at epoch: the live
// persons with their live posts (Kind "page") and comments (Kind "note"),
// newest first.
func (w *world) lemmyPersonsTruth(in *instance, epoch int) []AccountTruth {
	if in.kind != swLemmy {
		return nil
	}
	c := w.lemmyContentAt(in, epoch)
	var out []AccountTruth
	for _, p := range c.persons {
		if p.gone {
			continue
		}
		acct := p.name + "@" + in.host
		at := AccountTruth{
			ID: strconv.Itoa(p.id), Username: p.name, Acct: acct,
			URI: "https://" + in.host + "/u/" + p.name, DisplayName: p.displayName,
			Bot: p.bot, Bio: p.bio, Consents: w.lemmyConsents(p),
		}
		for _, pst := range c.livePosts() {
			if pst.creator != p {
				continue
			}
			uri := "https://" + in.host + "/post/" + strconv.Itoa(pst.id)
			links := markdownItLinks(pst.body)
			if pst.url != "" {
				links = append(links, pst.url)
			}
			at.Posts = append(at.Posts, PostTruth{
				ID: strconv.Itoa(pst.id), URI: uri, URL: uri, Author: acct, Visibility: "public",
				Language: lemmyLangCode(pst.lang), ContentHTML: pst.body, Created: pst.created,
				Sensitive: pst.nsfw, Kind: "page", Replies: c.commentCount(pst), Favourites: pst.up,
				Links: sortedLinks(links),
			})
		}
		for _, cm := range c.comments {
			if cm.creator != p || cm.gone() {
				continue
			}
			uri := "https://" + in.host + "/comment/" + strconv.Itoa(cm.id)
			reply := "https://" + in.host + "/post/" + strconv.Itoa(cm.post.id)
			if cm.parent != nil {
				reply = "https://" + in.host + "/comment/" + strconv.Itoa(cm.parent.id)
			}
			at.Posts = append(at.Posts, PostTruth{
				ID: strconv.Itoa(cm.id), URI: uri, URL: uri, Author: acct, Visibility: "public",
				Language: lemmyLangCode(cm.lang), ContentHTML: cm.content, Created: cm.created,
				Sensitive: cm.post.nsfw, Kind: "note", InReplyTo: reply, Replies: c.childCount(cm),
				Favourites: cm.up, Links: sortedLinks(markdownItLinks(cm.content)),
			})
		}
		sort.SliceStable(at.Posts, func(i, j int) bool { return at.Posts[i].Created.After(at.Posts[j].Created) })
		out = append(out, at)
	}
	return out
}

// sortedLinks de-duplicates and sorts links (nil for none).
func sortedLinks(links []string) []string {
	if len(links) == 0 {
		return nil
	}
	sort.Strings(links)
	out := links[:0]
	for i, l := range links {
		if i == 0 || l != links[i-1] {
			out = append(out, l)
		}
	}
	return out
}
