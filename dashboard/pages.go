package dashboard

import (
	"fmt"
	"net/http"
)

// Page sizes: enough to be useful, small enough to render on a phone.
const (
	topInstances   = 20
	maxPeersShown  = 200
	maxBlocksShown = 200
	maxHistoryRows = 100
	// maxHistoryPoints bounds the charts' inline JSON for long-lived hosts.
	maxHistoryPoints = 1000
	searchPageSize   = 20
	maxQueryLen      = 1024
	maxCursorLen     = 1024
)

type aboutData struct {
	UserAgent string
	Contact   string
	Version   string
}

func (d *Dashboard) about(*http.Request) (pageResult, error) {
	return pageResult{name: "about", title: "About fedilens", data: aboutData{
		UserAgent: d.opts.UserAgent,
		Contact:   d.opts.Contact,
		Version:   d.opts.Version,
	}}, nil
}

// wrap adds action context to err, keeping nil nil.
func wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", action, err)
}
