// Package webfinger resolves fediverse handles ("user@host") to their
// ActivityPub actors: an RFC 7033 WebFinger client with the RFC 6415
// host-meta fallback, written for hostile servers.
//
// Every request goes through a Fetcher the caller provides, so the crawler
// can route lookups through its per-host politeness and robots.txt path and
// tests can answer from a table. Documents are read leniently, the way real
// servers send them: application/jrd+json or application/json with any
// charset, Lemmy's "template":null and "properties", PHP's escaped slashes,
// and old XRD account documents. Anything the package returns has been
// checked: URLs are absolute http(s), strings are bounded.
//
// A server may only speak for its own accounts, and WebFinger allows one
// domain to serve another's (Mastodon's LOCAL_DOMAIN/WEB_DOMAIN split):
// when a subject names a domain other than the one asked, that domain is
// asked in turn and must agree (at most one hop, as Mastodon does).
package webfinger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fedilens/fedilens/internal/hostname"
)

// Sentinel errors. Lookup's errors wrap one of them, or a *StatusError, or
// the Fetcher's own error.
var (
	// ErrInvalidAccount: the handle given to Lookup is not user@host.
	ErrInvalidAccount = errors.New("webfinger: invalid account")
	// ErrNotFound: the server does not know the account (404, 410 or 400
	// from WebFinger, with no host-meta delegation that finds it).
	ErrNotFound = errors.New("webfinger: account not found")
	// ErrMismatch: the canonical domain named by a subject does not
	// confirm it, or names yet another domain.
	ErrMismatch = errors.New("webfinger: domains disagree")
	// ErrMalformed: a document is not a usable JRD or XRD.
	ErrMalformed = errors.New("webfinger: malformed document")
)

// StatusError is an answer that is neither a document nor a "not found",
// such as 401, 403, 429 or 5xx.
type StatusError struct {
	URL    string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("webfinger: %s answered %d", e.URL, e.Status)
}

// Fetcher sends one GET and returns the complete, capped response. Every
// HTTP status is a response; err is for transport failures and refusals
// (robots.txt, forbidden addresses).
type Fetcher interface {
	Fetch(ctx context.Context, url, accept string, maxBody int64) (status int, header http.Header, body []byte, err error)
}

// FetcherFunc adapts a function to Fetcher.
type FetcherFunc func(ctx context.Context, url, accept string, maxBody int64) (int, http.Header, []byte, error)

// Fetch implements Fetcher.
func (f FetcherFunc) Fetch(ctx context.Context, url, accept string, maxBody int64) (int, http.Header, []byte, error) {
	return f(ctx, url, accept, maxBody)
}

// Defaults and bounds.
const (
	// DefaultMaxJRD caps a WebFinger document. Real ones are under 5 KiB
	// (WordPress's, with payment links, is the largest seen).
	DefaultMaxJRD = 256 << 10
	// DefaultMaxXRD caps a host-meta document (real ones: under 300 bytes).
	DefaultMaxXRD = 64 << 10
	// maxAliases and maxURL bound what a Result carries.
	maxAliases = 20
	maxURL     = 2048
	maxUser    = 256
)

// Accept headers: JRD first, and XRD for servers that only speak it.
const (
	acceptJRD = "application/jrd+json, application/json;q=0.9, application/xrd+xml;q=0.5"
	acceptXRD = "application/xrd+xml, application/xml;q=0.9, text/xml;q=0.8"
)

// Options configures a Resolver. The zero value is ready for the public
// fediverse.
type Options struct {
	// Scheme is "https" (default), or "http" for a local test server.
	Scheme string
	// MaxJRD caps WebFinger documents (default DefaultMaxJRD).
	MaxJRD int64
	// MaxXRD caps host-meta documents (default DefaultMaxXRD).
	MaxXRD int64
}

// Resolver looks up accounts. It keeps no state between lookups and is
// safe for concurrent use if its Fetcher is.
type Resolver struct {
	f    Fetcher
	opts Options
}

// New returns a Resolver that sends its requests through f.
func New(f Fetcher, opts Options) *Resolver {
	if opts.Scheme == "" {
		opts.Scheme = "https"
	}
	if opts.MaxJRD <= 0 {
		opts.MaxJRD = DefaultMaxJRD
	}
	if opts.MaxXRD <= 0 {
		opts.MaxXRD = DefaultMaxXRD
	}
	return &Resolver{f: f, opts: opts}
}

// Result is a resolved account.
type Result struct {
	// Subject is the account's canonical URI as the server states it,
	// normally "acct:user@host".
	Subject string
	// Actor is the ActivityPub actor: the "self" link whose type is
	// application/activity+json or application/ld+json with the
	// ActivityStreams profile. Empty when the account has none (a diaspora
	// or OStatus-only account).
	Actor string
	// ProfileURL is the human-facing profile page, if published.
	ProfileURL string
	// Aliases are the other URIs the server lists for the account.
	Aliases []string
	// Host is the canonical host of the account: the subject's domain,
	// normalised (see internal/hostname).
	Host string
}

// Account is a parsed handle.
type Account struct {
	User string
	Host string // normalised
}

// String returns user@host.
func (a Account) String() string { return a.User + "@" + a.Host }

// URI returns the acct: URI of the account (RFC 7565).
func (a Account) URI() string { return "acct:" + a.String() }

// ParseAccount parses "acct:user@host", "user@host" or "@user@host". The
// host is normalised; the user part is kept as written (servers compare it
// case-insensitively) but must be a plausible user name: no white space,
// controls, slashes or further '@'.
func ParseAccount(s string) (Account, error) {
	in := strings.TrimSpace(s)
	if len(in) > 1024 {
		return Account{}, fmt.Errorf("%w: longer than 1024 bytes", ErrInvalidAccount)
	}
	if len(in) >= 5 && strings.EqualFold(in[:5], "acct:") {
		in = in[5:]
	} else {
		in = strings.TrimPrefix(in, "@")
	}
	user, host, ok := strings.Cut(in, "@")
	if !ok || user == "" || host == "" {
		return Account{}, fmt.Errorf("%w: %q is not user@host", ErrInvalidAccount, truncate(s, 100))
	}
	if len(user) > maxUser || !utf8.ValidString(user) || strings.ContainsFunc(user, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("/@?#\\<>\"", r)
	}) {
		return Account{}, fmt.Errorf("%w: bad user name in %q", ErrInvalidAccount, truncate(s, 100))
	}
	h, err := hostname.Normalize(host)
	if err != nil {
		return Account{}, fmt.Errorf("%w: %w", ErrInvalidAccount, err)
	}
	return Account{User: user, Host: h}, nil
}

// Lookup resolves acct ("acct:user@host", "user@host" or "@user@host").
//
// It asks https://host/.well-known/webfinger; when that answers 404 or a
// redirect, the lrdd template of https://host/.well-known/host-meta says
// where WebFinger lives (possibly on another host). When the subject names
// another domain, that domain is asked for the subject and must return the
// same subject and actor.
func (r *Resolver) Lookup(ctx context.Context, acct string) (Result, error) {
	a, err := ParseAccount(acct)
	if err != nil {
		return Result{}, err
	}
	res, err := r.lookupOn(ctx, a.Host, a.URI())
	if err != nil {
		return Result{}, err
	}
	sub, ok := subjectAccount(res.Subject)
	if !ok || sub.Host == a.Host {
		res.Host = a.Host
		if ok {
			res.Host = sub.Host
		}
		return res, nil
	}
	// The subject names another domain: it must confirm, with no further hop.
	confirm, err := r.lookupOn(ctx, sub.Host, sub.URI())
	if err != nil {
		return Result{}, fmt.Errorf("%w: confirming %s on %s: %w", ErrMismatch, res.Subject, sub.Host, err)
	}
	csub, ok := subjectAccount(confirm.Subject)
	if !ok || !strings.EqualFold(csub.String(), sub.String()) {
		return Result{}, fmt.Errorf("%w: %s answers %q for %q", ErrMismatch, sub.Host, truncate(confirm.Subject, 200), truncate(res.Subject, 200))
	}
	if confirm.Actor != res.Actor {
		return Result{}, fmt.Errorf("%w: %s and %s name different actors", ErrMismatch, a.Host, sub.Host)
	}
	confirm.Host = sub.Host
	return confirm, nil
}

// lookupOn asks host's WebFinger endpoint for resource, falling back to
// host-meta.
func (r *Resolver) lookupOn(ctx context.Context, host, resource string) (Result, error) {
	wellKnown := r.opts.Scheme + "://" + host + "/.well-known/webfinger?resource=" + url.QueryEscape(resource)
	res, status, err := r.fetchJRD(ctx, wellKnown, resource)
	if err == nil {
		return res, nil
	}
	if !fallback(status) {
		return Result{}, err
	}
	tmpl, herr := r.hostMeta(ctx, host)
	if herr != nil {
		if errors.Is(herr, ErrNotFound) {
			return Result{}, err // the original "not found" is the better message
		}
		return Result{}, herr
	}
	target := strings.ReplaceAll(tmpl, "{uri}", url.QueryEscape(resource))
	if target == wellKnown {
		return Result{}, err // host-meta points where we already asked
	}
	res, _, err = r.fetchJRD(ctx, target, resource)
	return res, err
}

// fallback reports whether a WebFinger answer sends us to host-meta: not
// found here, or moved elsewhere.
func fallback(status int) bool {
	switch status {
	case http.StatusNotFound, http.StatusGone,
		http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// fetchJRD fetches and parses one account document. status is the HTTP
// status (0 on a transport error).
func (r *Resolver) fetchJRD(ctx context.Context, u, resource string) (Result, int, error) {
	status, header, body, err := r.f.Fetch(ctx, u, acceptJRD, r.opts.MaxJRD)
	if err != nil {
		return Result{}, 0, fmt.Errorf("fetch %s: %w", truncate(u, 300), err)
	}
	switch {
	case status >= 200 && status < 300:
	case status == http.StatusNotFound || status == http.StatusGone || status == http.StatusBadRequest:
		return Result{}, status, fmt.Errorf("%w: %s answered %d", ErrNotFound, truncate(u, 300), status)
	default:
		return Result{}, status, &StatusError{URL: truncate(u, 300), Status: status}
	}
	res, err := ParseDocument(header.Get("Content-Type"), body)
	if err != nil {
		return Result{}, status, fmt.Errorf("%s: %w", truncate(u, 300), err)
	}
	if res.Subject == "" {
		res.Subject = resource // RFC 7033 4.4.1: SHOULD be present; the answer is about what we asked
	}
	return res, status, nil
}

// hostMeta returns the lrdd template of host's host-meta document.
func (r *Resolver) hostMeta(ctx context.Context, host string) (string, error) {
	u := r.opts.Scheme + "://" + host + "/.well-known/host-meta"
	status, header, body, err := r.f.Fetch(ctx, u, acceptXRD, r.opts.MaxXRD)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", u, err)
	}
	switch {
	case status >= 200 && status < 300:
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		return "", fmt.Errorf("%w: %s answered %d", ErrNotFound, u, status)
	default:
		return "", &StatusError{URL: u, Status: status}
	}
	tmpl, err := ParseHostMeta(header.Get("Content-Type"), body)
	if err != nil {
		return "", fmt.Errorf("%s: %w", u, err)
	}
	return tmpl, nil
}

// subjectAccount parses an acct: subject; ok is false for other URIs.
func subjectAccount(subject string) (Account, bool) {
	if len(subject) < 5 || !strings.EqualFold(subject[:5], "acct:") {
		return Account{}, false
	}
	a, err := ParseAccount(subject)
	return a, err == nil
}

// jrd is an RFC 7033 JSON Resource Descriptor, read leniently.
type jrd struct {
	Subject json.RawMessage `json:"subject"`
	Aliases json.RawMessage `json:"aliases"`
	Links   json.RawMessage `json:"links"`
}

// jrdLink is one link; template, titles and properties are ignored, and
// fields of the wrong type (Lemmy's "type":null) read as empty.
type jrdLink struct {
	Rel  looseString `json:"rel"`
	Type looseString `json:"type"`
	Href looseString `json:"href"`
}

// looseString reads a JSON string, and anything else as "".
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	var v string
	if json.Unmarshal(b, &v) == nil {
		*s = looseString(v)
	}
	return nil
}

// ParseDocument parses a WebFinger answer: a JRD (any JSON content type,
// or none) or, for old servers, an XRD. The result's Host is not set.
func ParseDocument(contentType string, body []byte) (Result, error) {
	mt := mediaType(contentType)
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	switch {
	case isXML(mt) || (mt == "" || mt == "text/plain") && bytes.HasPrefix(trimmed, []byte("<")):
		return parseXRDAccount(trimmed)
	case mt == "" || mt == "text/plain" || strings.HasSuffix(mt, "json"):
		return parseJRD(trimmed)
	}
	return Result{}, fmt.Errorf("%w: content type %q is not a resource descriptor", ErrMalformed, truncate(mt, 100))
}

func parseJRD(body []byte) (Result, error) {
	var doc jrd
	if err := json.Unmarshal(body, &doc); err != nil {
		return Result{}, fmt.Errorf("%w: not a JSON object: %v", ErrMalformed, err)
	}
	var res Result
	var subject looseString
	_ = json.Unmarshal(doc.Subject, &subject)
	res.Subject = cleanURI(string(subject))
	if len(doc.Subject) > 0 && string(doc.Subject) != "null" && res.Subject == "" {
		return Result{}, fmt.Errorf("%w: subject is not a URI", ErrMalformed)
	}
	var aliases []looseString
	if json.Unmarshal(doc.Aliases, &aliases) != nil {
		var one looseString
		if json.Unmarshal(doc.Aliases, &one) == nil && one != "" {
			aliases = []looseString{one}
		}
	}
	for _, a := range aliases {
		res.addAlias(string(a))
	}
	var links []jrdLink
	if json.Unmarshal(doc.Links, &links) != nil {
		var one jrdLink
		if json.Unmarshal(doc.Links, &one) == nil {
			links = []jrdLink{one}
		}
	}
	for _, l := range links {
		res.addLink(string(l.Rel), string(l.Type), string(l.Href))
	}
	return res, nil
}

// Link relations read from account documents.
const (
	relSelf        = "self"
	relProfilePage = "http://webfinger.net/rel/profile-page"
)

// addLink takes the first usable self and profile-page links.
func (res *Result) addLink(rel, typ, href string) {
	rel = strings.TrimSpace(rel)
	switch {
	case rel == relSelf && res.Actor == "" && isActivityType(typ):
		res.Actor = httpURL(href)
	case strings.EqualFold(strings.TrimSuffix(strings.Replace(rel, "https://", "http://", 1), "/"), relProfilePage) && res.ProfileURL == "":
		if mt := mediaType(typ); mt == "" || mt == "text/html" {
			res.ProfileURL = httpURL(href)
		}
	}
}

func (res *Result) addAlias(a string) {
	a = cleanURI(a)
	if a == "" || len(res.Aliases) >= maxAliases {
		return
	}
	for _, x := range res.Aliases {
		if x == a {
			return
		}
	}
	res.Aliases = append(res.Aliases, a)
}

// isActivityType reports whether a link type is ActivityStreams JSON:
// application/activity+json, or application/ld+json with the
// ActivityStreams profile.
func isActivityType(t string) bool {
	mt, params, err := mime.ParseMediaType(t)
	if err != nil {
		mt = mediaType(t)
	}
	switch mt {
	case "application/activity+json":
		return true
	case "application/ld+json":
		for _, p := range strings.Fields(params["profile"]) {
			if strings.TrimSuffix(strings.Replace(p, "http://", "https://", 1), "/") == "https://www.w3.org/ns/activitystreams" {
				return true
			}
		}
	}
	return false
}

// mediaType returns the lower-case media type without parameters.
func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

func isXML(mt string) bool {
	return mt == "application/xrd+xml" || mt == "application/xml" || mt == "text/xml"
}

// httpURL returns u if it is an absolute http(s) URL with a host, of
// bounded length, else "".
func httpURL(u string) string {
	u = strings.TrimSpace(u)
	if len(u) > maxURL {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil {
		return ""
	}
	return u
}

// cleanURI keeps a bounded URI of printable characters.
func cleanURI(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxURL || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}) {
		return ""
	}
	if _, err := url.Parse(s); err != nil {
		return ""
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
