package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/crawler"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
)

// checkInstanceDocuments compares the stored title and instance document
// fields of every census instance with the simulator: the document's
// fields, sanitised, when rule 6 (fedisim.InstanceDoc) lets the crawler
// read it, and nothing otherwise; the title is NodeInfo's name, or where
// that is empty the instance document's (InstanceTruth.InstanceTitle).
// It also checks that the census exercises every kind of document.
func checkInstanceDocuments(t *testing.T, sim *fedisim.Sim, want map[string]fedisim.InstanceTruth, got map[string]model.Instance) {
	t.Helper()
	type fields struct {
		Title, InstanceTitle, Description string
		Languages, Rules                  []string
		ContactEmail, ContactAccount      string
		RegistrationMode                  string
	}
	paths := map[string]int{}
	var fromDocument int
	for host, w := range want {
		doc, ok := sim.InstanceDoc(host)
		require.True(t, ok, host)
		paths[doc.Path]++
		exp := fields{Title: sanitize.PlainLine(w.Title, 200)}
		if doc.Path != "" {
			exp.InstanceTitle = sanitize.PlainLine(w.InstanceTitle, crawler.MaxInstanceTitleRunes)
			exp.Description = sanitize.Text(doc.Description)
			exp.Languages = doc.Languages
			for _, r := range doc.Rules {
				exp.Rules = append(exp.Rules, sanitize.PlainLine(r, crawler.MaxRuleRunes))
			}
			exp.ContactEmail, exp.ContactAccount, exp.RegistrationMode = doc.ContactEmail, doc.ContactAccount, doc.RegistrationMode
			if exp.Title == "" && exp.InstanceTitle != "" {
				exp.Title = exp.InstanceTitle
				fromDocument++
			}
		}
		g := got[host].Snapshot
		require.Equal(t, exp, fields{g.Title, g.InstanceTitle, g.Description, g.Languages, g.Rules, g.ContactEmail, g.ContactAccount, g.RegistrationMode},
			"%s (%s %s, behaviours %v, document %q)", host, w.Software, w.Version, w.Behaviours, doc.Path)
	}
	for _, p := range []string{"/api/v2/instance", "/api/v1/instance", "/api/meta", "/api/v3/site", "/api/v1/config", ""} {
		require.Positive(t, paths[p], "no census instance has document %q: %v", p, paths)
	}
	require.Positive(t, fromDocument, "no title came from an instance document")
}
