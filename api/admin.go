package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
)

// OptOutStore keeps the opt-out list. The ClickHouse store (*store.Store)
// satisfies it.
type OptOutStore interface {
	// OptOuts returns the opt-outs in force, by host.
	OptOuts(ctx context.Context) ([]model.OptOut, error)
	// AddOptOut records an opt-out (again, replacing the reason).
	AddOptOut(ctx context.Context, o model.OptOut) error
	// RemoveOptOut lifts an opt-out; a host not on the list wraps
	// model.ErrNotFound.
	RemoveOptOut(ctx context.Context, host string) error
}

// SubmissionStore records hosts submitted for crawling. The ClickHouse
// store (*store.Store) satisfies it.
type SubmissionStore interface {
	AddSubmission(ctx context.Context, s model.Submission) error
}

// HostPolicy says whether fedilens may contact a host (*policy.Policy).
// The reason it gives for a refusal is shown to the client.
type HostPolicy interface {
	Allowed(host string) (ok bool, reason string)
}

// ControlsOptions configures the operator's endpoints (RegisterControls).
type ControlsOptions struct {
	// AdminToken guards /api/v1/admin/: requests must carry
	// "Authorization: Bearer <AdminToken>". Empty disables the admin
	// endpoints: they answer 404 as if they did not exist, so an instance
	// without a token does not even advertise that it has them.
	AdminToken string
	// OptOuts backs the admin endpoints. Required when AdminToken is set.
	OptOuts OptOutStore
	// OnOptOutsChanged runs after an opt-out was added or removed, so the
	// process applies it at once (reload the policy) instead of at the
	// next periodic refresh. Its error is logged; the change is stored.
	OnOptOutsChanged func(ctx context.Context) error

	// Submissions stores POST /api/v1/instances. Nil leaves the endpoint
	// out (the mux then answers 405).
	Submissions SubmissionStore
	// Policy refuses submissions of hosts fedilens must not contact.
	// Nil allows every valid host.
	Policy HostPolicy
	// SubmitPerHour and SubmitBurst are the token bucket every client
	// address gets (defaults 5 and 5).
	SubmitPerHour float64
	SubmitBurst   int
	// MaxClients bounds the rate limiter's memory: the number of client
	// addresses tracked at once (default 100,000, about 10 MB).
	MaxClients int
	// ClientHashKey keys the hash of client addresses stored with a
	// submission. Nil means a random key per process: hashes can then be
	// compared within one run, and reversed by nobody.
	ClientHashKey []byte
	// Now is the clock (tests).
	Now func() time.Time

	// Forget backs RouteAdminForget (behind AdminToken). Nil leaves the
	// endpoint out.
	Forget Forgetter
}

// The operator's routes.
const (
	RouteAdminOptOuts       = "GET /api/v1/admin/optouts"
	RouteAdminOptOutsAdd    = "POST /api/v1/admin/optouts"
	RouteAdminOptOutsRemove = "DELETE /api/v1/admin/optouts"
	RouteSubmitInstance     = "POST /api/v1/instances"
)

// Limits of the operator's endpoints.
const (
	// maxWriteBody bounds a request body of the write endpoints.
	maxWriteBody = 16 << 10
	// maxReasonLen bounds an opt-out's note, in bytes.
	maxReasonLen = 1000
	// minAdminTokenLen is the shortest token accepted (see CheckAdminToken).
	minAdminTokenLen = 16
)

// Error codes of the operator's endpoints (see also wrap.go).
const (
	codeUnauthorized = "unauthorized"
	codeForbidden    = "forbidden"
	codeRateLimited  = "rate_limited"
	codeUnsupported  = "unsupported_media_type"
)

// ErrWeakAdminToken is returned by CheckAdminToken.
var ErrWeakAdminToken = errors.New("admin token too weak")

// CheckAdminToken rejects tokens that are too short or carry characters
// an Authorization header cannot transport, so a typo or a placeholder
// ("changeme") does not guard the admin endpoints.
func CheckAdminToken(token string) error {
	if token == "" {
		return nil
	}
	if len(token) < minAdminTokenLen {
		return fmt.Errorf("%w: use at least %d characters (for example: openssl rand -hex 32)", ErrWeakAdminToken, minAdminTokenLen)
	}
	for _, r := range token {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("%w: use printable ASCII without spaces", ErrWeakAdminToken)
		}
	}
	return nil
}

// controls serves the operator's endpoints.
type controls struct {
	a         *API
	opts      ControlsOptions
	tokenHash [32]byte
	limiter   *limiter
	hashKey   []byte
}

// RegisterControls mounts the operator's endpoints on mux: the opt-out
// list under /api/v1/admin/ (behind AdminToken) and the public submission
// of hosts (POST /api/v1/instances). Call it after Register. It panics on
// a wiring mistake (a token without an OptOutStore, a weak token).
func (a *API) RegisterControls(mux *http.ServeMux, opts ControlsOptions) {
	if err := CheckAdminToken(opts.AdminToken); err != nil {
		panic("api: " + err.Error())
	}
	if opts.AdminToken != "" && opts.OptOuts == nil {
		panic("api: ControlsOptions.AdminToken set without OptOuts")
	}
	c := newControls(a, opts)
	mux.Handle(RouteAdminOptOuts, c.wrapWrite(RouteAdminOptOuts, c.admin(c.listOptOuts)))
	mux.Handle(RouteAdminOptOutsAdd, c.wrapWrite(RouteAdminOptOutsAdd, c.admin(c.addOptOut)))
	mux.Handle(RouteAdminOptOutsRemove, c.wrapWrite(RouteAdminOptOutsRemove, c.admin(c.removeOptOut)))
	if opts.Submissions != nil {
		mux.Handle(RouteSubmitInstance, c.wrapWrite(RouteSubmitInstance, c.submit))
	}
	if opts.Forget != nil {
		mux.Handle(RouteAdminForget, c.wrapWrite(RouteAdminForget, c.admin(c.forget)))
	}
}

// writeHandler is a handler of the operator's endpoints: like
// handlerFunc, plus the success status and access to the response headers
// (Retry-After, WWW-Authenticate).
type writeHandler func(w http.ResponseWriter, r *http.Request) (status int, v any, err error)

// wrapWrite is wrap for endpoints that change state or are private:
// nothing is cached, there is no CORS grant (a browser page of another
// origin has no business here), and errors use the API's one envelope.
func (c *controls) wrapWrite(route string, h writeHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		hdr := w.Header()
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Cache-Control", "no-store")
		if c.a.version != "" {
			hdr.Set("X-Fedilens-Version", c.a.version)
		}
		status, v, err := h(w, r)
		var body []byte
		if err == nil {
			if body, err = json.Marshal(v); err != nil {
				err = fmt.Errorf("encode response: %w", err)
			}
		}
		if err != nil {
			status = c.a.writeError(w, r, route, err)
		} else {
			hdr.Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			_, _ = w.Write(append(body, '\n'))
		}
		c.a.metrics.observe(route, status, time.Since(start))
	})
}

// admin guards h with the admin token. Without a token the endpoints do
// not exist (404, the same answer as any unknown endpoint); a missing or
// wrong token is 401. The comparison is over SHA-256 digests with
// subtle.ConstantTimeCompare, so neither the token's bytes nor its length
// leak through timing. The token itself is never logged.
func (c *controls) admin(h writeHandler) writeHandler {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		if c.opts.AdminToken == "" {
			return 0, nil, notFound("unknown endpoint")
		}
		scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		given := sha256.Sum256([]byte(strings.TrimSpace(cred)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(given[:], c.tokenHash[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fedilens admin"`)
			c.a.log.Warn("admin request refused: missing or wrong token", "route", r.Method+" "+r.URL.Path, "client", clientAddr(r))
			return 0, nil, &apiError{status: http.StatusUnauthorized, code: codeUnauthorized, message: "missing or wrong admin token"}
		}
		return h(w, r)
	}
}

// optOutJSON is one opt-out, for the operator.
type optOutJSON struct {
	Host    string    `json:"host"`
	Reason  string    `json:"reason"`
	AddedAt timestamp `json:"added_at"`
}

type optOutsJSON struct {
	OptOuts []optOutJSON `json:"optouts"`
}

func (c *controls) listOptOuts(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	list, err := c.opts.OptOuts.OptOuts(r.Context())
	if err != nil {
		return 0, nil, fmt.Errorf("list opt-outs: %w", err)
	}
	out := optOutsJSON{OptOuts: make([]optOutJSON, 0, len(list))}
	for _, o := range list {
		out.OptOuts = append(out.OptOuts, optOutJSON{Host: o.Host, Reason: o.Reason, AddedAt: timestamp(o.AddedAt)})
	}
	return http.StatusOK, out, nil
}

func (c *controls) addOptOut(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	f, err := readFields(r, "host", "reason")
	if err != nil {
		return 0, nil, err
	}
	host, err := validateHost(f["host"])
	if err != nil {
		return 0, nil, err
	}
	reason, err := cleanReason(f["reason"])
	if err != nil {
		return 0, nil, err
	}
	o := model.OptOut{Host: host, Reason: reason, AddedAt: c.now()}
	if err := c.opts.OptOuts.AddOptOut(r.Context(), o); err != nil {
		return 0, nil, fmt.Errorf("add opt-out: %w", err)
	}
	c.a.log.Info("opt-out added through the admin API", "host", host)
	c.changed(r.Context())
	return http.StatusOK, optOutJSON{Host: o.Host, Reason: o.Reason, AddedAt: timestamp(o.AddedAt.UTC().Truncate(time.Second))}, nil
}

type removedJSON struct {
	Host   string `json:"host"`
	Status string `json:"status"`
}

func (c *controls) removeOptOut(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	f, err := readFields(r, "host")
	if err != nil {
		return 0, nil, err
	}
	host, err := validateHost(f["host"])
	if err != nil {
		return 0, nil, err
	}
	if err := c.opts.OptOuts.RemoveOptOut(r.Context(), host); err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return 0, nil, notFound(host + " is not on the opt-out list")
		}
		return 0, nil, fmt.Errorf("remove opt-out: %w", err)
	}
	c.a.log.Info("opt-out removed through the admin API", "host", host)
	c.changed(r.Context())
	return http.StatusOK, removedJSON{Host: host, Status: "removed"}, nil
}

// changed applies an opt-out change in this process at once.
func (c *controls) changed(ctx context.Context) {
	if c.opts.OnOptOutsChanged == nil {
		return
	}
	if err := c.opts.OnOptOutsChanged(ctx); err != nil {
		c.a.log.Warn("applying the opt-out change failed; the periodic refresh will", "err", err)
	}
}

func (c *controls) now() time.Time {
	if c.opts.Now != nil {
		return c.opts.Now()
	}
	return time.Now()
}

// validateHost turns a submitted host into its normalised form, or an
// error with a message that tells the client what to fix. A bare https
// base URL ("https://example.social/") is accepted as its host, because
// that is what people copy from the address bar.
func validateHost(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", badRequest("host is required")
	}
	if len(s) > 2*maxHostLen {
		return "", badRequest("host is longer than %d bytes", 2*maxHostLen)
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "https://"):
		s = strings.TrimSuffix(s[len("https://"):], "/")
	case strings.Contains(lower, "://"):
		return "", badRequest("give the instance's host name (fedilens only crawls over https), for example example.social")
	}
	h, err := hostname.Normalize(s)
	switch {
	case errors.Is(err, hostname.ErrIPLiteral):
		return "", badRequest("an IP address is not accepted: give the instance's host name")
	case errors.Is(err, hostname.ErrSingleLabel):
		return "", badRequest("a host name without a dot cannot be a public instance")
	case err != nil:
		return "", badRequest("%s", truncate(err.Error(), maxMessageLen))
	}
	return h, nil
}

// cleanReason keeps an operator's note printable and bounded.
func cleanReason(s string) (string, error) {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
	if len(s) > maxReasonLen {
		return "", badRequest("reason is longer than %d bytes", maxReasonLen)
	}
	return s, nil
}

// readFields reads the named string fields of a write request: from a
// JSON object body (application/json), or from form values (URL-encoded
// body or query string). Unknown JSON fields are ignored; a field that is
// not a string is the client's mistake.
func readFields(r *http.Request, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	mediaType := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, badRequest("malformed Content-Type")
		}
		mediaType = mt
	}
	body := http.MaxBytesReader(nil, r.Body, maxWriteBody)
	switch mediaType {
	case "application/json":
		raw, err := io.ReadAll(body)
		if err != nil {
			return nil, badRequest("body is larger than %d bytes", maxWriteBody)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, badRequest("body is not a JSON object")
		}
		for _, n := range names {
			v, ok := obj[n]
			if !ok || string(v) == "null" {
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, badRequest("%s must be a string", n)
			}
			out[n] = s
		}
	case "", "application/x-www-form-urlencoded":
		r.Body = body
		if err := r.ParseForm(); err != nil {
			return nil, badRequest("malformed form or body larger than %d bytes", maxWriteBody)
		}
		for _, n := range names {
			out[n] = r.Form.Get(n)
		}
	default:
		return nil, &apiError{status: http.StatusUnsupportedMediaType, code: codeUnsupported,
			message: "send application/json or application/x-www-form-urlencoded"}
	}
	return out, nil
}
