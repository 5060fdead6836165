package fedisim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoIndexHeaderServed: every instance whose truth has nodeinfo_noindex
// serves its NodeInfo document with a noindex X-Robots-Tag, whatever other
// X-Robots-Tag its program sends (GoToSocial sends its own).
func TestNoIndexHeaderServed(t *testing.T) {
	sim := New(Options{Seed: 7, Instances: 3000})
	var checked int
	kinds := map[string]bool{}
	for _, in := range sim.Truth().Instances {
		if !in.Has(BehaviourNodeInfoNoIndex) || in.NodeInfoPath == "" || in.Has(BehaviourDown) || in.Has(BehaviourHTTP503) {
			continue
		}
		r := httptest.NewRequest(http.MethodGet, "https://"+in.Host+in.NodeInfoPath, nil)
		w := httptest.NewRecorder()
		sim.Handler().ServeHTTP(w, r)
		if w.Code == http.StatusTooManyRequests { // the ratelimit behaviour's first answer
			w = httptest.NewRecorder()
			sim.Handler().ServeHTTP(w, r)
		}
		require.Equal(t, http.StatusOK, w.Code, in.Host)
		require.Contains(t, strings.ToLower(strings.Join(w.Header().Values("X-Robots-Tag"), ",")), "noindex", in.Host)
		checked++
		kinds[in.Software] = true
	}
	require.Positive(t, checked)
	require.True(t, kinds["gotosocial"], "a GoToSocial instance with nodeinfo_noindex is among them")
}
