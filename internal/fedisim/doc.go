// Package fedisim is a simulated fediverse for tests and demos: one HTTP(S)
// server that plays thousands of virtual instances of many server programs
// (Mastodon and its forks, Pleroma, Akkoma, Misskey, Sharkey, Firefish,
// GoToSocial, Lemmy, PeerTube, Pixelfed, WriteFreely, snac, Friendica and
// WordPress), routing by Host header and TLS SNI. Each program answers in
// its real formats and with its real quirks: key orders, NodeInfo 2.0/2.1
// paths, "metadata":[], "openRegistrations":"FALSE", missing usage fields,
// a capitalised software name, GoToSocial's robots.txt, Misskey's POST API.
//
// The world is a pure function of Options.Seed and Options.Instances (and
// PostScale, PlantRelevance and the epoch), and the simulation knows its
// ground truth exactly (Truth), so a test can crawl it and compare what was
// stored. Options.PostScale multiplies the posts (3,000 instances at scale
// 8 hold about 237,000 posts); Sim.Advance moves to the next epoch, in which
// some authors withdraw consent, some posts are deleted and some are
// published (epoch.go); Truth always describes the current epoch. A share of the instances is hostile or
// broken (see the Behaviour constants); Options.NoHostile turns that off.
//
// Host names are under reserved TLDs only (.example, .test), so nothing
// ever leaks to a real server. The crawler reaches the simulation by
// resolving every host to the listener's address and using the default
// https port; TLS certificates are issued per SNI name by a CA created in
// New (CACertPEM, WriteCA).
//
// # The crawler's rules
//
// Truth.Census, Truth.TimelinePosts and Truth.Posts encode what a correct,
// polite crawler stores. The rules are:
//
//  1. Discovered hosts are the seeds plus every valid host name in the
//     published peer list of every stored instance, and the hosts of the
//     remote accounts mentioned in the posts rule 5 stores, to a fixpoint. Junk
//     entries ("bad host", "-x-.example", "x.example:99999", names with
//     underscores), IP literals, "localhost" and anything else that is not
//     a valid DNS name (see ValidHostName) are dropped.
//  2. An instance is stored iff it is discovered, exists, is reachable (not
//     down, not http_503, not unknown), its robots.txt did not answer 5xx
//     and allows the agent token "fedilens" (or "*", per RFC 9309) to fetch
//     /.well-known/nodeinfo and the NodeInfo document path, the document
//     parses, is on the same host, was not served with X-Robots-Tag
//     noindex, and no redirect led to a forbidden address. Slow and
//     rate-limited instances are stored: the crawler waits (Retry-After).
//     Private instances are stored with Private set.
//  3. The peer list of a stored instance is read iff its program publishes
//     one (InstanceTruth.PeersPath), robots.txt allows that path and it is
//     not disabled (peers_disabled). Misskey's POST /api/federation/instances
//     is paginated with {"limit":100,"offset":N} until a short page.
//  4. An account consents iff indexable is true, noindex is false, and
//     neither the bio nor any profile field name or value carries an
//     opt-out word: #nobot, #nobots, #noindex, #nosearch, or the bare words
//     noindex and nosearch, case-insensitively and on word boundaries after
//     reducing HTML to text ("#nobotany" and "noindexing" do not count).
//     Where the program has no indexable flag (Pleroma, Akkoma, Misskey,
//     Lemmy, PeerTube, ...), an account consents iff the world has an
//     opt-in word (Options.OptInWord, which the crawler is assumed to be
//     given too) and the bio or a profile field carries it as a whole
//     word, with noindex false and no opt-out word.
//  5. Posts (Truth.Posts): one rule per family of programs (postFamilies;
//     InstanceTruth.PostAccess is "ok" where the family's rule reads an
//     instance, and "no_opt_in" for the families without an indexable
//     flag in a world without an opt-in word). For the Mastodon API
//     family (Mastodon, Pleroma, Akkoma, GoToSocial, Pixelfed,
//     Friendica): each stored instance that is not Private, not
//     APIAuthRequired, and whose robots.txt allows /api/v1/directory and
//     /api/v1/accounts/; the authors are the accounts listed in the local
//     directory (/api/v1/directory?local=true, every page) plus the
//     authors of the local public timeline (every page, where it is public:
//     PublicTimeline on Mastodon, always on Pleroma, Akkoma, Pixelfed and
//     Friendica, and robots.txt allows /api/v1/timelines/public), at the current epoch or any earlier
//     one (a crawler rechecks the authors it knows; an author who left the
//     directory but still consents keeps her posts). For each such author
//     who still exists and consents (rule 4, read from the Account entity),
//     every post with visibility=public that /api/v1/accounts/:id/statuses
//     lists, created at or after the retention cut-off. Nothing else.
//     For the ActivityPub family (WordPress): each stored instance that is
//     not Private, whose robots.txt allows /wp-json/wp/v2/users, /author/
//     and /wp-json/activitypub/1.0/ (and that does not want signed
//     ActivityPub GETs); the authors are the users
//     /wp-json/wp/v2/users lists (every page: the live users with a public
//     or unlisted post), at the current epoch or any earlier one; for each
//     such author who still exists and consents (rule 4, read from the
//     actor: indexable, summary, PropertyValue attachments), every post
//     with as:Public in "to" that the outbox (OrderedCollection, first,
//     next) lists, created at or after the retention cut-off. WriteFreely
//     and snac publish actors and outboxes but no public author listing:
//     they are not read ("unsupported").
//     For Lemmy (no indexable flag: only with an opt-in word): each stored
//     instance whose robots.txt allows /api/v3/post/list,
//     /api/v3/comment/list and /api/v3/user; the authors are the creators
//     of the live local posts and comments (type_=Local, sort=New, every
//     page) at the current epoch or any earlier one; for each such person
//     who still exists, is not banned and consents (rule 4 on the Markdown
//     bio, InstanceTruth.LemmyPersons), every live post (Kind "page") and
//     comment (Kind "note"; deleted and removed comments are listed blanked
//     and never kept), created at or after the retention cut-off.
//     For PeerTube (no indexable flag: only with an opt-in word): each
//     stored instance whose robots.txt allows /api/v1/videos and
//     /api/v1/accounts/; the authors are the accounts with a public video
//     (/api/v1/videos?isLocal=true&nsfw=both, every page; NSFW videos
//     count) at the current epoch or any earlier one; for each such
//     account that still exists and consents (rule 4 on the plain-text
//     description of /api/v1/accounts/{name}, which carries the profile
//     fields as "Name: value" lines), every public video (Kind "video",
//     URI https://host/videos/watch/<uuid>), created at or after the
//     retention cut-off; unlisted, private and internal videos never.
//     For the Misskey family (Misskey, Sharkey, Firefish, Fedired; no
//     indexable flag: only with an opt-in word): each stored instance
//     whose robots.txt allows /api/users/show and /api/users/notes; the
//     authors are the explorable users of POST /api/users (origin local,
//     every page; robots.txt allows /api/users) plus the authors of the
//     local timeline (POST /api/notes/local-timeline, every page, with
//     replies; robots.txt allows it), at the current epoch or any
//     earlier one; for each such user who still exists and consents (rule
//     4 on /api/users/show: noindex, the plain-text description and
//     fields), every note with visibility "public" that /api/users/notes
//     lists (withReplies true), created at or after the retention
//     cut-off; home, followers and specified notes never. The note's URI
//     is https://host/notes/<id> (local notes carry no uri).
//     5a. The thin post path (Truth.TimelinePosts, and the posts rule 1
//     reads mentions from): for each stored Mastodon instance whose
//     robots.txt allows /api/v1/timelines/public and whose local timeline
//     is public (InstanceTruth.PublicTimeline), the first page of
//     /api/v1/timelines/public?local=true&limit=40 (newest first), keeping
//     the posts whose author consents. The public timeline only ever holds
//     visibility=public posts. Rule 1 reads the epoch-0 pages: later epochs
//     publish no remote mentions, and a crawler keeps what it discovered.
//     5b. Boosts (Truth.Boosts): for the families whose source lists
//     boosts without extra requests, WordPress (Announce activities in
//     the outbox, among the Creates) and the Misskey family (plain
//     renotes in /api/users/notes with withRenotes true), on each
//     instance rule 5 reads: the live boosts addressed to the public
//     ("to" as:Public; visibility "public"), created at or after the
//     retention cut-off, of each account that still exists and consents
//     and that this epoch's crawl rechecks (listed by the family's
//     listings now, or with posts stored by the previous epoch's crawl).
//     Only the hosts are kept: the booster's, the boosted post's (the
//     renoted note's user.host, null being the booster's own) and the
//     boost's URI and date. The Mastodon API family is read with
//     exclude_reblogs=true and contributes no boosts.
//
// # The spam farm
//
// A few non-seed Mastodon instances (Truth.FarmPublishers, never hostile,
// always named by SeedA) publish, after their own peers, thousands of
// subdomains of FarmDomain (Truth.FarmHosts: 30,000 in a world of 20,000
// instances, scaled, at least 1,000). They are valid names, so rule 1
// discovers them, but none is an instance, so none is ever stored: most
// close the connection like any unknown host, and Truth.FarmJunkHosts
// answer every path with a 200 spam page. A crawler that spends its pass
// on them is not wrong, only wasteful; fedilens caps the unproven hosts of
// one registrable domain. The hosting provider HostingDomain is the
// opposite case: many subdomains that really are instances.
//
// # History
//
// Options.HistoryDays = N > 0 gives the world a day dimension (history.go):
// days 0 to N-1, day d dated Now minus N-1-d days, day N-1 being today.
// Sim.SetDay chooses the day served (safe while serving; a new Sim serves
// today) and Sim.TruthAt(d) is the truth of day d at the current epoch
// (Sim.Truth is TruthAt(Sim.Day())); Truth.Census applies rules 1 to 3 to
// that day's peer lists. Each instance's life is drawn once from (Seed,
// instance) with its own stream, and its state on a day is computed from
// those draws, never stepped:
//
//   - 15% of the instances are born during the history (on a uniform day
//     1..N-1), the others exist from day 0; 8% die on a later day (from
//     then on their connections are closed, like any unknown host:
//     InstanceTruth.Dead), and 40% of those come back on a later day
//     ("returning"). The seeds, the farm publishers and the relevance
//     hosts live throughout;
//   - users grow from 50-95% of today's (2-32% for instances born during
//     the history) at birth to today's, linearly or quadratically, never
//     decreasing; active half-year and month users follow that share with
//     a daily jitter of +-15%, with month <= half-year <= 58% of users
//     (stats_inconsistent instances keep their deliberately wrong
//     half-year); local posts grow linearly from half the users' share;
//   - 80% of the instances upgrade once or twice during their life, where
//     their program has older versions of the kind below (to
//     today's version, from older versions of the same program and fork
//     that serve the same NodeInfo documents and API generation, so that
//     the version changes only the version string: e.g. Mastodon 4.2.24 ->
//     4.3.12 -> 4.4.8, Misskey 2023.12.2 -> 2024.11.0 -> 2025.4.1); a
//     version never goes down;
//   - 10% have a window of days with their registrations the opposite of
//     today's;
//   - 25% of each peer-list entry that names an instance appears on a
//     uniform day after the lister's birth; no entry appears before the
//     birth of the instance it names (junk, dead and farm entries are
//     there from the lister's birth); entries never disappear;
//   - Mastodon instances with visible blocks keep their old blocks (dead
//     peers, "spam") and add new ones: threads.net (30% of them; 60%
//     suspend, else silence), bsky.brid.gy (12%), and 0-2 other
//     instances, each with a public reason (Truth: InstanceTruth.Blocks),
//     70% of them added on a day during the history. Block entries are
//     never peers: nothing contacts threads.net.
//
// Content (accounts and posts) is the epoch's, the same on every day, and
// the hostile behaviours are per instance, not per day. Today's census
// equals the world without a history except for the instances dead today
// (8% die, 60% of those for good); the truth of a Dead instance keeps
// today's other fields. Domain blocks other than Mastodon's
// (Pleroma's mrf_simple, Lemmy's blocked list) do not change over time.
// The truth of all 120 days of 500 instances builds in about 0.3 s.
//
// # Endpoints
//
// Every instance answers /robots.txt (snac: 404), /.well-known/nodeinfo and
// its NodeInfo documents. Programs with accounts answer WebFinger,
// host-meta, ActivityPub actors, paged outboxes and objects (with Accept:
// application/activity+json or ld+json; GoToSocial wants a Signature
// header, which is not verified; private and direct posts are 404), and an
// HTML page otherwise. The Mastodon API family answers /api/v1/instance,
// /api/v2/instance (Mastodon 4.0+, GoToSocial), /api/v1/instance/peers,
// /api/v1/instance/activity and /domain_blocks (Mastodon),
// /api/v1/directory (local=true, offset, limit <= 80 (default 40),
// order=active by latest post or order=new by account creation; exactly
// the live accounts with discoverable true), /api/v1/accounts/lookup,
// /api/v1/accounts/:id, /api/v1/accounts/:id/statuses (public and unlisted
// posts, newest first, limit <= 40 (default 20), max_id/since_id/min_id,
// exclude_replies, exclude_reblogs, only_media, tagged, pinned=true always
// empty, Link header with next=max_id of the last and prev=min_id of the
// first item), /api/v1/statuses/:id (public and unlisted only, 404 when
// deleted) and /api/v1/timelines/public (local=true, limit <= 40,
// max_id/min_id/since_id, Link header); unknown ids answer 404
// {"error":"Record not found"}. GoToSocial answers 401 to the accounts and
// statuses endpoints, snac does not have them. Mastodon instances with
// APIAuthRequired answer 401 {"error":"This API requires an authenticated
// user"} to /api/v1/accounts*, /api/v1/statuses*, /api/v1/directory and
// /api/v1/timelines*; those with AuthorizedFetch answer 401 to unsigned
// ActivityPub GETs. Statuses carry media_attachments (with description,
// the alt text, on most), in_reply_to_id, mentions, tags, card null and a
// poll on a few; ActivityPub objects are Notes, Articles (WriteFreely) or
// Questions (polls), with attachment names, inReplyTo, and as:Public in
// "to" only for public posts (unlisted: in "cc"). Actors carry
// discoverable and, where the program has it, indexable (toot:indexable
// in @context). Deleted posts answer 410 on Mastodon, a Tombstone (200) on
// Pleroma and Akkoma, 404 elsewhere; deleted accounts 410 (Mastodon) or
// 404. The
// WordPress outboxes list the author's boosts as Announce activities
// among the Creates, newest first (boosts.go); the Misskey family's
// users/notes lists plain renotes (renoteId, the renoted note embedded as
// "renote" with its user and, for a remote note, uri) when withRenotes is
// true, which the simulation, unlike Misskey, does not default to. With
// Options.RemoteReplies a share of the replies answer posts of other
// instances (remote_replies.go), named as each program names a parent.
// The
// Misskey family answers POST /api/meta, /api/federation/instances,
// /api/notes/local-timeline, /api/users/notes, /api/users/show and
// /api/users (misskey_notes.go), in Misskey's formats: notes with id (aid),
// createdAt, userId, user (UserLite), text (MFM: plain text, "@user" and
// "@user@host" mentions, "#tags", bare URLs, typed markup verbatim), cw,
// visibility (public, home, followers, specified), localOnly, counts,
// reactions (their sum is the favourites), tags and mentions (user ids)
// when there are some, files (comment = alt text), replyId (the parent
// embedded as reply), poll, and no uri or url (local notes). The note
// lists page by id with limit 1..100 (default 10), untilId (newest first)
// and sinceId (alone: the oldest notes after it, oldest first, as
// Misskey does; with untilId: newest first); the local timeline lists
// the public notes, users/notes {userId} the public and home ones
// (withReplies defaults to false there: replies to others left out).
// users/show takes {userId} or {username, host: null} and answers
// UserDetailed (description and fields as plain text, isLocked, isBot,
// noindex, no indexable flag; 15% of the family's users set noindex);
// /api/users {origin, sort, state, limit, offset} lists the explorable
// (discoverable) local users, "+createdAt" newest first. Unknown and
// deleted users answer 400 {"error":{"code":"NO_SUCH_USER"}}, a bad
// parameter 400 INVALID_PARAM; deleted notes vanish from every list.
// Lemmy answers /api/v3/site and
// /api/v3/federated_instances; PeerTube /api/v1/config.
// WordPress answers /wp-json/wp/v2/users (per_page 1 to 100, default 10,
// page; ordered by name; X-WP-Total, X-WP-TotalPages and a Link header;
// the users with a public or unlisted post, each with id, name, url,
// description, link (the author page, which is the actor) and slug, the
// user name; 400 rest_user_invalid_page_number past the last page); its
// ActivityPub objects carry replies, likes and shares collections with
// totalItems, and its posts mention local authors only (so reading them
// discovers no host: the census does not depend on it).
// Lemmy also answers GET /api/v3/post/list (type_, sort, limit <= 50
// (default 10), page or page_cursor; {"posts":[PostView],"next_page"}
// on 0.19, the live local posts newest first), /api/v3/comment/list
// (limit, page, post_id; {"comments":[CommentView]}, the comments on live
// posts, deleted and removed ones blanked) and /api/v3/user (username,
// limit, page; the person's posts and comments; 404
// {"error":"couldnt_find_person"} for unknown and deleted persons), in
// 0.19's formats with null fields omitted (0.18 writes times without a
// zone); its persons are not served over WebFinger or ActivityPub.
// PeerTube also answers GET /api/v1/videos (isLocal, nsfw: the instance
// hides NSFW videos unless nsfw=both or true, sort -publishedAt by
// default, start, count <= 100 (default 15); {"total","data"}, the public
// videos, the description cut to 250 characters with "..."),
// /api/v1/videos/{uuid|shortUUID|id} (VideoDetails with the full
// description, tags and support; unlisted ones too, private and internal
// 403, deleted and unknown 404), /api/v1/videos/{id}/description,
// /api/v1/accounts/{name} (404 for deleted and unknown accounts) and
// /api/v1/accounts/{name}/videos, in PeerTube 6/7's formats; its accounts
// answer WebFinger, but accounts and videos are not served over
// ActivityPub (404; browsers get a page). See peertube_api.go.
// Anything else is 404.
package fedisim
