package api

import "github.com/fedilens/fedilens/internal/model"

// instanceDocJSON is what an instance says about itself in its software's
// own instance document (Mastodon /api/v2/instance, Misskey /api/meta,
// Lemmy /api/v3/site, PeerTube /api/v1/config), next to NodeInfo's
// figures. A snapshot without one (the software has none, robots.txt or
// the admin refused it) has no "instance_document" key at all, so clients
// can tell "not published" from "published empty".
type instanceDocJSON struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Languages   []string `json:"languages"`
	Rules       []string `json:"rules"`
	// ContactEmail and ContactAccount (user@host) are the admin contacts
	// the instance publishes for exactly this purpose.
	ContactEmail   string `json:"contact_email"`
	ContactAccount string `json:"contact_account"`
	// RegistrationMode is "open", "approval", "closed", or "" when the
	// document does not say.
	RegistrationMode string `json:"registration_mode"`
}

// newInstanceDocJSON returns nil when s carries no instance document.
func newInstanceDocJSON(s model.Snapshot) *instanceDocJSON {
	if s.InstanceTitle == "" && s.Description == "" && len(s.Languages) == 0 && len(s.Rules) == 0 &&
		s.ContactEmail == "" && s.ContactAccount == "" && s.RegistrationMode == "" {
		return nil
	}
	nonNil := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return &instanceDocJSON{
		Title: s.InstanceTitle, Description: s.Description,
		Languages: nonNil(s.Languages), Rules: nonNil(s.Rules),
		ContactEmail: s.ContactEmail, ContactAccount: s.ContactAccount,
		RegistrationMode: s.RegistrationMode,
	}
}
