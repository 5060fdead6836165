package dashboard

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// escapedXSS is xss as html/template writes it in text.
const escapedXSS = `&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`

// TestInstanceDocumentSection: the instance page shows what the instance
// says about itself, every remote string escaped, and no section when no
// instance document was read.
func TestInstanceDocumentSection(t *testing.T) {
	store, search := newFakes()
	evil := store.instances["evil.example"]
	evil.InstanceTitle, evil.Description = xss, "First line "+xss+"\n\nSecond line"
	evil.Languages, evil.Rules = []string{"en", "de"}, []string{"Be kind " + xss, "No spam"}
	evil.ContactEmail, evil.ContactAccount, evil.RegistrationMode = `admin"><b>@evil.example`, "boss@evil.example", model.RegistrationApproval
	store.instances["evil.example"] = evil
	srv := newTestServer(t, store, search, nil, nil)

	resp, body := get(t, srv, "/instances/evil.example")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `<h2 id="about">About</h2>`)
	require.Contains(t, body, `<p class="about-text" id="about-description">First line `+escapedXSS+"\n\nSecond line</p>")
	require.Contains(t, body, `<dd id="about-registrations">open, with approval</dd>`)
	require.Contains(t, body, `<dd id="about-languages">en, de</dd>`)
	require.Contains(t, body, `<dd id="about-account">@boss@evil.example</dd>`)
	require.Contains(t, body, `<dd id="about-email">admin&#34;&gt;&lt;b&gt;@evil.example</dd>`)
	require.Contains(t, body, "<li>Be kind "+escapedXSS+"</li>")
	require.Contains(t, body, "<li>No spam</li>")
	require.Contains(t, body, "“"+escapedXSS+"”")
	require.NotContains(t, body, "<img")
	require.NotContains(t, body, "<b>")
	require.Equal(t, 2, strings.Count(body, "<script"), "only the two local scripts")

	_, body = get(t, srv, "/instances/quiet.example")
	require.NotContains(t, body, `id="about"`)
}
