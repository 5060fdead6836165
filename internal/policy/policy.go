// Package policy holds the operator's controls over which hosts fedilens
// may contact at all: the operator's own denylist (flags, a file) and the
// opt-outs instance admins asked for (stored in ClickHouse, changed at run
// time by the CLI or the admin API).
//
// Policy answers "may this host be contacted?" for the crawler (before a
// host is queued and before a visit starts) and for the public submission
// endpoint. Refresher keeps a running process in step with the stored
// opt-outs: it reloads them, removes the posts of opted-out hosts from the
// store and the search index, and hands the crawler the hosts submitted by
// hand.
//
// Both are about consent, so they fail closed where they can: a host name
// that cannot be normalised is never allowed, and a failed reload keeps the
// opt-outs loaded before rather than forgetting them.
package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
)

// The reasons Allowed gives. They are shown to the public (the submission
// endpoint answers 403 with them), so they never carry an operator's note.
const (
	// ReasonDenied prefixes the reason for a host on the operator's denylist.
	ReasonDenied = "denied by the operator"
	// ReasonOptedOut is the reason for a host whose admin opted out.
	ReasonOptedOut = "the instance's admin opted out of fedilens"
	// ReasonInvalid prefixes the reason for a name that is not a usable host name.
	ReasonInvalid = "invalid host name"
)

// OptOutSource gives the opt-outs in force. The ClickHouse store
// (*store.Store) satisfies it.
type OptOutSource interface {
	OptOuts(ctx context.Context) ([]model.OptOut, error)
}

// Options configures a Policy.
type Options struct {
	// Deny is the operator's denylist; nil denies nothing.
	Deny *Denylist
	// OptOuts is where Reload reads the opt-outs from; nil means there are
	// none (tests, tools without a store).
	OptOuts OptOutSource
	// Logger receives reload events. Nil discards them.
	Logger *slog.Logger
}

// Policy decides whether a host may be contacted. It is safe for
// concurrent use; Reload swaps the opt-outs atomically while Allowed runs.
type Policy struct {
	deny *Denylist
	src  OptOutSource
	log  *slog.Logger

	mu       sync.RWMutex
	optouts  map[string]model.OptOut
	loadedAt time.Time
}

// New returns a Policy with the denylist and no opt-outs loaded yet: call
// Reload before relying on the opt-outs.
func New(opts Options) *Policy {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	deny := opts.Deny
	if deny == nil {
		deny = &Denylist{}
	}
	return &Policy{deny: deny, src: opts.OptOuts, log: logger, optouts: map[string]model.OptOut{}}
}

// Reload reads the opt-outs again. On error the previous list stays in
// force: forgetting opt-outs because the database hiccuped would send
// requests to hosts that asked not to get any.
func (p *Policy) Reload(ctx context.Context) error {
	if p.src == nil {
		return nil
	}
	list, err := p.src.OptOuts(ctx)
	if err != nil {
		return fmt.Errorf("reload opt-outs: %w", err)
	}
	next := make(map[string]model.OptOut, len(list))
	for _, o := range list {
		h, err := hostname.Normalize(o.Host)
		if err != nil && h == "" {
			// Stored by an older or foreign writer: keep it as written,
			// it can still match a host spelled the same way.
			h = strings.ToLower(strings.TrimSpace(o.Host))
		}
		next[h] = o
	}
	p.mu.Lock()
	prev := len(p.optouts)
	p.optouts = next
	p.loadedAt = time.Now()
	p.mu.Unlock()
	if prev != len(next) {
		p.log.Info("opt-outs reloaded", "optouts", len(next), "before", prev)
	}
	return nil
}

// Allowed reports whether fedilens may contact host, and if not, why (a
// short text safe to show to anybody). Host may carry a port; the
// denylist and the opt-outs match the name with or without it.
func (p *Policy) Allowed(host string) (ok bool, reason string) {
	h, err := hostname.Normalize(host)
	if err != nil && (h == "" || errors.Is(err, hostname.ErrIPLiteral)) {
		return false, ReasonInvalid
	}
	name := stripPort(h)
	if entry, denied := p.deny.Match(name); denied {
		return false, ReasonDenied + " (" + entry + ")"
	}
	p.mu.RLock()
	_, out := p.optouts[h]
	if !out && name != h {
		_, out = p.optouts[name]
	}
	p.mu.RUnlock()
	if out {
		return false, ReasonOptedOut
	}
	return true, ""
}

// OptedOut returns the opt-outs loaded by the latest successful Reload,
// by host.
func (p *Policy) OptedOut() []model.OptOut {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]model.OptOut, 0, len(p.optouts))
	for _, o := range p.optouts {
		out = append(out, o)
	}
	sortOptOuts(out)
	return out
}

// Denylist returns the operator's denylist (never nil).
func (p *Policy) Denylist() *Denylist { return p.deny }

// stripPort returns a normalised host without its port. IP literals
// never get this far (Allowed refuses them).
func stripPort(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[:i], ":") {
		return h[:i]
	}
	return h
}

func sortOptOuts(v []model.OptOut) {
	sort.Slice(v, func(i, j int) bool { return v[i].Host < v[j].Host })
}
