package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/fedilens/fedilens/internal/store"
)

// rollupEvery is how often the crawling commands roll up the closed days
// (store.Rollup): cheap when nothing is due, and a day closed at midnight
// UTC, or a late snapshot for one, is in the daily table within this long.
const rollupEvery = 10 * time.Minute

// startRollups rolls up the closed days now and then every rollupEvery,
// until the returned stop func is called. A rollup cut short by stop is
// completed by the next one (Rollup survives interruptions).
func startRollups(ctx context.Context, st *store.Store, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	rollup := func() {
		res, err := st.Rollup(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("daily rollup failed; it is retried later", "err", err)
		case len(res.Days) > 0:
			log.Info("rolled up closed days", "days", len(res.Days), "rows", res.Rows)
		}
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		rollup()
		t := time.NewTicker(rollupEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				rollup()
			}
		}
	}()
	return func() {
		cancel()
		<-finished
	}
}
