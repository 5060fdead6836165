package fedisim

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInstanceDocTruth checks rule 6's choice of document against the
// programs and robots.txt, and that each chosen document really serves
// the truth's title, contact address and registration flag.
func TestInstanceDocTruth(t *testing.T) {
	s := sharedSim(t)
	_, ok := s.InstanceDoc("nowhere.example")
	require.False(t, ok)
	paths := map[string]int{}
	for _, it := range s.Truth().Census(s.Seeds()) {
		doc, ok := s.InstanceDoc(it.Host)
		require.True(t, ok)
		paths[doc.Path]++
		switch {
		case it.Software == "writefreely" || it.Software == "wordpress" || it.Software == "gotosocial":
			require.Empty(t, doc.Path, it.Host)
		case it.Has(BehaviourRobotsDenyAPI):
			require.Empty(t, doc.Path, it.Host)
		case it.Software == "mastodon" && versionAtLeast(it.Version, 4, 0):
			require.Equal(t, "/api/v2/instance", doc.Path, it.Host)
		}
		if doc.Path == "" {
			require.Equal(t, InstanceDoc{}, doc, it.Host)
			continue
		}
		require.True(t, it.Allows(doc.Path), it.Host)
		require.Equal(t, it.InstanceTitle, doc.Title, it.Host)
		var r response
		if doc.Path == "/api/meta" {
			r = postJSON(t, s, "https://"+it.Host+doc.Path, "{}")
		} else {
			r = get(t, s, "https://"+it.Host+doc.Path)
		}
		require.Equal(t, http.StatusOK, r.status, "%s%s", it.Host, doc.Path)
		var served map[string]any
		decode(t, r.body, &served)
		for _, want := range []string{doc.Title, doc.Description, doc.ContactEmail} {
			if want != "" {
				require.True(t, servesString(served, want), "%s%s does not serve %q", it.Host, doc.Path, want)
			}
		}
		require.Contains(t, []string{"open", "approval", "closed"}, doc.RegistrationMode)
	}
	for _, p := range []string{"/api/v2/instance", "/api/v1/instance", "/api/meta", "/api/v3/site", "/api/v1/config", ""} {
		require.Positive(t, paths[p], "%q: %v", p, paths)
	}
}

// servesString reports whether a decoded JSON value holds s anywhere.
func servesString(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return x == s
	case []any:
		for _, e := range x {
			if servesString(e, s) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if servesString(e, s) {
				return true
			}
		}
	}
	return false
}
