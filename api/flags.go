package api

import (
	"github.com/fedilens/fedilens/internal/model"
)

// maxFlagsShown bounds the flags of one snapshot in an answer: a database
// written by a newer (or broken) fedilens must not blow up a listing.
const maxFlagsShown = 32

// parseFlagged reads the flagged filter of the instance listing; empty
// means model.FlaggedInclude, as the store reads it.
func parseFlagged(v string) (string, error) {
	switch v {
	case "", model.FlaggedInclude, model.FlaggedOnly, model.FlaggedExclude:
		return v, nil
	default:
		return "", badRequest("flagged must be %s, %s or %s", model.FlaggedInclude, model.FlaggedOnly, model.FlaggedExclude)
	}
}

// flagsJSON is a snapshot's flags for the wire: never null, bounded.
func flagsJSON(flags []string) []string {
	if len(flags) == 0 {
		return []string{}
	}
	return flags[:min(len(flags), maxFlagsShown)]
}
