package robots

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ourAgent is a User-Agent header of the kind fedilens sends; Group must
// reduce it to its product token.
const ourAgent = "fedilens/0.1 (+https://fedilens.example/about)"

// gtsRobots follows the structure of GoToSocial's robots.txt with
// instance-stats-mode unset (internal/api/util/robots.go): AI crawlers
// listed one per line and refused, a "*" group with a crawl delay, and
// NodeInfo disallowed in a trailing block.
const gtsRobots = `# GoToSocial robots.txt -- to edit, see internal/api/util/robots.go

# AI scrapers and the like.
User-agent: AI2Bot
User-agent: GPTBot
User-agent: iaskspider/2.0
User-agent: Kangaroo Bot
User-agent: Sidetrade indexer bot
Disallow: /

# Rules for everything else.
User-agent: *
Crawl-delay: 500

# API endpoints.
Disallow: /api/

# Fedi S2S API endpoints.
Disallow: /users/
Disallow: /emoji/

# Settings panels.
Disallow: /admin
Disallow: /settings/

# Webfinger endpoint.
Disallow: /.well-known/webfinger

# Disallow nodeinfo
Disallow: /.well-known/nodeinfo
Disallow: /nodeinfo/
`

// mastodonRobots follows the structure of Mastodon's public/robots.txt: a
// "*" group first, then AI crawlers with comment lines and a blank line
// between their user-agent lines and the rule they share.
const mastodonRobots = `# See http://www.robotstxt.org/robotstxt.html for documentation on how to use the robots.txt file

User-agent: *
Disallow: /media_proxy/
Disallow: /interact/

###########################################################
# AI Bots
###########################################################

# OpenAI Scraper/Crawler/Assistant
User-agent: GPTBot
# "When users ask ChatGPT a question, it may visit a web page"
User-agent: ChatGPT-User

# Common Crawl
User-agent: CCBot

# Anthropic
User-agent: anthropic-ai
User-agent: ClaudeBot

Disallow: /
`

// rfcRobots is the example of RFC 9309 section 5.1.
const rfcRobots = `User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
`

type check struct {
	agent   string
	path    string
	allowed bool
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		checks []check
	}{
		{
			name: "rfc 9309 5.1",
			body: rfcRobots,
			checks: []check{
				{"foobot", "/example/page.html", true},
				{"foobot", "/example/allowed.gif", true},
				{"foobot", "/example/other.html", false},
				{"foobot", "/", false},
				{"FooBot/2.1", "/publications/", false},
				{"barbot", "/example/page.html", false},
				{"barbot", "/example/other.html", true},
				{"bazbot", "/example/page.html", false},
				{"bazbot", "/x.gif", true},
				{"quxbot", "/example/page.html", true},
				{"quxbot", "/x.gif", true},
				{"otherbot", "/x.gif", false},
				{"otherbot", "/x.gif?y", true},
				{"otherbot", "/example/", false},
				{"otherbot", "/publications/", true},
				{"otherbot", "/publications/a.gif", true}, // the longer Allow wins
				{"otherbot", "/anything", true},
			},
		},
		{
			name: "rfc 9309 5.2 longest match",
			body: "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n",
			checks: []check{
				{"foobot", "/example/page/", true},
				{"foobot", "/example/page/x", true},
				{"foobot", "/example/page/disallowed.gif", false},
				{"foobot", "/example/page/disallowed.gifs", false},
			},
		},
		{
			name: "gotosocial default",
			body: gtsRobots,
			checks: []check{
				{ourAgent, "/.well-known/nodeinfo", false},
				{ourAgent, "/nodeinfo/2.0", false},
				{ourAgent, "/nodeinfo/2.1.json", false},
				{ourAgent, "/api/v1/instance", false},
				{ourAgent, "/api/v1/instance/peers", false},
				{ourAgent, "/users/alice/outbox", false},
				{ourAgent, "/.well-known/webfinger?resource=acct:alice@x", false},
				{ourAgent, "/.well-known/host-meta", true},
				{ourAgent, "/@alice", true},
				{ourAgent, "/administrator", false},
				{ourAgent, "/robots.txt", true},
				{"GPTBot", "/@alice", false},
				{"gptbot/1.0", "/", false},
				{"iaskspider", "/about", false},
				{"Kangaroo", "/about", false},
				{"Sidetrade", "/about", false},
				{"GPTBot", "/robots.txt", true},
			},
		},
		{
			name: "mastodon default",
			body: mastodonRobots,
			checks: []check{
				{ourAgent, "/media_proxy/1/original", false},
				{ourAgent, "/interact/1", false},
				{ourAgent, "/api/v1/instance", true},
				{ourAgent, "/api/v1/instance/peers", true},
				{ourAgent, "/.well-known/nodeinfo", true},
				{ourAgent, "/nodeinfo/2.0", true},
				{ourAgent, "/media_proxy", true},
				{"GPTBot", "/api/v1/instance", false},
				{"ChatGPT-User", "/", false},
				{"ccbot", "/about", false},
				{"ClaudeBot", "/about", false},
				{"anthropic-ai", "/about", false},
				{"ClaudeBot", "/robots.txt", true},
			},
		},
		{
			name: "allow wins a tie",
			body: "User-agent: *\nDisallow: /folder\nAllow: /folder\n",
			checks: []check{
				{"x", "/folder/page", true},
			},
		},
		{
			name: "longest match counts wildcards",
			body: "User-agent: *\nAllow: /page\nDisallow: /*.html\n",
			checks: []check{
				{"x", "/page.html", false},
				{"x", "/page", true},
				{"x", "/pages", true},
			},
		},
		{
			name: "end anchor",
			body: "User-agent: *\nAllow: /$\nDisallow: /\nAllow: /*.php$\n",
			checks: []check{
				{"x", "/", true},
				{"x", "/page", false},
				{"x", "/index.php", true},
				{"x", "/dir/index.php", true},
				{"x", "/index.php5", false},
				{"x", "/index.php?x=1", false},
			},
		},
		{
			name: "wildcards",
			body: "User-agent: *\nDisallow: /fish*\nDisallow: /*/private/*.json\nDisallow: /a*b*c\nDisallow: /end*$\nDisallow: /**x\n",
			checks: []check{
				{"x", "/fish", false},
				{"x", "/fishheads/yummy.html", false},
				{"x", "/Fish", true},
				{"x", "/u/private/doc.json", false},
				{"x", "/u/v/private/x/doc.json?z", false},
				{"x", "/u/public/doc.json", true},
				{"x", "/abc", false},
				{"x", "/aXbYc", false},
				{"x", "/acb", true},
				{"x", "/end", false},
				{"x", "/endless", false},
				{"x", "/x", false},
				{"x", "/yyx", false},
				{"x", "/yyy", true},
			},
		},
		{
			name: "anchored wildcard needs room for the tail",
			body: "User-agent: *\nDisallow: /a*ab$\n",
			checks: []check{
				{"x", "/ab", true}, // "/a" and "ab" may not overlap
				{"x", "/aab", false},
				{"x", "/axab", false},
				{"x", "/ab/", true},
			},
		},
		{
			name: "percent encoding",
			body: "User-agent: *\n" +
				"Disallow: /foo/bar/%62%61%7A\n" +
				"Disallow: /foo/bar/ツ\n" +
				"Disallow: /path/file-with-a-%2A.html\n" +
				"Disallow: /path/foo-%24\n" +
				"Disallow: /q?baz=https://foo.bar\n" +
				"Disallow: /lower/%e3%83%85\n",
			checks: []check{
				{"x", "/foo/bar/baz", false},
				{"x", "/foo/bar/%62az", false},
				{"x", "/foo/bar/%E3%83%84", false},
				{"x", "/foo/bar/%e3%83%84", false},
				{"x", "/foo/bar/ツ", false},
				{"x", "/path/file-with-a-*.html", false},
				{"x", "/path/file-with-a-%2A.html", false},
				{"x", "/path/file-with-a-foo.html", true},
				{"x", "/path/foo-$", false},
				{"x", "/path/foo-", true},
				{"x", "/q?baz=https%3A%2F%2Ffoo.bar", false},
				{"x", "/lower/%E3%83%85", false},
				{"x", "/lower/%E3%83%86", true},
			},
		},
		{
			name: "literal dollar inside a pattern",
			body: "User-agent: *\nDisallow: /a$b\n",
			checks: []check{
				{"x", "/a$b", false},
				{"x", "/a$bc", false},
				{"x", "/a", true},
			},
		},
		{
			name: "empty disallow allows",
			body: "User-agent: *\nDisallow:\n",
			checks: []check{
				{"x", "/", true},
				{"x", "/anything", true},
			},
		},
		{
			name: "robots.txt always allowed",
			body: "User-agent: *\nDisallow: /\nDisallow: /robots.txt\n",
			checks: []check{
				{"x", "/robots.txt", true},
				{"x", "/robots.txt?x=1", true},
				{"x", "/robots.txt.bak", false},
				{"x", "/", false},
			},
		},
		{
			name: "paths without leading slash",
			body: "User-agent: *\nDisallow: admin\n",
			checks: []check{
				{"x", "/admin/x", false},
				{"x", "admin/x", false},
				{"x", "", true},
				{"x", "/admin#frag", false},
			},
		},
		{
			name: "byte order mark and crlf",
			body: "\xef\xbb\xbfUser-agent: *\r\nDisallow: /private/\r\nCrawl-delay: 2\r\n",
			checks: []check{
				{"x", "/private/a", false},
				{"x", "/public", true},
			},
		},
		{
			name: "bare carriage returns",
			body: "User-agent: *\rDisallow: /private/\r",
			checks: []check{
				{"x", "/private/a", false},
			},
		},
		{
			name: "comments and garbage",
			body: "# header\n" +
				"<html><body>not a robots file</body></html>\n" +
				"Disallow: /zz-before-any-group\n" +
				"User-agent: * # everyone\n" +
				"Sitemap: https://x.example/sitemap.xml\n" +
				"Disallow: /a # trailing comment\n" +
				"Disallow: /b junk after space\n" +
				"Nonsense: /c\n" +
				"::::\n" +
				"Disallow /nocolon\n" +
				"DISALLOW: /shout\n" +
				"dissallow: /typo\n" +
				"   Disallow   :   /spaced   \n",
			checks: []check{
				{"x", "/zz-before-any-group", true},
				{"x", "/a", false},
				{"x", "/a # trailing comment", false},
				{"x", "/b", false},
				{"x", "/c", true},
				{"x", "/nocolon", false},
				{"x", "/shout", false},
				{"x", "/typo", false},
				{"x", "/spaced", false},
				{"x", "/other", true},
			},
		},
		{
			name: "merged groups for one agent",
			body: "User-agent: fedilens\nDisallow: /one\n\nUser-agent: *\nDisallow: /\n\nUser-agent: FEDILENS\nDisallow: /two\n",
			checks: []check{
				{ourAgent, "/one", false},
				{ourAgent, "/two", false},
				{ourAgent, "/three", true},
				{"other", "/three", false},
			},
		},
		{
			name: "merged star groups",
			body: "User-agent: *\nDisallow: /one\n\nUser-agent: bot\nDisallow: /\n\nUser-agent: *\nDisallow: /two\n",
			checks: []check{
				{ourAgent, "/one", false},
				{ourAgent, "/two", false},
				{ourAgent, "/three", true},
			},
		},
		{
			name: "specific group replaces star",
			body: "User-agent: *\nDisallow: /\n\nUser-agent: fedilens\nDisallow: /private\n",
			checks: []check{
				{ourAgent, "/", true},
				{ourAgent, "/private", false},
			},
		},
		{
			name: "empty specific group allows all",
			body: "User-agent: *\nDisallow: /\n\nUser-agent: fedilens\n",
			checks: []check{
				{ourAgent, "/x", true},
			},
		},
		{
			name: "token must match exactly",
			body: "User-agent: fedilensbot\nDisallow: /\n\nUser-agent: fedi\nDisallow: /\n\nUser-agent: fedilens2\nDisallow: /\n",
			checks: []check{
				{ourAgent, "/x", true},
			},
		},
		{
			name: "no groups allows all",
			body: "Sitemap: https://x.example/s.xml\n",
			checks: []check{
				{ourAgent, "/", true},
			},
		},
		{
			name: "crawl-delay ends the agent list",
			body: "User-agent: a\nCrawl-delay: 1\nUser-agent: b\nDisallow: /\n",
			checks: []check{
				{"a", "/x", true},
				{"b", "/x", false},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Parse([]byte(tc.body))
			for _, c := range tc.checks {
				require.Equal(t, c.allowed, r.Group(c.agent).Allowed(c.path), "agent %q path %q", c.agent, c.path)
			}
		})
	}
}

func TestCrawlDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		body  string
		agent string
		want  time.Duration
	}{
		{name: "gotosocial", body: gtsRobots, agent: ourAgent, want: 500 * time.Second},
		{name: "gotosocial ai group has none", body: gtsRobots, agent: "GPTBot", want: 0},
		{name: "none", body: mastodonRobots, agent: ourAgent, want: 0},
		{name: "fractional", body: "User-agent: *\nCrawl-delay: 0.5\n", agent: "x", want: 500 * time.Millisecond},
		{name: "misspelt key", body: "User-agent: *\nCrawldelay: 3\n", agent: "x", want: 3 * time.Second},
		{name: "junk value", body: "User-agent: *\nCrawl-delay: soon\n", agent: "x", want: 0},
		{name: "negative", body: "User-agent: *\nCrawl-delay: -5\n", agent: "x", want: 0},
		{name: "nan", body: "User-agent: *\nCrawl-delay: NaN\n", agent: "x", want: 0},
		{name: "huge clamped", body: "User-agent: *\nCrawl-delay: 1e300\n", agent: "x", want: MaxCrawlDelay},
		{name: "infinite clamped", body: "User-agent: *\nCrawl-delay: +Inf\n", agent: "x", want: MaxCrawlDelay},
		{name: "merged keeps the longest", body: "User-agent: x\nCrawl-delay: 2\n\nUser-agent: x\nCrawl-delay: 7\n\nUser-agent: x\nCrawl-delay: 1\n", agent: "x", want: 7 * time.Second},
		{name: "before any group ignored", body: "Crawl-delay: 9\nUser-agent: *\nDisallow: /x\n", agent: "x", want: 0},
		{name: "star not used when specific exists", body: "User-agent: *\nCrawl-delay: 9\n\nUser-agent: x\nDisallow: /y\n", agent: "x", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Parse([]byte(tc.body)).Group(tc.agent).CrawlDelay())
		})
	}
}

func TestAllowAllDisallowAll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		r       *Robots
		path    string
		allowed bool
	}{
		{name: "allow all root", r: AllowAll(), path: "/", allowed: true},
		{name: "allow all deep", r: AllowAll(), path: "/nodeinfo/2.0", allowed: true},
		{name: "disallow all root", r: DisallowAll(), path: "/", allowed: false},
		{name: "disallow all deep", r: DisallowAll(), path: "/nodeinfo/2.0", allowed: false},
		{name: "disallow all keeps robots.txt", r: DisallowAll(), path: "/robots.txt", allowed: true},
		{name: "nil robots allows", r: nil, path: "/x", allowed: true},
		{name: "empty file allows", r: Parse(nil), path: "/x", allowed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.allowed, tc.r.Group(ourAgent).Allowed(tc.path))
		})
	}
	var g *Group
	require.True(t, g.Allowed("/x"))
	require.Zero(t, g.CrawlDelay())
}

func TestLimits(t *testing.T) {
	t.Parallel()

	t.Run("bytes past MaxBytes are ignored", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("User-agent: *\nDisallow: /early\n")
		for b.Len() < MaxBytes {
			b.WriteString("# padding padding padding padding padding padding\n")
		}
		b.WriteString("Disallow: /late\n")
		g := Parse([]byte(b.String())).Group("x")
		require.False(t, g.Allowed("/early"))
		require.True(t, g.Allowed("/late"))
	})

	t.Run("line cut by MaxBytes is dropped", func(t *testing.T) {
		t.Parallel()
		head := "User-agent: *\nDisallow: /\n"
		pad := strings.Repeat("#", MaxBytes-len(head)-len("Allow: /")-1) + "\n"
		body := head + pad + "Allow: /private-area\n"
		require.Greater(t, len(body), MaxBytes)
		g := Parse([]byte(body)).Group("x")
		require.False(t, g.Allowed("/"), "the cut rule must not read as Allow: /")
		require.False(t, g.Allowed("/private-area"))
	})

	t.Run("single huge line", func(t *testing.T) {
		t.Parallel()
		body := "User-agent: *\nDisallow: /" + strings.Repeat("a", 2*MaxBytes)
		g := Parse([]byte(body)).Group("x")
		require.True(t, g.Allowed("/a"))
	})

	t.Run("rules past MaxRules are ignored", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("User-agent: *\n")
		for i := 0; i < MaxRules+10; i++ {
			fmt.Fprintf(&b, "Disallow: /r%d$\n", i)
		}
		g := Parse([]byte(b.String())).Group("x")
		require.Len(t, g.rules, MaxRules)
		require.False(t, g.Allowed(fmt.Sprintf("/r%d", MaxRules-1)))
		require.True(t, g.Allowed(fmt.Sprintf("/r%d", MaxRules)))
	})

	t.Run("overlong pattern is dropped", func(t *testing.T) {
		t.Parallel()
		body := "User-agent: *\nDisallow: /" + strings.Repeat("b", MaxPatternLen) + "\nDisallow: /short\n"
		g := Parse([]byte(body)).Group("x")
		require.Len(t, g.rules, 1)
		require.False(t, g.Allowed("/short"))
	})

	t.Run("agents past MaxAgents are ignored", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		for i := 0; i < MaxAgents; i++ {
			fmt.Fprintf(&b, "User-agent: bot%d\n", i)
		}
		b.WriteString("User-agent: fedilens\nDisallow: /\n")
		require.True(t, Parse([]byte(b.String())).Group(ourAgent).Allowed("/x"))
	})

	t.Run("wildcard heavy rules stay fast", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("User-agent: *\n")
		for i := 0; i < 2000; i++ {
			b.WriteString("Disallow: /" + strings.Repeat("a*", 200) + "b$\n")
		}
		g := Parse([]byte(b.String())).Group("x")
		path := "/" + strings.Repeat("a", 4000)
		start := time.Now()
		require.True(t, g.Allowed(path))
		require.Less(t, time.Since(start), 2*time.Second)
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{gtsRobots, mastodonRobots, rfcRobots, "", "\xef\xbb\xbf", "User-agent: *\nDisallow: /*%\n", "User-agent:*\rAllow:/$\r\nDisallow:*"} {
		f.Add([]byte(s), "/a%2Fb*$")
	}
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		r := Parse(body)
		for _, agent := range []string{ourAgent, "*", "", "GPTBot"} {
			g := r.Group(agent)
			_ = g.Allowed(path)
			_ = g.Allowed("/")
			if !g.Allowed("/robots.txt") {
				t.Fatalf("/robots.txt refused for %q", agent)
			}
			if d := g.CrawlDelay(); d < 0 || d > MaxCrawlDelay {
				t.Fatalf("crawl delay %v out of range", d)
			}
		}
	})
}
