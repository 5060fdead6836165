package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
)

// Forgetter removes one author's or a whole instance's posts from the
// search index and the store at once, and records the decision so that no
// later crawl stores them again. cmd/fedilens wires it to the process's
// pipeline and index.
type Forgetter interface {
	// Forget returns the number of posts removed from the index and from
	// the store. Errors wrapping indexer.ErrLocked and the like are
	// reported to the operator as they are.
	Forget(ctx context.Context, scope model.PurgeScope) (indexed, stored int, err error)
}

// RouteAdminForget is the admin endpoint of `fedilens forget`.
const RouteAdminForget = "POST /api/v1/admin/forget"

// ErrBadTarget wraps the reasons ParseForgetTarget refuses a target.
var ErrBadTarget = errors.New("invalid forget target")

// maxUserLen bounds the user part of an account (Mastodon allows 30
// characters, other software more; none allow this many). User names are
// letters, digits, '_', '.' and '-' in every server software fedilens reads.
const maxUserLen = 256

// ParseForgetTarget reads what an operator wants forgotten: an account
// ("acct:user@host", "@user@host" or "user@host") or an instance
// ("host"). Accounts come back lower case with a normalised host, as the
// crawler stores them (model.Post's Author); a host comes back
// normalised. Every refusal wraps ErrBadTarget with a message fit for the
// operator.
func ParseForgetTarget(s string) (model.PurgeScope, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 5 && strings.EqualFold(s[:5], "acct:") {
		s = s[5:]
	}
	at := strings.HasPrefix(s, "@")
	s = strings.TrimPrefix(s, "@")
	if s == "" {
		return model.PurgeScope{}, fmt.Errorf("%w: give acct:user@host or a host", ErrBadTarget)
	}
	user, rawHost, isAcct := cutLast(s, '@')
	if at && !isAcct {
		// "@name" is a user without a host, not an instance to forget whole.
		return model.PurgeScope{}, fmt.Errorf("%w: give the account with its host, acct:user@host", ErrBadTarget)
	}
	if !isAcct {
		rawHost = s
	}
	host, err := hostname.Normalize(rawHost)
	if err != nil && !errors.Is(err, hostname.ErrIPLiteral) && !errors.Is(err, hostname.ErrSingleLabel) {
		return model.PurgeScope{}, fmt.Errorf("%w: %v", ErrBadTarget, err)
	}
	if !isAcct {
		return model.PurgeScope{Host: host}, nil
	}
	if user == "" || len(user) > maxUserLen || strings.ContainsFunc(user, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '.' && r != '-'
	}) {
		return model.PurgeScope{}, fmt.Errorf("%w: %q is not a user name: give acct:user@host", ErrBadTarget, truncate(user, 64))
	}
	return model.PurgeScope{Author: strings.ToLower(user) + "@" + host, Host: host}, nil
}

// cutLast splits s around the last sep.
func cutLast(s string, sep byte) (before, after string, found bool) {
	if i := strings.LastIndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// forgetJSON is the answer of RouteAdminForget.
type forgetJSON struct {
	Target  string `json:"target"`
	Kind    string `json:"kind"` // "author" or "host"
	Indexed int    `json:"removed_from_index"`
	Stored  int    `json:"removed_from_store"`
}

// forget serves RouteAdminForget: {"target": "acct:user@host" | "host"}.
func (c *controls) forget(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	f, err := readFields(r, "target")
	if err != nil {
		return 0, nil, err
	}
	scope, err := ParseForgetTarget(f["target"])
	if err != nil {
		return 0, nil, badRequest("%s", truncate(err.Error(), maxMessageLen))
	}
	indexed, stored, err := c.opts.Forget.Forget(r.Context(), scope)
	if err != nil {
		return 0, nil, fmt.Errorf("forget: %w", err)
	}
	out := forgetJSON{Target: scope.Host, Kind: "host", Indexed: indexed, Stored: stored}
	if scope.Author != "" {
		out.Target, out.Kind = "acct:"+scope.Author, "author"
		c.a.log.Info("author forgotten through the admin API", "host", scope.Host, "removed_from_store", stored)
	} else {
		c.a.log.Info("host forgotten through the admin API", "host", scope.Host, "removed_from_store", stored)
		c.changed(r.Context())
	}
	return http.StatusOK, out, nil
}
