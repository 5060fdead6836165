package crawler

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
)

// The links a post makes to other hosts, as the sources read them without
// extra requests: the host of the post answered (model.Post.ReplyHost)
// and the public boosts of consenting authors (model.Boost). Mentions are
// the posts' Mentions. Boosts are read where a source lists them anyway:
// ActivityPub outboxes (Announce) and Misskey's users/notes (plain
// renotes). The Mastodon API source asks for statuses with
// exclude_reblogs=true and reads no boosts: a reblog there is a whole
// status of someone else (content, account, counts) to skip, and the
// author's statuses page would fill with them.

// apSkipBoost counts an Announce that is not a boost fedilens keeps: no
// id on the host, another actor, no published time or no boosted object.
const apSkipBoost = apSkipAnnounce

// linkHostOf returns the normalised host of an absolute http(s) URL, ""
// when it has none fedilens would store as a host (IP literals, single
// labels, ports other than the scheme's default, junk).
func linkHostOf(u string) string {
	if u == "" || len(u) > 2000 {
		return ""
	}
	h, err := hostname.FromURL(u)
	if err != nil || strings.Contains(h, ":") {
		return ""
	}
	return h
}

// apToBoost converts an outbox's Announce into a boost of the author: its
// id on the host, the author as its actor, a published time, an object
// (the boosted post, by URI or embedded with an id) on a valid host, and
// the public in "to" (a followers-only boost is not public). It returns
// the boost, or the reason to skip it.
func (hc *hostCrawl) apToBoost(act apDoc, actor apActorRef, at time.Time) (model.Boost, string) {
	id := act.str("id")
	if _, ok := onHost(id, hc.host); !ok || at.IsZero() {
		return model.Boost{}, apSkipBoost
	}
	byAuthor := false
	for _, a := range act.ids("actor") {
		byAuthor = byAuthor || a == actor.ID
	}
	target := linkHostOf(apID(act["object"]))
	if !byAuthor || target == "" {
		return model.Boost{}, apSkipBoost
	}
	if !addressedPublic(act.ids("to")) {
		return model.Boost{}, string(consent.NotPublic)
	}
	return model.Boost{URI: id, Host: hc.host, Author: actor.Acct, Created: at, BoostedHost: target,
		Source: model.SourceActivityPub}, ""
}

// misskeyRenote is the part of a renote's embedded note the boost needs.
type misskeyRenote struct {
	ID   string  `json:"id"`
	URI  *string `json:"uri"`
	User struct {
		Host *string `json:"host"`
	} `json:"user"`
}

// isPlainRenote reports a renote without content of its own (a boost);
// a renote with text, files or a poll is a quote, the author's own post.
func (n misskeyNote) isPlainRenote() bool {
	return n.RenoteID != nil && (n.Text == nil || strings.TrimSpace(*n.Text) == "") && len(n.Files) == 0 && isNull(n.Poll)
}

// misskeyBoost converts a plain renote of author into a boost: the
// renoted note's author host (null: this host), or else its URI's host,
// read from the embedded note. A renote whose note is not embedded, or
// names no valid host, is skipped.
func (hc *hostCrawl) misskeyBoost(n misskeyNote, author string) (model.Boost, bool) {
	if !validMisskeyID(n.ID) || n.CreatedAt.IsZero() || !validMisskeyID(*n.RenoteID) || isNull(n.Renote) {
		return model.Boost{}, false
	}
	var r misskeyRenote
	if decodeJSON(n.Renote, &r) != nil || r.ID != *n.RenoteID {
		return model.Boost{}, false
	}
	target := hc.host
	switch {
	case r.User.Host != nil:
		h, err := hostname.Normalize(*r.User.Host)
		if err != nil || strings.Contains(h, ":") {
			return model.Boost{}, false
		}
		target = h
	case r.URI != nil && *r.URI != "":
		if target = linkHostOf(*r.URI); target == "" {
			return model.Boost{}, false
		}
	}
	uri := hc.url("/notes/" + n.ID)
	if n.URI != nil && *n.URI != "" {
		if !hc.onHost(*n.URI) {
			return model.Boost{}, false
		}
		uri = *n.URI
	}
	return model.Boost{URI: uri, Host: hc.host, Author: author, Created: n.CreatedAt.UTC(), BoostedHost: target,
		Source: model.SourceMisskey}, true
}

// misskeyReplyHost is the host of the note a Misskey note answers, from
// the embedded parent: its author's host (null: this host), or its URI's
// host; "" when the parent is not embedded (the API leaves out what the
// caller may not see), so unknown.
func (hc *hostCrawl) misskeyReplyHost(reply json.RawMessage, replyID string) string {
	var r misskeyRenote
	if isNull(reply) || decodeJSON(reply, &r) != nil || r.ID != replyID {
		return ""
	}
	switch {
	case r.User.Host != nil:
		h, err := hostname.Normalize(*r.User.Host)
		if err != nil || strings.Contains(h, ":") {
			return ""
		}
		return h
	case r.URI != nil && *r.URI != "":
		return linkHostOf(*r.URI)
	}
	return hc.host
}

// replyHost is the host of the status s answers. The API names
// the parent by its local id, even when it is remote; the answered
// account tells the host where it is the author herself or one of the
// mentioned accounts (Mastodon mentions the account answered unless the
// author removed it). Otherwise it is unknown ("").
func (s mastodonStatus) replyHost(host string) string {
	acct := string(s.ReplyToAcct)
	if s.InReplyToID == nil || *s.InReplyToID == "" || acct == "" {
		return ""
	}
	if acct == s.Account.ID {
		return host
	}
	for _, m := range s.Mentions {
		if string(m.ID) != acct {
			continue
		}
		a := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(m.Acct), "@"))
		_, domain, remote := strings.Cut(a, "@")
		if !remote {
			return host
		}
		h, err := hostname.Normalize(domain)
		if err != nil || strings.Contains(h, ":") {
			return ""
		}
		return h
	}
	return ""
}
