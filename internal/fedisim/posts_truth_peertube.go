package fedisim

import "github.com/fedilens/fedilens/internal/model"

// Paths the PeerTube source reads; robots.txt must allow both.
const (
	PeerTubeVideosPath   = "/api/v1/videos"
	PeerTubeAccountsPath = "/api/v1/accounts/"
)

// peerTubeFamily is rule 5 for PeerTube: no indexable flag (the opt-in
// word only); every stored instance whose robots.txt allows
// /api/v1/videos and /api/v1/accounts/ is read; the authors are the
// accounts with a public video (what /api/v1/videos?isLocal=true&nsfw=both
// lists, NSFW videos included); a consenting author's public videos are
// kept (unlisted, private and internal ones are never listed).
var peerTubeFamily = &postFamily{
	flagless: true,
	access: func(it *InstanceTruth) string {
		if !it.Allows(PeerTubeVideosPath) || !it.Allows(PeerTubeAccountsPath) {
			return model.PostAccessDisallowed
		}
		return model.PostAccessOK
	},
	authors: func(it *InstanceTruth, into map[string]bool) {
		for _, a := range it.Accounts {
			for _, p := range a.Posts {
				if p.Visibility == "public" {
					into[a.Acct] = true
					break
				}
			}
		}
	},
}

var _ = registerPostFamily(peerTubeFamily, "peertube")
