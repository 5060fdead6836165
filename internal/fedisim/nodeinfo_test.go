package fedisim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// niDoc is the part of a NodeInfo document the tests compare, parsed as
// leniently as the crawler must.
type niDoc struct {
	Version  string `json:"version"`
	Software struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"software"`
	OpenRegistrations json.RawMessage `json:"openRegistrations"`
	Usage             struct {
		Users struct {
			Total          *int64 `json:"total"`
			ActiveMonth    *int64 `json:"activeMonth"`
			ActiveHalfyear *int64 `json:"activeHalfyear"`
		} `json:"users"`
		LocalPosts *int64 `json:"localPosts"`
	} `json:"usage"`
	Metadata json.RawMessage `json:"metadata"`
}

type niLinks struct {
	Links []struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"links"`
}

// discover fetches the well-known document and returns the highest
// NodeInfo link.
func discover(t *testing.T, s *Sim, host string) (version, href string, r response) {
	t.Helper()
	r = get(t, s, "https://"+host+"/.well-known/nodeinfo")
	if r.status != http.StatusOK {
		return "", "", r
	}
	var l niLinks
	decode(t, r.body, &l)
	for _, link := range l.Links {
		v, ok := strings.CutPrefix(link.Rel, nodeinfoRelPrefix)
		if ok && v > version {
			version, href = v, link.Href
		}
	}
	return version, href, r
}

func TestNodeInfoMatchesTruth(t *testing.T) {
	s := sharedSim(t)
	softwares := map[string]bool{}
	for _, it := range s.Truth().Instances {
		if it.Has(BehaviourDown) || it.Has(BehaviourHTTP503) {
			continue
		}
		version, href, r := discover(t, s, it.Host)
		switch {
		case it.Has(BehaviourNodeInfo404):
			require.Equal(t, http.StatusNotFound, r.status, it.Host)
			require.Empty(t, it.NodeInfoPath)
			continue
		case it.Has(BehaviourRedirectTrap):
			require.Equal(t, http.StatusFound, r.status, it.Host)
			continue
		}
		require.Equal(t, http.StatusOK, r.status, it.Host)
		require.Equal(t, it.NodeInfoVersion, version, it.Host)
		u, err := url.Parse(href)
		require.NoError(t, err)
		if it.Has(BehaviourNodeInfoOffsite) {
			require.NotEqual(t, it.Host, u.Host, it.Host)
			continue
		}
		require.Equal(t, it.Host, u.Host)
		require.Equal(t, it.NodeInfoPath, u.Path)

		doc := get(t, s, href)
		require.Equal(t, http.StatusOK, doc.status, href)
		var d niDoc
		if it.Has(BehaviourNodeInfoBroken) {
			require.Error(t, json.Unmarshal(doc.body, &d), it.Host)
			continue
		}
		decode(t, doc.body, &d)
		softwares[it.Software] = true
		require.Equal(t, it.NodeInfoVersion, d.Version, it.Host)
		require.Equal(t, it.Software, strings.ToLower(d.Software.Name), it.Host)
		require.Equal(t, it.Version, d.Software.Version, it.Host)
		require.Equal(t, it.UsersTotal, d.Usage.Users.Total, it.Host)
		require.Equal(t, it.UsersActiveMonth, d.Usage.Users.ActiveMonth, it.Host)
		require.Equal(t, it.UsersActiveHalfyear, d.Usage.Users.ActiveHalfyear, it.Host)
		require.Equal(t, it.LocalPosts, d.Usage.LocalPosts, it.Host)
		require.Equal(t, it.OpenRegistrations, lenientBool(t, d.OpenRegistrations), it.Host)

		var meta struct {
			NodeName *string `json:"nodeName"`
			Private  bool    `json:"private"`
		}
		if len(d.Metadata) > 0 && d.Metadata[0] == '{' {
			decode(t, d.Metadata, &meta)
		}
		title := ""
		if meta.NodeName != nil {
			title = *meta.NodeName
		}
		require.Equal(t, it.Title, title, it.Host)
		require.Equal(t, it.Private, meta.Private, it.Host)
		if it.Has(BehaviourNodeInfoNoIndex) {
			require.Equal(t, "noindex", doc.header.Get("X-Robots-Tag"))
		} else {
			require.NotContains(t, doc.header.Get("X-Robots-Tag"), "noindex", it.Host)
		}
		if it.UsersActiveMonth != nil && !it.Has(BehaviourStatsInconsistent) {
			require.LessOrEqual(t, *it.UsersActiveMonth, *it.UsersActiveHalfyear, it.Host)
			require.LessOrEqual(t, *it.UsersActiveHalfyear, *it.UsersTotal, it.Host)
		}
	}
	for _, sw := range []string{"mastodon", "pleroma", "akkoma", "misskey", "sharkey", "firefish", "fedired",
		"gotosocial", "lemmy", "peertube", "pixelfed", "writefreely", "snac", "friendica", "wordpress"} {
		require.True(t, softwares[sw], "no parsable NodeInfo of %s", sw)
	}
}

func lenientBool(t *testing.T, raw json.RawMessage) bool {
	t.Helper()
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	decode(t, raw, &s)
	return strings.EqualFold(s, "true")
}

// TestNodeInfoQuirks pins the documented real-world quirks.
func TestNodeInfoQuirks(t *testing.T) {
	s := New(Options{Seed: 11, Instances: 3000, NoHostile: true})
	w := s.world
	find := func(ok func(in *instance) bool) *instance {
		for _, in := range w.instances[3:] {
			if ok(in) {
				return in
			}
		}
		require.FailNow(t, "no instance with the quirk")
		return nil
	}
	body := func(in *instance) string {
		best := highestNodeinfo(nodeinfoLinks(in.kind, in.version))
		r := get(t, s, "https://"+in.host+best.path)
		require.Equal(t, http.StatusOK, r.status)
		return string(r.body)
	}
	cases := []struct {
		name string
		in   *instance
		want []string
		not  []string
	}{
		{"mastodon 4.0rc metadata array", find(func(in *instance) bool { return in.version == "4.0.0rc2" }), []string{`"metadata":[]`}, nil},
		{"mastodon 3.5 empty metadata", find(func(in *instance) bool { return in.version == "3.5.19" }), []string{`"metadata":{}`}, []string{"nodeName"}},
		{"akkoma string registrations", find(func(in *instance) bool { return in.kind == swAkkoma && in.version == "3.0.0" }), []string{`"openRegistrations":"FALSE"`}, nil},
		{"pleroma sorted keys", find(func(in *instance) bool { return in.kind == swPleroma }), []string{`{"metadata":{"accountActivationRequired"`}, nil},
		{"lemmy 0.18 omits services and metadata", find(func(in *instance) bool { return in.version == "0.18.5" }), []string{`"software":{"name":"lemmy"`}, []string{"services", "metadata"}},
		{"fedired capitalised", find(func(in *instance) bool { return in.kind == swFedired }), []string{`"name":"Fedired"`}, nil},
		{"gotosocial no active counts", find(func(in *instance) bool { return in.kind == swGoToSocial }), []string{`"users":{"total":`}, []string{"activeMonth"}},
		{"wordpress escaped slashes", find(func(in *instance) bool { return in.kind == swWordPress }), []string{`https:\/\/`}, nil},
		{"wordpress without localPosts", find(func(in *instance) bool { return in.kind == swWordPress && in.noPosts }), nil, []string{"localPosts"}},
		{"snac pretty 2.1", find(func(in *instance) bool { return in.kind == swSnac }), []string{"{\n    \"version\": \"2.1\""}, nil},
		{"misskey unset name is null", find(func(in *instance) bool { return in.kind == swMisskey && !in.nodeName }), []string{`"nodeName":null`}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := body(tc.in)
			for _, w := range tc.want {
				require.Contains(t, b, w)
			}
			for _, n := range tc.not {
				require.NotContains(t, b, n)
			}
		})
	}
	// href before rel in Pleroma's discovery document.
	pl := find(func(in *instance) bool { return in.kind == swPleroma })
	require.Contains(t, string(get(t, s, "https://"+pl.host+"/.well-known/nodeinfo").body), `{"links":[{"href":"https://`+pl.host+`/nodeinfo/2.0.json","rel"`)
	// Some IDN hosts in punycode exist.
	idn := find(func(in *instance) bool { return strings.Contains(in.host, "xn--") })
	require.True(t, ValidHostName(idn.host))
}
