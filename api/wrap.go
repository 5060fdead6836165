package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// handlerFunc is what every endpoint is written as: it reads the request
// and returns the value to encode, or an error that wrap maps to a status.
type handlerFunc func(r *http.Request) (any, error)

// Error codes of the error envelope. Clients switch on these, not on
// messages.
const (
	codeBadRequest = "bad_request"
	codeNotFound   = "not_found"
	codeInternal   = "internal"
)

// internalMessage is all a client learns about an internal error; the
// detail goes to the log only.
const internalMessage = "internal error"

// maxMessageLen bounds the safe messages passed through from the store and
// the index, so a pathological query cannot be echoed back at length.
const maxMessageLen = 300

// apiError is an error with a status, a code and a message that is safe to
// send to the client.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, code: codeBadRequest, message: fmt.Sprintf(format, args...)}
}

func notFound(message string) error {
	return &apiError{status: http.StatusNotFound, code: codeNotFound, message: message}
}

// errorBody is the one error format of the API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// classify maps any error a handler returns to what the client may see.
// It is the only place where errors become statuses; everything it does not
// recognise is internal, logged by the caller and answered generically.
func classify(err error) (status int, body errorBody, internal bool) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.status, errorBody{errorDetail{ae.code, ae.message}}, false
	case errors.Is(err, model.ErrNotFound):
		return http.StatusNotFound, errorBody{errorDetail{codeNotFound, "not found"}}, false
	case errors.Is(err, model.ErrBadQuery), errors.Is(err, stats.ErrBadQuery):
		// Their contract: the wrapped message is safe to show.
		return http.StatusBadRequest, errorBody{errorDetail{codeBadRequest, truncate(err.Error(), maxMessageLen)}}, false
	default:
		return http.StatusInternalServerError, errorBody{errorDetail{codeInternal, internalMessage}}, true
	}
}

// wrap turns h into an http.Handler: it encodes the result as JSON, maps
// errors, sets the caching, CORS and content-type-sniffing headers, answers
// conditional requests with 304 and records metrics under route.
func (a *API) wrap(route string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		hdr := w.Header()
		hdr.Set("X-Content-Type-Options", "nosniff")
		// Every route is a public GET of public data: any origin may read it.
		hdr.Set("Access-Control-Allow-Origin", "*")
		if a.version != "" {
			hdr.Set("X-Fedilens-Version", a.version)
		}
		if a.limiter != nil {
			if ok, wait := a.limiter.allow(clientKey(r)); !ok {
				secs := max(int(math.Ceil(wait.Seconds())), 1)
				hdr.Set("Retry-After", strconv.Itoa(secs))
				status := a.writeError(w, r, route, &apiError{status: http.StatusTooManyRequests, code: codeRateLimited,
					message: fmt.Sprintf("too many requests from your address; retry in %d seconds", secs)})
				a.metrics.observe(route, status, time.Since(start))
				return
			}
		}
		status := a.respond(w, r, route, h)
		a.metrics.observe(route, status, time.Since(start))
	})
}

// respond runs h and writes its answer, returning the status sent.
func (a *API) respond(w http.ResponseWriter, r *http.Request, route string, h handlerFunc) int {
	v, err := h(r)
	var body []byte
	if err == nil {
		body, err = json.Marshal(v)
		if err != nil {
			err = fmt.Errorf("encode response: %w", err)
		}
	}
	if err != nil {
		return a.writeError(w, r, route, err)
	}
	body = append(body, '\n')

	hdr := w.Header()
	etag := etagOf(body)
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", "public, max-age=60")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the client went away: nothing left to do
	return http.StatusOK
}

// writeError sends err in the error envelope. Internal errors are logged
// with their detail; a request the client abandoned is not worth an error log.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, route string, err error) int {
	status, body, internal := classify(err)
	if internal {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			a.log.Debug("request abandoned by client", "route", route, "err", err)
		} else {
			a.log.Error("api request failed", "route", route, "path", r.URL.Path, "err", err)
		}
	}
	b, mErr := json.Marshal(body)
	if mErr != nil { // cannot happen with two strings; keep the envelope anyway
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	// Errors are not cached: a 500 must not outlive the outage.
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return status
}

// etagOf derives a strong validator from the response body, so that equal
// answers have equal tags across processes and restarts.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// etagMatches implements If-None-Match's weak comparison (RFC 9110 13.1.2)
// over a comma-separated list of tags or "*".
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" {
			return true
		}
		if strings.TrimPrefix(candidate, "W/") == etag {
			return true
		}
	}
	return false
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not start the cut inside a rune
		n--
	}
	return s[:n] + "…"
}
