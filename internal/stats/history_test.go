package stats_test

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/observtest"
	"github.com/fedilens/fedilens/internal/sanity"
	"github.com/fedilens/fedilens/internal/store"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// dayTruth is what a correct crawler stored on one day of the history.
type dayTruth struct {
	date time.Time
	// census are the instances stored that day, by host.
	census map[string]fedisim.InstanceTruth
}

// crawled is a simulated history crawled into a store (observtest.Crawl)
// and the truth of each day.
type crawled struct {
	sim   *fedisim.Sim
	st    *store.Store
	days  []dayTruth
	langs map[string][]string // the instance document's languages by host
}

// crawlHistory crawls a simulated history of opts.HistoryDays days into a
// new store, one pass a day at 03:00, rolling up every closed day.
func crawlHistory(t *testing.T, opts fedisim.Options) *crawled {
	t.Helper()
	h := observtest.Crawl(t, chtest.Store(t), opts, observtest.Options{})
	c := &crawled{sim: h.Sim, st: h.Store, langs: h.Langs}
	for _, d := range h.Days {
		c.days = append(c.days, dayTruth{date: d.Date, census: d.Census})
	}
	return c
}

// suspectFlags are the flag names that leave figures out.
var suspectFlags = sanity.SuspectFlags()

// suspect reports whether the truth's expected flags leave in out.
func suspect(in fedisim.InstanceTruth) bool {
	for _, f := range in.ExpectedFlags {
		if slices.Contains(suspectFlags, f) {
			return true
		}
	}
	return false
}
