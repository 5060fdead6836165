package fedisim

import (
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/fedilens/fedilens/internal/model"
)

// misskeyFamily is rule 5 for the Misskey API family (Misskey, Sharkey,
// Firefish, Fedired): no indexable flag, so only the opt-in word makes an
// account consent; robots.txt must allow /api/users/show and
// /api/users/notes; the authors are the local public timeline's (the
// accounts with a live public note) and the explorable accounts that
// /api/users lists, where robots.txt allows each listing; the posts kept
// are the public notes (home, followers and specified ones never).
var misskeyFamily = &postFamily{
	flagless: true,
	access: func(it *InstanceTruth) string {
		if !it.Allows(MisskeyUsersShowPath) || !it.Allows(MisskeyUsersNotesPath) {
			return model.PostAccessDisallowed
		}
		return model.PostAccessOK
	},
	authors: misskeyAuthors,
	keep:    func(p *PostTruth) bool { return p.Visibility == "public" },
}

var _ = registerPostFamily(misskeyFamily, "misskey", "sharkey", "firefish", "fedired")

// misskeyAuthors adds the Misskey family's author set of one readable
// instance at one epoch.
func misskeyAuthors(it *InstanceTruth, into map[string]bool) {
	users, timeline := it.Allows(MisskeyUsersPath), it.Allows(MisskeyLocalTimelinePath)
	for _, a := range it.Accounts {
		if users && a.Discoverable {
			into[a.Acct] = true
		}
		if timeline {
			for _, p := range a.Posts {
				if p.Visibility == "public" {
					into[a.Acct] = true
					break
				}
			}
		}
	}
}

// misskeyPostTruth makes a Misskey-family post's truth what its notes
// API serves: no language (Misskey notes have none), sensitive only as a
// content warning or a sensitive file (Misskey has no note-level flag),
// and the links of the MFM text (its bare URLs, typed markup included).
func misskeyPostTruth(in *instance, pst *post, p *PostTruth) {
	if !in.prof().misskeyAPI {
		return
	}
	p.Language = ""
	p.Sensitive = pst.summary != "" || pst.sensitive && len(pst.media) > 0
	p.Links = mfmURLs(misskeyText(pst))
}

// mfmURLRE is a bare URL in MFM text; trailing punctuation is not part
// of it.
var mfmURLRE = regexp.MustCompile(`https?://[^\s<>"'()\[\]{}` + "`" + `]+`)

// mfmURLs returns the absolute http(s) URLs of MFM text, the way
// model.Post.Links holds them: sorted, without duplicates, at most 20.
func mfmURLs(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range mfmURLRE.FindAllString(text, -1) {
		m = strings.TrimRight(m, ".,;:!?")
		u, err := url.Parse(m)
		if err != nil || u.Host == "" || seen[u.String()] {
			continue
		}
		seen[u.String()] = true
		out = append(out, u.String())
	}
	sort.Strings(out)
	if len(out) > 20 {
		out = out[:20]
	}
	return out
}
