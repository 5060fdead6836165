package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/fedilens/fedilens/api"
	"github.com/fedilens/fedilens/crawler"
	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/policy"
	"github.com/fedilens/fedilens/internal/store"
)

// registerControls adds the operator's control flags to the common ones.
func (c *common) registerControls(fs *flag.FlagSet) {
	fs.Var(&c.deny, "deny", "host fedilens never contacts (repeatable): NAME for exactly that host, *.DOMAIN or .DOMAIN for the domain and all its subdomains")
	fs.StringVar(&c.denyFile, "deny-file", "", "file of --deny entries, one per line (# starts a comment)")
	fs.StringVar(&c.adminToken, "admin-token", "", "bearer token of the admin API under /api/v1/admin/ (at least 16 characters; empty disables it); prefer setting it through the environment, command lines are visible to other users")
}

// denylist builds the operator's denylist from --deny and --deny-file.
func (c *common) denylist() (*policy.Denylist, error) {
	entries := append([]string(nil), c.deny...)
	if c.denyFile != "" {
		more, err := policy.ReadDenyFile(c.denyFile)
		if err != nil {
			return nil, usageErr("--deny-file: %v", err)
		}
		entries = append(entries, more...)
	}
	d, err := policy.ParseDenylist(entries)
	if err != nil {
		return nil, usageErr("--deny: %v", err)
	}
	return d, nil
}

// controls are the operator's controls wired for one process: the policy
// the crawler and the submission endpoint ask, and the refresher that
// keeps it in step with ClickHouse and purges opted-out posts.
type controls struct {
	policy     *policy.Policy
	refresher  *policy.Refresher
	store      *store.Store
	adminToken string
	log        *slog.Logger
	// forget backs the admin API's forget; nil without an index.
	forget *forgetter
}

// openControls builds the controls over st (and ix, the index this
// process holds, nil for none) and loads the opt-outs: a process that
// cannot read them does not start, rather than contact hosts that opted
// out. It sets c.ctl, which newCrawler and newHandler use.
func (c *common) openControls(ctx context.Context, st *store.Store, ix *indexer.Index, log *slog.Logger) (*controls, error) {
	if err := api.CheckAdminToken(c.adminToken); err != nil {
		return nil, usageErr("--admin-token: %v", err)
	}
	deny, err := c.denylist()
	if err != nil {
		return nil, err
	}
	log = log.With("component", "policy")
	pol := policy.New(policy.Options{Deny: deny, OptOuts: st, Logger: log})
	if err := pol.Reload(ctx); err != nil {
		return nil, fmt.Errorf("loading the opt-out list: %w", err)
	}
	ropts := policy.RefresherOptions{Policy: pol, Store: st, Logger: log}
	if ix != nil {
		ropts.Index = ix
	}
	ctl := &controls{policy: pol, refresher: policy.NewRefresher(ropts), store: st, adminToken: c.adminToken, log: log}
	if ix != nil {
		ctl.forget = &forgetter{st: st, ix: ix}
	}
	log.Info("operator controls loaded", "denylist_entries", deny.Len(), "optouts", len(pol.OptedOut()), "admin_api", c.adminToken != "")
	c.ctl = ctl
	return ctl, nil
}

// hostPolicy is the crawler's policy; nil (no controls) allows every host.
func (ctl *controls) hostPolicy() crawler.HostPolicy {
	if ctl == nil {
		return nil
	}
	return ctl.policy
}

// crawlerControls is what the crawler refreshes; nil without controls.
func (ctl *controls) crawlerControls() crawler.Controls {
	if ctl == nil {
		return nil
	}
	return ctl.refresher
}

// registerAPI mounts the admin endpoints and the public submission
// endpoint. Without controls (tests that wire a bare handler) it mounts
// nothing.
func (ctl *controls) registerAPI(a *api.API, mux *http.ServeMux) {
	if ctl == nil {
		return
	}
	a.RegisterControls(mux, api.ControlsOptions{
		AdminToken:       ctl.adminToken,
		OptOuts:          ctl.store,
		OnOptOutsChanged: ctl.policy.Reload,
		Submissions:      ctl.store,
		Policy:           ctl.policy,
		Forget:           ctl.forgetAPI(),
	})
}

// serveRefreshEvery is how often `serve` refreshes the controls: as often
// as a running crawler does.
const serveRefreshEvery = crawler.DefaultRefreshEvery

// refreshLoop refreshes the controls every interval until ctx ends or the
// returned func is called: for `serve`, which has no crawler to do it, so
// that an opt-out made elsewhere also leaves the search index it holds.
func (ctl *controls) refreshLoop(ctx context.Context, every time.Duration) func() {
	if ctl == nil {
		return func() {}
	}
	return repeat(ctx, every, func(ctx context.Context) {
		if err := ctl.refresher.Refresh(ctx); err != nil && !errors.Is(err, context.Canceled) {
			ctl.log.Warn("refreshing the operator's controls failed; the opt-outs loaded before stay in force", "err", err)
		}
	})
}
