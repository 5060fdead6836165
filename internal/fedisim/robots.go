package fedisim

import (
	"net/http"
	"strings"
)

// AgentToken is the robots.txt product token of the fedilens crawler: the
// truth evaluates robots.txt for this token (and "*" when no group names it).
const AgentToken = "fedilens"

// aiBots are the crawlers many admins shut out; they make robots.txt files
// realistic and test that the crawler picks its own group.
var aiBots = []string{"GPTBot", "CCBot", "ClaudeBot", "Google-Extended", "Bytespider", "PerplexityBot"}

// robotsGroup is one group of a generated robots.txt.
type robotsGroup struct {
	comment string
	agents  []string
	lines   []string // "Disallow: /x", "Allow: /"
}

// robotsFor returns the status and body of an instance's /robots.txt. The
// behaviours add their rules to the existing groups rather than repeating a
// group, so parsers that do not merge duplicate groups agree with the truth.
func robotsFor(in *instance) (int, string) {
	if in.has(bRobots5xx) {
		return http.StatusInternalServerError, "<html><body><h1>500 Internal Server Error</h1></body></html>\n"
	}
	var header, footer string
	var groups []*robotsGroup
	star := func() *robotsGroup {
		for _, g := range groups {
			if len(g.agents) == 1 && g.agents[0] == "*" {
				return g
			}
		}
		g := &robotsGroup{agents: []string{"*"}}
		groups = append(groups, g)
		return g
	}
	aiGroup := func(comment string) {
		groups = append(groups, &robotsGroup{comment: comment, agents: aiBots, lines: []string{"Disallow: /"}})
	}
	switch in.kind {
	case swMastodon:
		header = "# See http://www.robotstxt.org/robotstxt.html for documentation on how to use the robots.txt file\n\n"
		if in.robotsWelcome {
			groups = append(groups, &robotsGroup{agents: []string{AgentToken}, lines: []string{"Allow: /"}})
			groups = append(groups, &robotsGroup{agents: []string{"*"}, lines: []string{"Disallow: /"}})
		} else {
			star().lines = []string{"Disallow: /media_proxy/", "Disallow: /interact/"}
		}
		aiGroup("")
	case swPleroma, swAkkoma:
		star().lines = []string{"Disallow: "}
	case swMisskey, swSharkey, swFirefish, swFedired, swWriteFreely:
		star().lines = []string{"Allow: /"}
	case swGoToSocial:
		header = "# GoToSocial robots.txt\n\n"
		aiGroup("# AI scrapers and the like.")
		g := star()
		g.comment = "# Rules for everything else."
		g.lines = []string{"Disallow: /api/", "Disallow: /auth/", "Disallow: /oauth/", "Disallow: /signup",
			"Disallow: /fileserver/", "Disallow: /users/", "Disallow: /emoji/", "Disallow: /admin",
			"Disallow: /user", "Disallow: /settings/", "Disallow: /.well-known/webfinger"}
	case swLemmy:
		star().lines = []string{"Disallow: /login", "Disallow: /settings", "Disallow: /create_community",
			"Disallow: /create_post", "Disallow: /inbox", "Disallow: /setup", "Disallow: /admin",
			"Disallow: /search/", "Disallow: /modlog"}
	case swPeerTube, swPixelfed:
		star().lines = []string{"Disallow:"}
	case swSnac:
		// snac has no robots.txt: 404 means "allow everything".
	case swFriendica:
		star().lines = []string{"Disallow: /search", "Disallow: /proxy"}
	case swWordPress:
		star().lines = []string{"Disallow: /wp-admin/", "Allow: /wp-admin/admin-ajax.php"}
		footer = "\nSitemap: https://" + in.host + "/wp-sitemap.xml\n"
	}
	if in.has(bRobotsDenyAPI) {
		g := star()
		g.lines = append(g.lines, "Disallow: /api/")
	}
	if in.has(bRobotsDenyNodeInfo) {
		g := star()
		g.lines = append(g.lines, "Disallow: /.well-known/nodeinfo", "Disallow: /nodeinfo/")
		if p := highestNodeinfo(nodeinfoLinks(in.kind, in.version)).path; !strings.HasPrefix(p, "/nodeinfo/") {
			g.lines = append(g.lines, "Disallow: "+p)
		}
	}
	if in.has(bRobotsDenyAll) {
		if in.denyAllAgent {
			groups = append(groups, &robotsGroup{agents: []string{AgentToken}, lines: []string{"Disallow: /"}})
		} else {
			g := star()
			g.lines = append(g.lines, "Disallow: /")
		}
	}
	if len(groups) == 0 {
		return http.StatusNotFound, "Not Found\n"
	}
	var b strings.Builder
	b.WriteString(header)
	for i, g := range groups {
		if i > 0 {
			b.WriteString("\n")
		}
		if g.comment != "" {
			b.WriteString(g.comment + "\n")
		}
		for _, a := range g.agents {
			b.WriteString("User-agent: " + a + "\n")
		}
		for _, l := range g.lines {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString(footer)
	return http.StatusOK, b.String()
}

// RobotsAllows evaluates a robots.txt answer the way the truth expects the
// crawler to (RFC 9309): 5xx disallows everything, other non-2xx answers
// allow everything; otherwise the groups naming agent (case-insensitive)
// apply, or the "*" groups when none does; among their rules the longest
// matching path prefix wins and Allow wins a tie; no matching rule allows.
// Rules in the simulation never use wildcards.
func RobotsAllows(status int, body, agent, path string) bool {
	if status >= 500 {
		return false
	}
	if status < 200 || status > 299 {
		return true
	}
	type rule struct {
		allow bool
		path  string
	}
	type group struct {
		agents []string
		rules  []rule
	}
	var groups []*group
	var cur *group
	lastWasAgent := false
	for _, line := range strings.Split(body, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		switch k {
		case "user-agent":
			if cur == nil || !lastWasAgent {
				cur = &group{}
				groups = append(groups, cur)
			}
			cur.agents = append(cur.agents, strings.ToLower(v))
			lastWasAgent = true
		case "allow", "disallow":
			lastWasAgent = false
			if cur != nil && v != "" {
				cur.rules = append(cur.rules, rule{allow: k == "allow", path: v})
			}
		default:
			lastWasAgent = false
		}
	}
	pick := func(name string) []rule {
		var rules []rule
		found := false
		for _, g := range groups {
			for _, a := range g.agents {
				if a == name {
					found = true
					rules = append(rules, g.rules...)
					break
				}
			}
		}
		if !found {
			return nil
		}
		if rules == nil {
			rules = []rule{}
		}
		return rules
	}
	rules := pick(strings.ToLower(agent))
	if rules == nil {
		rules = pick("*")
	}
	best, allow := -1, true
	for _, r := range rules {
		if !strings.HasPrefix(path, r.path) {
			continue
		}
		if len(r.path) > best || len(r.path) == best && r.allow {
			best, allow = len(r.path), r.allow
		}
	}
	return allow
}
