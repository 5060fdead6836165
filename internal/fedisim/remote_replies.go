package fedisim

import (
	"strconv"
	"strings"
	"time"
)

// remotePost is a post of another instance that a local post answers
// (Options.RemoteReplies). The simulation does not serve it; the
// answering post names it the way its program does: the parent's URI in
// ActivityPub inReplyTo, the server's ids of its copy and of its author
// in the Mastodon API (in_reply_to_id, in_reply_to_account_id, the author
// among the mentions), the copy's id and the embedded note with its
// author's host and its uri in Misskey's API.
type remotePost struct {
	// id is the answering server's id of its copy of the post, accountID
	// of its copy of the author.
	id, accountID string
	uri, host     string
	username      string
	created       time.Time
}

// remoteReply makes pst answer a remote post, with Options.RemoteReplies
// and from its own stream (instance, seq), so that nothing else shifts:
// on the Mastodon API family a third of the posts that mention a remote
// account answer a post of that account (its mention carries the id
// in_reply_to_account_id names, as Mastodon's replies mention the account
// answered); on WordPress and the Misskey family a tenth of the posts
// answer a post of a random other instance. The local parent, if any,
// gives way.
func (w *world) remoteReply(in *instance, pst *post) {
	if !w.remoteReplies {
		return
	}
	r := newRNG(w.seed, saltRemoteReply, uint64(in.idx), uint64(pst.seq))
	p := in.prof()
	var rp *remotePost
	switch {
	case p.mastoAPI:
		var m *mention
		for i := range pst.mentions {
			if _, h, ok := strings.Cut(pst.mentions[i].acct, "@"); ok && h != in.host {
				m = &pst.mentions[i]
				break
			}
		}
		if m == nil || !r.chance(1.0/3) {
			return
		}
		_, host, _ := strings.Cut(m.acct, "@")
		rp = &remotePost{host: host, username: m.username, accountID: strconv.FormatUint(hashString(m.uri)>>12, 10)}
	case in.kind == swWordPress || p.misskeyAPI:
		o := w.instances[r.intn(len(w.instances))]
		if !r.chance(0.1) || o == in {
			return
		}
		rp = &remotePost{host: o.host, username: r.pick(usernames)}
		rp.accountID = strconv.FormatUint(hashString("https://"+o.host+"/users/"+rp.username)>>12, 36)
	default:
		return
	}
	rp.created = pst.created.Add(-time.Duration(1+r.intn(86400)) * time.Second).UTC()
	n := r.next() >> 24
	rp.uri = "https://" + rp.host + "/users/" + rp.username + "/statuses/" + strconv.FormatUint(n, 10)
	if p.misskeyAPI {
		rp.id = aid(rp.created, r)
	} else {
		rp.id = strconv.FormatInt(snowflake(rp.created, int(n&0xffff)), 10)
	}
	pst.remoteParent, pst.inReplyTo = rp, nil
}

// misskeyRemoteNote packs the server's copy of a remote note the way
// Misskey embeds it: its author with its host, its uri and url.
func (s *Sim) misskeyRemoteNote(in *instance, rp *remotePost) obj {
	return misskeyForeignNote(in, rp.id, rp.created, rp.accountID, rp.username, rp.host, rp.uri)
}

// misskeyForeignNote packs a note of another account that a note embeds
// (a renoted or answered note): host "" is a local author (host null, no
// uri or url), otherwise the author's instance, with the note's uri.
func misskeyForeignNote(in *instance, id string, created time.Time, userID, username, host, uri string) obj {
	var h any
	if host != "" {
		h = host
	}
	o := obj{
		{"id", id}, {"createdAt", created.UTC().Format(timeMillis)}, {"userId", userID},
		{"user", obj{{"id", userID}, {"name", nil}, {"username", username}, {"host", h},
			{"avatarUrl", "https://" + in.host + "/identicon/" + userID}, {"avatarBlurhash", nil},
			{"isBot", false}, {"isCat", false}, {"emojis", obj{}}, {"onlineStatus", "unknown"}, {"badgeRoles", arr{}}}},
		{"text", "A post worth sharing."}, {"cw", nil}, {"visibility", "public"}, {"localOnly", false},
		{"reactionAcceptance", nil}, {"renoteCount", 0}, {"repliesCount", 0}, {"reactionCount", 0},
		{"reactions", obj{}}, {"reactionEmojis", obj{}}, {"fileIds", arr{}}, {"files", arr{}},
		{"replyId", nil}, {"renoteId", nil},
	}
	if host != "" {
		o = append(o, kv{"uri", uri}, kv{"url", uri})
	}
	return o
}
