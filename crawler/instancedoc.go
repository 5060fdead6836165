package crawler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
	"github.com/fedilens/fedilens/internal/webfinger"
)

// Caps on the instance document fields kept in a snapshot. Documents are
// remote input: mastodon.social's rules alone, with translations, are
// 20 KB, and nothing stops an instance from publishing megabytes.
const (
	// MaxInstanceTitleRunes caps Snapshot.InstanceTitle (as Title).
	MaxInstanceTitleRunes = 200
	// MaxDescriptionRunes caps Snapshot.Description.
	MaxDescriptionRunes = 5000
	// MaxLanguages caps Snapshot.Languages.
	MaxLanguages = 16
	// MaxRules caps the number of Snapshot.Rules.
	MaxRules = 50
	// MaxRuleRunes caps one rule.
	MaxRuleRunes = 1000
	// maxInstanceDocBody caps the document itself.
	maxInstanceDocBody = 1 << 20
	// maxEmail is the longest usable address (RFC 5321 path limit).
	maxEmail = 254
)

// docSource is how one family of server software publishes its instance
// document.
type docSource int

const (
	docNone     docSource = iota
	docMastodon           // GET /api/v2/instance (Mastodon 4+, GoToSocial), else or on 404 /api/v1/instance
	docMisskey            // POST /api/meta {}
	docLemmy              // GET /api/v3/site
	docPeerTube           // GET /api/v1/config
)

// docSources maps NodeInfo software names to their instance document.
var docSources = map[string]docSource{
	"mastodon": docMastodon, "hometown": docMastodon, "glitch": docMastodon, "glitchsoc": docMastodon,
	"pleroma": docMastodon, "akkoma": docMastodon, "gotosocial": docMastodon, "pixelfed": docMastodon,
	"friendica": docMastodon, "mitra": docMastodon, "snac": docMastodon, "iceshrimp.net": docMastodon,
	"misskey": docMisskey, "sharkey": docMisskey, "firefish": docMisskey, "calckey": docMisskey,
	"foundkey": docMisskey, "iceshrimp": docMisskey, "catodon": docMisskey, "meisskey": docMisskey,
	"cherrypick": docMisskey, "fedired": docMisskey,
	"lemmy":    docLemmy,
	"peertube": docPeerTube,
}

// hasInstanceV2 reports whether software publishes /api/v2/instance:
// Mastodon (and its forks, which keep its version) from 4.0, and
// GoToSocial. Asking the others would only cost them a 404.
func hasInstanceV2(software, version string) bool {
	switch software {
	case "gotosocial":
		return true
	case "mastodon", "hometown", "glitch", "glitchsoc":
		major, _, _ := strings.Cut(strings.TrimSpace(version), ".")
		n, err := strconv.Atoi(major)
		return err == nil && n >= 4
	}
	return false
}

// docOutcome is what one instance document request came to.
type docOutcome int

const (
	docRead    docOutcome = iota // a 2xx document to parse
	docAbsent                    // 404 or 410: the software (version) has no such document
	docRobots                    // robots.txt disallows the path: respected
	docRefused                   // 401/403 or X-Robots-Tag noindex: respected
	docFailed                    // anything else; the error says what
)

// readInstanceDoc reads the instance document of snap's software into the
// instance fields of snap, and fills Title from it when NodeInfo had no
// name. A refusal (404, 401, 403, robots.txt, noindex) leaves the fields
// empty and is no error; any other failure also leaves them empty, and is
// returned for the log only: the snapshot stands on its NodeInfo.
func (hc *hostCrawl) readInstanceDoc(ctx context.Context, snap *model.Snapshot) error {
	info, err := hc.fetchInstanceDoc(ctx, snap.Software, snap.Version)
	if err != nil {
		return err
	}
	info.apply(snap, hc.host)
	return nil
}

// fetchInstanceDoc fetches and parses the document of software.
func (hc *hostCrawl) fetchInstanceDoc(ctx context.Context, software, version string) (instanceInfo, error) {
	var (
		req   fetchRequest
		parse func([]byte) (instanceInfo, error)
	)
	switch docSources[software] {
	case docMastodon:
		if hasInstanceV2(software, version) {
			resp, outcome, err := hc.getInstanceDoc(ctx, fetchRequest{URL: hc.url("/api/v2/instance")})
			switch {
			case err != nil:
				return instanceInfo{}, fmt.Errorf("/api/v2/instance: %w", err)
			case outcome == docRead:
				info, err := parseMastodonV2(resp.Body)
				if err != nil {
					return instanceInfo{}, fmt.Errorf("/api/v2/instance: %w", err)
				}
				return info, nil
			case outcome != docAbsent && outcome != docRobots:
				return instanceInfo{}, nil
			}
			// 404 (an older version), or robots.txt allowing v1 only: ask v1.
		}
		req, parse = fetchRequest{URL: hc.url("/api/v1/instance")}, parseMastodonV1
	case docMisskey:
		req, parse = fetchRequest{Method: "POST", URL: hc.url("/api/meta"), Body: []byte("{}")}, parseMisskeyMeta
	case docLemmy:
		req, parse = fetchRequest{URL: hc.url("/api/v3/site")}, parseLemmySite
	case docPeerTube:
		req, parse = fetchRequest{URL: hc.url("/api/v1/config")}, parsePeerTubeConfig
	default:
		return instanceInfo{}, nil
	}
	resp, outcome, err := hc.getInstanceDoc(ctx, req)
	if err != nil || outcome != docRead {
		return instanceInfo{}, err
	}
	info, err := parse(resp.Body)
	if err != nil {
		return instanceInfo{}, fmt.Errorf("%s: %w", resp.URL.Path, err)
	}
	return info, nil
}

// getInstanceDoc sends one document request through the polite per-host
// path and classifies the answer.
func (hc *hostCrawl) getInstanceDoc(ctx context.Context, r fetchRequest) (*fetchResponse, docOutcome, error) {
	r.Accept, r.MaxBody = "application/json", maxInstanceDocBody
	resp, err := hc.get(ctx, r)
	switch {
	case errors.Is(err, errRobots):
		return nil, docRobots, nil
	case err != nil:
		return nil, docFailed, err
	}
	if err := okStatus(resp); err != nil {
		switch {
		case resp.Status == 404 || resp.Status == 410:
			return nil, docAbsent, nil
		case errors.Is(err, errRefused):
			return nil, docRefused, nil
		}
		return nil, docFailed, err
	}
	if hasNoIndex(resp.Header, hc.m.opts.AgentToken) {
		return nil, docRefused, nil
	}
	return resp, docRead, nil
}

// instanceInfo is an instance document's fields as published, before
// apply sanitises and caps them.
type instanceInfo struct {
	title, description string
	languages, rules   []string
	email, account     string
	registration       string
}

// apply sanitises, validates and caps info into snap. account is a
// user@host or a bare user name of host.
func (info instanceInfo) apply(snap *model.Snapshot, host string) {
	snap.InstanceTitle = sanitize.PlainLine(info.title, MaxInstanceTitleRunes)
	snap.Description = capRunes(sanitize.Text(info.description), MaxDescriptionRunes)
	snap.Languages = cleanLanguages(info.languages)
	snap.Rules = nil
	for _, r := range info.rules {
		if r = sanitize.PlainLine(r, MaxRuleRunes); r != "" && len(snap.Rules) < MaxRules {
			snap.Rules = append(snap.Rules, r)
		}
	}
	snap.ContactEmail = cleanEmail(info.email)
	snap.ContactAccount = cleanAccount(info.account, host)
	snap.RegistrationMode = info.registration
	if snap.Title == "" {
		snap.Title = snap.InstanceTitle
	}
}

// cleanLanguages keeps valid primary language subtags, lower-cased,
// without "und" and duplicates, in order, capped.
func cleanLanguages(tags []string) []string {
	var out []string
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		primary, _, _ := strings.Cut(strings.ReplaceAll(t, "_", "-"), "-")
		if len(primary) < 2 || len(primary) > 3 || primary == "und" || strings.ContainsFunc(primary, func(r rune) bool { return r < 'a' || r > 'z' }) {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == primary
		}
		if !dup && len(out) < MaxLanguages {
			out = append(out, primary)
		}
	}
	return out
}

// cleanEmail returns a plausible mail address (a "mailto:" prefix
// dropped), or "".
func cleanEmail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(s) > maxEmail || !utf8.ValidString(s) ||
		!strings.Contains(domain, ".") || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>()[]\,;:"`, r)
	}) {
		return ""
	}
	return s
}

// cleanAccount turns a contact account ("user" on host, "user@domain" or
// "@user@domain") into lower-case user@host, or "".
func cleanAccount(acct, host string) string {
	acct = strings.TrimPrefix(strings.TrimSpace(acct), "@")
	if acct == "" {
		return ""
	}
	if !strings.Contains(acct, "@") {
		acct += "@" + host
	}
	a, err := webfinger.ParseAccount(acct)
	if err != nil {
		return ""
	}
	return strings.ToLower(a.User) + "@" + a.Host
}

// registrationMode maps open/approval flags to a model.Registration* value.
func registrationMode(open, approval bool) string {
	switch {
	case !open:
		return model.RegistrationClosed
	case approval:
		return model.RegistrationApproval
	}
	return model.RegistrationOpen
}

func capRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n]))
}

// jsonObject unmarshals body into v, insisting on a JSON object.
func jsonObject(body []byte, v any, what string) error {
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return fmt.Errorf("%w: %s is not a JSON object", errMalformed, what)
	}
	if err := decodeJSON(body, v); err != nil {
		return fmt.Errorf("%w: %s: %v", errMalformed, what, err)
	}
	return nil
}

// looseStrings is a list of strings that skips elements of other types
// and reads anything but an array as empty.
type looseStrings []string

func (l *looseStrings) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if decodeJSON(b, &raw) != nil {
		return nil
	}
	for _, r := range raw {
		var s string
		if decodeJSON(r, &s) == nil {
			*l = append(*l, s)
		}
	}
	return nil
}

// mastodonRules reads Mastodon's rules ([{"id","text","hint"}]), and
// plain strings for servers that simplify them.
type mastodonRules []string

func (m *mastodonRules) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if decodeJSON(b, &raw) != nil {
		return nil
	}
	for _, r := range raw {
		var rule struct {
			Text flexString `json:"text"`
		}
		var s string
		switch {
		case decodeJSON(r, &s) == nil:
			*m = append(*m, s)
		case decodeJSON(r, &rule) == nil:
			*m = append(*m, string(rule.Text))
		}
	}
	return nil
}

// contactAccount is the part of an Account entity that names it (an
// instance's contact).
type contactAccount struct {
	Acct     flexString `json:"acct"`
	Username flexString `json:"username"`
}

func (a *contactAccount) handle() string {
	if a == nil {
		return ""
	}
	if a.Acct != "" {
		return string(a.Acct)
	}
	return string(a.Username)
}

// parseMastodonV2 reads /api/v2/instance (Mastodon 4+, GoToSocial).
func parseMastodonV2(body []byte) (instanceInfo, error) {
	var doc struct {
		Title         flexString    `json:"title"`
		Description   flexString    `json:"description"`
		Languages     looseStrings  `json:"languages"`
		Rules         mastodonRules `json:"rules"`
		Registrations *struct {
			Enabled          flexBool `json:"enabled"`
			ApprovalRequired flexBool `json:"approval_required"`
		} `json:"registrations"`
		Contact *struct {
			Email   flexString      `json:"email"`
			Account *contactAccount `json:"account"`
		} `json:"contact"`
	}
	if err := jsonObject(body, &doc, "instance v2"); err != nil {
		return instanceInfo{}, err
	}
	info := instanceInfo{title: string(doc.Title), description: string(doc.Description),
		languages: doc.Languages, rules: doc.Rules}
	if r := doc.Registrations; r != nil {
		info.registration = registrationMode(bool(r.Enabled), bool(r.ApprovalRequired))
	}
	if c := doc.Contact; c != nil {
		info.email, info.account = string(c.Email), c.Account.handle()
	}
	return info, nil
}

// parseMastodonV1 reads /api/v1/instance (Mastodon before 4, Pleroma,
// Akkoma, Pixelfed, Friendica, snac and others imitating it).
func parseMastodonV1(body []byte) (instanceInfo, error) {
	var doc struct {
		Title            flexString      `json:"title"`
		ShortDescription flexString      `json:"short_description"`
		Description      flexString      `json:"description"`
		Email            flexString      `json:"email"`
		Languages        looseStrings    `json:"languages"`
		Rules            mastodonRules   `json:"rules"`
		Registrations    json.RawMessage `json:"registrations"`
		ApprovalRequired flexBool        `json:"approval_required"`
		ContactAccount   *contactAccount `json:"contact_account"`
	}
	if err := jsonObject(body, &doc, "instance v1"); err != nil {
		return instanceInfo{}, err
	}
	// Mastodon 4 serves its description as short_description and an empty
	// description; before 4, short_description is the summary and
	// description long HTML. The summary matches v2's description.
	desc := string(doc.ShortDescription)
	if strings.TrimSpace(sanitize.Text(desc)) == "" {
		desc = string(doc.Description)
	}
	info := instanceInfo{title: string(doc.Title), description: desc, email: string(doc.Email),
		languages: doc.Languages, rules: doc.Rules, account: doc.ContactAccount.handle()}
	if len(doc.Registrations) > 0 && string(doc.Registrations) != "null" {
		var open flexBool
		_ = decodeJSON(doc.Registrations, &open)
		info.registration = registrationMode(bool(open), bool(doc.ApprovalRequired))
	}
	return info, nil
}

// parseMisskeyMeta reads Misskey's POST /api/meta (and its forks').
func parseMisskeyMeta(body []byte) (instanceInfo, error) {
	var doc struct {
		Name                      flexString   `json:"name"`
		Description               flexString   `json:"description"`
		Langs                     looseStrings `json:"langs"`
		ServerRules               looseStrings `json:"serverRules"`
		MaintainerEmail           flexString   `json:"maintainerEmail"`
		DisableRegistration       *flexBool    `json:"disableRegistration"`
		ApprovalRequiredForSignup flexBool     `json:"approvalRequiredForSignup"`
		Features                  *struct {
			Registration *flexBool `json:"registration"`
		} `json:"features"`
	}
	if err := jsonObject(body, &doc, "misskey meta"); err != nil {
		return instanceInfo{}, err
	}
	info := instanceInfo{title: string(doc.Name), description: string(doc.Description),
		languages: doc.Langs, rules: doc.ServerRules, email: string(doc.MaintainerEmail)}
	switch {
	case doc.DisableRegistration != nil:
		info.registration = registrationMode(!bool(*doc.DisableRegistration), bool(doc.ApprovalRequiredForSignup))
	case doc.Features != nil && doc.Features.Registration != nil:
		info.registration = registrationMode(bool(*doc.Features.Registration), bool(doc.ApprovalRequiredForSignup))
	}
	return info, nil
}

// parseLemmySite reads Lemmy's GET /api/v3/site.
func parseLemmySite(body []byte) (instanceInfo, error) {
	var doc struct {
		SiteView *struct {
			Site struct {
				Name             flexString `json:"name"`
				Description      flexString `json:"description"`
				Sidebar          flexString `json:"sidebar"`
				OpenRegistration *flexBool  `json:"open_registration"` // before 0.17
			} `json:"site"`
			LocalSite struct {
				RegistrationMode flexString `json:"registration_mode"`
			} `json:"local_site"`
		} `json:"site_view"`
		Admins []struct {
			Person struct {
				Name  flexString `json:"name"`
				Local flexBool   `json:"local"`
			} `json:"person"`
		} `json:"admins"`
		AllLanguages []struct {
			ID   flexInt    `json:"id"`
			Code flexString `json:"code"`
		} `json:"all_languages"`
		DiscussionLanguages []flexInt `json:"discussion_languages"`
	}
	if err := jsonObject(body, &doc, "lemmy site"); err != nil {
		return instanceInfo{}, err
	}
	if doc.SiteView == nil {
		return instanceInfo{}, fmt.Errorf("%w: lemmy site has no site_view", errMalformed)
	}
	site := doc.SiteView.Site
	info := instanceInfo{title: string(site.Name), description: string(site.Description)}
	if strings.TrimSpace(info.description) == "" {
		info.description = string(site.Sidebar)
	}
	switch strings.ToLower(strings.TrimSpace(string(doc.SiteView.LocalSite.RegistrationMode))) {
	case "open":
		info.registration = model.RegistrationOpen
	case "requireapplication":
		info.registration = model.RegistrationApproval
	case "closed":
		info.registration = model.RegistrationClosed
	case "":
		if site.OpenRegistration != nil {
			info.registration = registrationMode(bool(*site.OpenRegistration), false)
		}
	}
	codes := map[int64]string{}
	for _, l := range doc.AllLanguages {
		if l.ID.v != nil {
			codes[*l.ID.v] = string(l.Code)
		}
	}
	for _, id := range doc.DiscussionLanguages {
		if id.v != nil && codes[*id.v] != "" {
			info.languages = append(info.languages, codes[*id.v])
		}
	}
	for _, a := range doc.Admins {
		if a.Person.Local && a.Person.Name != "" {
			info.account = string(a.Person.Name)
			break
		}
	}
	return info, nil
}

// parsePeerTubeConfig reads PeerTube's GET /api/v1/config.
func parsePeerTubeConfig(body []byte) (instanceInfo, error) {
	var doc struct {
		Instance *struct {
			Name             flexString `json:"name"`
			ShortDescription flexString `json:"shortDescription"`
		} `json:"instance"`
		Signup *struct {
			Allowed          flexBool `json:"allowed"`
			RequiresApproval flexBool `json:"requiresApproval"`
		} `json:"signup"`
	}
	if err := jsonObject(body, &doc, "peertube config"); err != nil {
		return instanceInfo{}, err
	}
	var info instanceInfo
	if in := doc.Instance; in != nil {
		info.title, info.description = string(in.Name), string(in.ShortDescription)
	}
	if s := doc.Signup; s != nil {
		info.registration = registrationMode(bool(s.Allowed), bool(s.RequiresApproval))
	}
	return info, nil
}
