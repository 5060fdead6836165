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
	return repeat(ctx, rollupEvery, func(ctx context.Context) {
		res, err := st.Rollup(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("daily rollup failed; it is retried later", "err", err)
		case len(res.Days) > 0:
			log.Info("rolled up closed days", "days", len(res.Days), "rows", res.Rows)
		}
	})
}

// repeat runs fn in a goroutine now and then every period, until the
// returned stop func is called: stop cancels the context fn runs with and
// waits for it to return.
func repeat(ctx context.Context, every time.Duration, fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			fn(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-finished
	}
}
