package api

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// TestInstanceDocumentJSON: the instance document fields appear as one
// object when a document was read, and not at all otherwise.
func TestInstanceDocumentJSON(t *testing.T) {
	store, search := newFakes()
	doc := store.instances["social.example"]
	doc.InstanceTitle, doc.Description = `<b>Social</b> "Example"`, "Line 1\n\nLine 2 & more"
	doc.Languages, doc.Rules = []string{"en", "de"}, []string{"Be kind.", "No <script>."}
	doc.ContactEmail, doc.ContactAccount, doc.RegistrationMode = "admin@social.example", "admin@social.example", model.RegistrationApproval
	store.instances["social.example"] = doc
	onlyMode := store.instances["quiet.example"]
	onlyMode.RegistrationMode = model.RegistrationClosed
	store.instances["quiet.example"] = onlyMode
	srv := newServer(t, store, search, Options{})

	resp, body := get(t, srv, "/api/v1/instances/social.example", nil)
	require.Equal(t, 200, resp.StatusCode, string(body))
	var got struct {
		Instance map[string]json.RawMessage `json:"instance"`
		History  []map[string]json.RawMessage
	}
	require.NoError(t, json.Unmarshal(body, &got))
	require.JSONEq(t, `{"title":"<b>Social</b> \"Example\"","description":"Line 1\n\nLine 2 & more","languages":["en","de"],
		"rules":["Be kind.","No <script>."],"contact_email":"admin@social.example","contact_account":"admin@social.example",
		"registration_mode":"approval"}`, string(got.Instance["instance_document"]))
	require.NotEmpty(t, got.History)
	for _, h := range got.History {
		require.NotContains(t, h, "instance_document", "the fake's history snapshots have no document")
	}

	resp, body = get(t, srv, "/api/v1/instances/quiet.example", nil)
	require.Equal(t, 200, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, &got))
	require.JSONEq(t, `{"title":"","description":"","languages":[],"rules":[],"contact_email":"","contact_account":"",
		"registration_mode":"closed"}`, string(got.Instance["instance_document"]))

	require.Nil(t, newInstanceDocJSON(model.Snapshot{Host: "x.example", Title: "NodeInfo only"}))
}
