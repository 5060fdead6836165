package fedisim

import "github.com/fedilens/fedilens/internal/model"

// Paths the ActivityPub post source reads on WordPress: the REST user
// list (the authors), the author pages (their actors) and the ActivityPub
// plugin's REST routes (their outboxes). robots.txt must allow all three.
const (
	WordPressUsersPath  = wpUsersPath
	WordPressAuthorPath = "/author/"
	WordPressAPPath     = "/wp-json/activitypub/1.0/"
)

// apFamily is rule 5 for the software whose posts are read through
// ActivityPub actors and paged outboxes, with the authors named by the
// program's own listing: WordPress (its ActivityPub plugin publishes
// indexable on actors). WriteFreely and snac have no public listing of
// their authors, so they are not in the family.
var apFamily = &postFamily{
	access: func(it *InstanceTruth) string {
		switch {
		case !it.Allows(WordPressUsersPath) || !it.Allows(WordPressAuthorPath) || !it.Allows(WordPressAPPath):
			return model.PostAccessDisallowed
		case it.AuthorizedFetch:
			return model.PostAccessSignatureRequired
		}
		return model.PostAccessOK
	},
	authors: wordpressAuthors,
}

var _ = registerPostFamily(apFamily, "wordpress")

// wordpressAuthors is the author set one epoch's /wp-json/wp/v2/users
// shows: the live users with a published (public or unlisted) post. The
// truth's accounts hold live posts only, so this is wpListed.
func wordpressAuthors(it *InstanceTruth, into map[string]bool) {
	for _, a := range it.Accounts {
		for _, p := range a.Posts {
			if p.Visibility == "public" || p.Visibility == "unlisted" {
				into[a.Acct] = true
				break
			}
		}
	}
}
