package api

import (
	"net/http"
	"strconv"

	"github.com/fedilens/fedilens/internal/model"
)

// maxFlagsShown bounds the flags of one snapshot in an answer: a database
// written by a newer (or broken) fedilens must not blow up a listing.
const maxFlagsShown = 32

// parseStatsOptions reads include_flagged of the /api/v1/stats/ endpoints:
// absent or false gives the clean statistics, true adds the instances
// whose figures are suspect. Anything else is the client's mistake rather
// than silently the default.
func parseStatsOptions(r *http.Request) (model.StatsOptions, error) {
	v := r.URL.Query().Get("include_flagged")
	if v == "" {
		return model.StatsOptions{}, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return model.StatsOptions{}, badRequest("include_flagged must be true or false")
	}
	return model.StatsOptions{IncludeFlagged: b}, nil
}

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
