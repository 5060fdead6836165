package fedisim

// InstanceDoc is the ground truth of an instance's own instance document
// (Mastodon's /api/v2/instance or /api/v1/instance, Misskey's POST
// /api/meta, Lemmy's /api/v3/site, PeerTube's /api/v1/config): which one a
// polite crawler reads, and the fields it serves, exactly as served (HTML
// and unsanitised strings included). It complements InstanceTruth, whose
// InstanceTitle is the same document's name.
//
// The rule it encodes (rule 6, next to those of the package doc): for a
// stored instance, the crawler reads the document of its program family
// after NodeInfo. The Mastodon API family reads /api/v2/instance where it
// exists (Mastodon 4.0 and later, GoToSocial) and /api/v1/instance
// otherwise, or when robots.txt disallows v2. A document robots.txt
// disallows, or one served with X-Robots-Tag noindex (GoToSocial's API), is
// not read, and its fields stay empty. Rate limits and slowness delay the
// document but do not lose it.
type InstanceDoc struct {
	// Path is the document a polite crawler reads; "" when the program has
	// none (WriteFreely, WordPress) or none may be read. Misskey's is a POST.
	Path string
	// Title is the document's name ("" where Misskey serves null).
	Title string
	// Description is the description as served.
	Description string
	// Languages are the language tags as served.
	Languages []string
	// Rules are the server rules' texts, in order.
	Rules []string
	// ContactEmail is the admin address ("" when none is served).
	ContactEmail string
	// ContactAccount is the contact account as user@host ("" for none).
	ContactAccount string
	// RegistrationMode is "open", "approval" or "closed" as the document
	// states it.
	RegistrationMode string
}

// InstanceDoc returns the instance document truth of host; ok is false
// when host is no instance. Whether the instance is stored at all is
// Truth.Census's business.
func (s *Sim) InstanceDoc(host string) (doc InstanceDoc, ok bool) {
	in := s.world.byHost[host]
	if in == nil {
		return InstanceDoc{}, false
	}
	status, robots := robotsFor(in)
	allows := func(path string) bool { return RobotsAllows(status, robots, AgentToken, path) }
	p := in.prof()
	var contact string
	if c := s.world.contentOf(in); len(c.accounts) > 0 {
		contact = c.accounts[0].username + "@" + in.host
	}
	mode := func(open, approval bool) string {
		switch {
		case !open:
			return "closed"
		case approval:
			return "approval"
		}
		return "open"
	}
	switch {
	case p.mastoAPI || in.kind == swSnac:
		hasV2 := in.kind == swMastodon && versionAtLeast(in.version, 4, 0) || in.kind == swGoToSocial
		switch {
		case hasV2 && allows("/api/v2/instance"):
			doc.Path = "/api/v2/instance"
		case allows("/api/v1/instance"):
			doc.Path = "/api/v1/instance"
		default:
			return InstanceDoc{}, true
		}
		if in.kind == swGoToSocial {
			return InstanceDoc{}, true // every API answer carries X-Robots-Tag: noindex
		}
		if in.kind == swSnac {
			doc.Title, doc.Description = instanceDocTitle(in), in.host
			doc.Languages, doc.ContactEmail = []string{"en"}, "admin@"+in.host
			doc.RegistrationMode = "closed"
			return doc, true
		}
		doc.Title, doc.Description = in.title, in.desc
		doc.Languages, doc.Rules = []string{"en"}, []string{"Be excellent to each other."}
		doc.ContactEmail = "admin@" + in.host
		if doc.Path == "/api/v1/instance" || in.kind == swMastodon {
			doc.ContactAccount = contact
		}
		doc.RegistrationMode = mode(in.openReg, false)
	case p.misskeyAPI:
		if !allows("/api/meta") {
			return InstanceDoc{}, true
		}
		doc.Path = "/api/meta"
		doc.Title, doc.Description = instanceDocTitle(in), in.desc
		doc.ContactEmail = "admin@" + in.host
		doc.RegistrationMode = mode(in.openReg, false)
	case in.kind == swLemmy:
		if !allows("/api/v3/site") {
			return InstanceDoc{}, true
		}
		doc.Path = "/api/v3/site"
		doc.Title, doc.Description = in.title, in.desc
		doc.RegistrationMode = mode(true, !in.openReg) // Open or RequireApplication
	case in.kind == swPeerTube:
		if !allows("/api/v1/config") {
			return InstanceDoc{}, true
		}
		doc.Path = "/api/v1/config"
		doc.Title, doc.Description = in.title, in.desc
		doc.RegistrationMode = mode(in.openReg, false)
	}
	return doc, true
}
