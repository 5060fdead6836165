package dashboard

import (
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
)

// Sanity flags on the pages: the census figures are the clean ones (the
// store leaves out instances whose latest figures are suspect); the
// overview says how many were left out and links to them, the listing
// filters by verdict, and the instance page explains each flag.

const (
	// listPageSize is the instance listing's page size.
	listPageSize = 50
	// maxFlagsShown bounds the flags shown for one snapshot: a database
	// written by a newer or broken fedilens must not flood a page.
	maxFlagsShown = 16
	// flaggedListPath is the listing of the instances left out of the
	// clean figures, linked from the overview.
	flaggedListPath = "/instances?flagged=" + model.FlaggedOnly
)

// flagView is one sanity flag as a page shows it.
type flagView struct {
	Name     string
	Severity string // "suspect", "info" or "unknown"
	Meaning  string
	Suspect  bool
}

// flagViews explains a snapshot's stored flags.
func flagViews(flags []string) []flagView {
	out := make([]flagView, 0, min(len(flags), maxFlagsShown))
	for _, name := range flags[:min(len(flags), maxFlagsShown)] {
		f := sanity.Flag(name)
		out = append(out, flagView{Name: name, Severity: string(f.Severity()), Meaning: f.Meaning(), Suspect: f.IsSuspect()})
	}
	return out
}

// Suspect reports whether the instance's latest figures are left out of
// the census totals (the instance page says so).
func (d instanceData) Suspect() bool { return sanity.Suspect(d.Instance.Flags) }
