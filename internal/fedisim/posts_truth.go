package fedisim

import (
	"sort"
	"time"

	"github.com/fedilens/fedilens/internal/model"
)

// Paths a crawler following rule 5 reads; robots.txt must allow them.
const (
	DirectoryPath      = "/api/v1/directory"
	AccountsPathPrefix = "/api/v1/accounts/"
	TimelinePathPrefix = "/api/v1/timelines/public"
)

// postFamily is rule 5 for one family of server programs: which stored
// instances a crawler reads posts from, who the authors are, and which of
// their posts it keeps. Each source of the crawler has one.
type postFamily struct {
	// flagless: the family's accounts carry no indexable flag, so they
	// consent only through the opt-in word (Options.OptInWord); without
	// one, a crawler reads nothing there (PostAccessNoOptIn).
	flagless bool
	// access is the PostAccess verdict of a stored, public instance
	// (after the flagless check): ok, disallowed, signature_required.
	access func(it *InstanceTruth) string
	// authors adds the family's author set of one readable instance at
	// one epoch.
	authors func(it *InstanceTruth, into map[string]bool)
	// keep reports whether rule 5 keeps a post of a consenting author
	// (nil: visibility public).
	keep func(p *PostTruth) bool
}

// postFamilies maps NodeInfo software names (lower case) to their rule.
var postFamilies = map[string]*postFamily{}

func registerPostFamily(f *postFamily, software ...string) bool {
	for _, s := range software {
		postFamilies[s] = f
	}
	return true
}

// mastoFamily is the Mastodon API family (the programs that serve
// /api/v1/accounts/:id/statuses).
var mastoFamily = &postFamily{
	access: func(it *InstanceTruth) string {
		switch {
		case !it.Allows(DirectoryPath) || !it.Allows(AccountsPathPrefix):
			return model.PostAccessDisallowed
		case it.APIAuthRequired:
			return model.PostAccessSignatureRequired
		}
		return model.PostAccessOK
	},
	authors: postAuthors,
}

var _ = registerPostFamily(mastoFamily, "mastodon", "pleroma", "akkoma", "gotosocial", "pixelfed", "friendica")

// expectedPostAccess is InstanceTruth.PostAccess; optIn says whether the
// world has an opt-in word.
func expectedPostAccess(it *InstanceTruth, optIn bool) string {
	f := postFamilies[it.Software]
	switch {
	case it.Private:
		return model.PostAccessPrivate
	case f == nil:
		return model.PostAccessUnsupported
	case f.flagless && !optIn:
		return model.PostAccessNoOptIn
	}
	return f.access(it)
}

// PostsReadable reports whether rule 5 reads the posts of a stored
// instance: PostAccess is "ok".
func (it *InstanceTruth) PostsReadable() bool { return it.PostAccess == model.PostAccessOK }

// readsTimeline reports whether rule 5 reads the local public timeline
// of the instance for authors: Mastodon's where its timelines_access
// makes it public; Pleroma's, Akkoma's, Pixelfed's and Friendica's
// always (GoToSocial's needs a token).
func (it *InstanceTruth) readsTimeline() bool {
	served := it.PublicTimeline
	switch it.Software {
	case "pleroma", "akkoma", "pixelfed", "friendica":
		served = true
	}
	return served && it.Allows(TimelinePathPrefix)
}

// directoryServed reports whether the program serves /api/v1/directory.
func directoryServed(software string) bool {
	return software == "mastodon" || software == "pleroma" || software == "akkoma"
}

// postAuthors is the Mastodon family's author set of one readable
// instance at one epoch: the accounts in the local directory plus the
// authors of the local public timeline.
func postAuthors(it *InstanceTruth, into map[string]bool) {
	for _, a := range it.Accounts {
		if a.Discoverable && directoryServed(it.Software) {
			into[a.Acct] = true
		}
		if it.readsTimeline() {
			for _, p := range a.Posts {
				if p.Visibility == "public" {
					into[a.Acct] = true
					break
				}
			}
		}
	}
}

// Posts is the exact set of posts a correct crawler stores (rule 5 of the
// package doc) after crawling from seeds once at every epoch up to this
// truth's: for each instance of the census that PostsReadable, the authors
// are the accounts of the local directory plus the authors of the local
// public timeline at this epoch or any earlier one (a crawler rechecks the
// authors it knows); for each of them still present and consenting now,
// every live visibility=public post created at or after notBefore (zero:
// no retention limit). Posts are grouped by host in host order, newest
// first within a host.
func (t *Truth) Posts(seeds []string, notBefore time.Time) []PostTruth {
	var out []PostTruth
	for _, it := range t.Census(seeds) {
		out = append(out, t.instancePosts(&it, notBefore)...)
	}
	return out
}

// instancePosts is rule 5 for one stored instance of this truth's epoch:
// nothing unless PostsReadable; else the live public posts, created at or
// after notBefore, of the consenting authors found at this epoch or an
// earlier one, newest first.
func (t *Truth) instancePosts(it *InstanceTruth, notBefore time.Time) []PostTruth {
	if !it.PostsReadable() {
		return nil
	}
	f := postFamilies[it.Software]
	authors := map[string]bool{}
	for e := t; e != nil; e = e.prev {
		old, ok := e.Instance(it.Host)
		if ok && old.PostsReadable() {
			f.authors(&old, authors)
		}
	}
	var posts []PostTruth
	for _, a := range it.postAccounts() {
		if !a.Consents || !authors[a.Acct] {
			continue
		}
		for _, p := range a.Posts {
			kept := p.Visibility == "public"
			if f.keep != nil {
				kept = f.keep(&p)
			}
			if kept && !p.Created.Before(notBefore) {
				posts = append(posts, p)
			}
		}
	}
	sort.SliceStable(posts, func(i, j int) bool {
		if !posts[i].Created.Equal(posts[j].Created) {
			return posts[i].Created.After(posts[j].Created)
		}
		return idGreater(posts[i].ID, posts[j].ID)
	})
	return posts
}

func replyURI(pst *post) string {
	switch {
	case pst.inReplyTo != nil:
		return pst.inReplyTo.uri
	case pst.remoteParent != nil:
		return pst.remoteParent.uri
	}
	return ""
}
