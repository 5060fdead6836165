package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

const testToken = "s3cret-admin-token-0123456789abcdef"

// fakeControlsStore keeps opt-outs and submissions in memory.
type fakeControlsStore struct {
	mu      sync.Mutex
	optouts map[string]model.OptOut
	subs    []model.Submission
	err     error
}

func newFakeControlsStore() *fakeControlsStore {
	return &fakeControlsStore{optouts: map[string]model.OptOut{}}
}

func (f *fakeControlsStore) OptOuts(context.Context) ([]model.OptOut, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out := make([]model.OptOut, 0, len(f.optouts))
	for _, o := range f.optouts {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out, nil
}

func (f *fakeControlsStore) AddOptOut(_ context.Context, o model.OptOut) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	o.AddedAt = o.AddedAt.UTC().Truncate(time.Second)
	f.optouts[o.Host] = o
	return nil
}

func (f *fakeControlsStore) RemoveOptOut(_ context.Context, host string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if _, ok := f.optouts[host]; !ok {
		return fmt.Errorf("remove opt-out of %s: %w", host, model.ErrNotFound)
	}
	delete(f.optouts, host)
	return nil
}

func (f *fakeControlsStore) AddSubmission(_ context.Context, s model.Submission) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.subs = append(f.subs, s)
	return nil
}

func (f *fakeControlsStore) submissions() []model.Submission {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.Submission(nil), f.subs...)
}

// controlsMux mounts the API and the operator's endpoints.
func controlsMux(t *testing.T, opts ControlsOptions, logger *slog.Logger, reg prometheus.Registerer) *http.ServeMux {
	t.Helper()
	store, search := newFakes()
	a := New(Options{Store: store, Search: search, Logger: logger, Registerer: reg, Version: "test"})
	mux := http.NewServeMux()
	a.Register(mux)
	a.RegisterControls(mux, opts)
	return mux
}

type call struct {
	method, path, contentType, body string
	auth                            string // Authorization header, "" for none
	remote                          string // RemoteAddr, default 192.0.2.1:1234
}

func do(mux http.Handler, c call) *httptest.ResponseRecorder {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req := httptest.NewRequest(c.method, c.path, body)
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	req.RemoteAddr = "192.0.2.1:1234"
	if c.remote != "" {
		req.RemoteAddr = c.remote
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) (code, message string) {
	t.Helper()
	var body errorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "error envelope: %s", rec.Body.String())
	return body.Error.Code, body.Error.Message
}

func TestAdminAuth(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := newFakeControlsStore()
	withToken := controlsMux(t, ControlsOptions{AdminToken: testToken, OptOuts: st}, logger, nil)
	noToken := controlsMux(t, ControlsOptions{OptOuts: st}, logger, nil)
	const wrong = "wrong-token-that-is-long-enough"

	tests := []struct {
		name   string
		mux    http.Handler
		method string
		auth   string
		status int
		code   string
	}{
		{"no token configured: list", noToken, http.MethodGet, "Bearer " + testToken, 404, codeNotFound},
		{"no token configured: add", noToken, http.MethodPost, "Bearer " + testToken, 404, codeNotFound},
		{"no token configured: remove", noToken, http.MethodDelete, "", 404, codeNotFound},
		{"no header", withToken, http.MethodGet, "", 401, codeUnauthorized},
		{"wrong token", withToken, http.MethodGet, "Bearer " + wrong, 401, codeUnauthorized},
		{"wrong token on add", withToken, http.MethodPost, "Bearer " + wrong, 401, codeUnauthorized},
		{"wrong token on remove", withToken, http.MethodDelete, "Bearer " + wrong, 401, codeUnauthorized},
		{"token prefix", withToken, http.MethodGet, "Bearer " + testToken[:len(testToken)-1], 401, codeUnauthorized},
		{"token with suffix", withToken, http.MethodGet, "Bearer " + testToken + "x", 401, codeUnauthorized},
		{"basic scheme", withToken, http.MethodGet, "Basic " + testToken, 401, codeUnauthorized},
		{"bare token", withToken, http.MethodGet, testToken, 401, codeUnauthorized},
		{"empty bearer", withToken, http.MethodGet, "Bearer ", 401, codeUnauthorized},
		{"right token", withToken, http.MethodGet, "Bearer " + testToken, 200, ""},
		{"scheme is case-insensitive", withToken, http.MethodGet, "bearer " + testToken, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := call{method: tc.method, path: "/api/v1/admin/optouts", auth: tc.auth}
			if tc.method == http.MethodPost {
				c.contentType, c.body = "application/json", `{"host":"x.example"}`
			}
			if tc.method == http.MethodDelete {
				c.path += "?host=x.example"
			}
			rec := do(tc.mux, c)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), "no CORS grant on admin routes")
			if tc.code != "" {
				code, _ := errorCode(t, rec)
				require.Equal(t, tc.code, code)
			}
			if tc.status == 401 {
				require.Equal(t, `Bearer realm="fedilens admin"`, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
	require.Empty(t, st.optouts, "no request without the right token changed anything")

	// Without a token the admin routes look exactly like unknown ones.
	unknown := do(noToken, call{method: http.MethodGet, path: "/api/v1/admin/nothing"})
	disabled := do(noToken, call{method: http.MethodGet, path: "/api/v1/admin/optouts"})
	require.Equal(t, unknown.Body.String(), disabled.Body.String())

	// The token is never logged, nor a wrong one, whatever the level.
	require.Contains(t, logs.String(), "admin request refused", "refusals are logged")
	require.NotContains(t, logs.String(), testToken)
	require.NotContains(t, logs.String(), testToken[:12])
	require.NotContains(t, logs.String(), wrong)
}

func TestAdminOptOuts(t *testing.T) {
	st := newFakeControlsStore()
	now := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	var changes int
	reg := prometheus.NewPedanticRegistry()
	mux := controlsMux(t, ControlsOptions{
		AdminToken: testToken, OptOuts: st, Now: func() time.Time { return now },
		OnOptOutsChanged: func(context.Context) error { changes++; return errors.New("reload failed") },
	}, nil, reg)
	auth := "Bearer " + testToken

	rec := do(mux, call{method: http.MethodPost, path: "/api/v1/admin/optouts", auth: auth,
		contentType: "application/json; charset=utf-8", body: `{"host":"Gone.Example.","reason":"mail\nfrom the admin","extra":1}`})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"host":"gone.example","reason":"mail from the admin","added_at":"2026-01-02T03:04:05Z"}`, rec.Body.String())
	require.Equal(t, 1, changes, "the change is applied at once (its failure is only logged)")

	rec = do(mux, call{method: http.MethodPost, path: "/api/v1/admin/optouts", auth: auth,
		contentType: "application/x-www-form-urlencoded", body: "host=other.example"})
	require.Equal(t, 200, rec.Code, rec.Body.String())

	rec = do(mux, call{method: http.MethodGet, path: "/api/v1/admin/optouts", auth: auth})
	require.Equal(t, 200, rec.Code)
	require.JSONEq(t, `{"optouts":[
		{"host":"gone.example","reason":"mail from the admin","added_at":"2026-01-02T03:04:05Z"},
		{"host":"other.example","reason":"","added_at":"2026-01-02T03:04:05Z"}]}`, rec.Body.String())

	rec = do(mux, call{method: http.MethodDelete, path: "/api/v1/admin/optouts?host=gone.example", auth: auth})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"host":"gone.example","status":"removed"}`, rec.Body.String())
	require.Equal(t, 3, changes)
	rec = do(mux, call{method: http.MethodDelete, path: "/api/v1/admin/optouts?host=gone.example", auth: auth})
	require.Equal(t, 404, rec.Code)
	_, msg := errorCode(t, rec)
	require.Equal(t, "gone.example is not on the opt-out list", msg)

	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		message                 string
	}{
		{"missing host", "application/json", `{}`, 400, "host is required"},
		{"host not a string", "application/json", `{"host":1}`, 400, "host must be a string"},
		{"not an object", "application/json", `["x.example"]`, 400, "not a JSON object"},
		{"bad name", "application/json", `{"host":"bad host"}`, 400, "invalid host name"},
		{"reason too long", "application/json", `{"host":"x.example","reason":"` + strings.Repeat("x", maxReasonLen+1) + `"}`, 400, "reason is longer"},
		{"body too large", "application/json", `{"host":"x.example","reason":"` + strings.Repeat("x", maxWriteBody) + `"}`, 400, "larger than"},
		{"xml", "application/xml", `<host>x.example</host>`, 415, "send application/json"},
		{"bad content type", "a/b/c;;", `x`, 400, "malformed Content-Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(mux, call{method: http.MethodPost, path: "/api/v1/admin/optouts", auth: auth, contentType: tc.contentType, body: tc.body})
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			_, msg := errorCode(t, rec)
			require.Contains(t, msg, tc.message)
		})
	}

	// Store failures are internal errors with a generic message.
	st.err = errors.New("clickhouse: secret detail")
	rec = do(mux, call{method: http.MethodGet, path: "/api/v1/admin/optouts", auth: auth})
	require.Equal(t, 500, rec.Code)
	require.NotContains(t, rec.Body.String(), "secret detail")

	// The operator's routes are counted like every other route.
	fs, _ := newFakes()
	shared := New(Options{Store: fs, Registerer: reg})
	require.InDelta(t, 2, testutil.ToFloat64(shared.metrics.requests.WithLabelValues(RouteAdminOptOutsAdd, "200")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(shared.metrics.requests.WithLabelValues(RouteAdminOptOutsRemove, "404")), 0)
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestCheckAdminToken(t *testing.T) {
	for _, tc := range []struct {
		token string
		ok    bool
	}{
		{"", true},
		{testToken, true},
		{"changeme", false},
		{"0123456789abcde", false},
		{"0123456789abcdef", true},
		{"0123456789 abcdef", false},
		{"0123456789abcdéf", false},
		{"0123456789abcdef\n", false},
	} {
		t.Run(tc.token, func(t *testing.T) {
			err := CheckAdminToken(tc.token)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrWeakAdminToken)
			require.NotContains(t, err.Error(), tc.token, "the token is not echoed")
		})
	}
	require.Panics(t, func() {
		controlsMux(t, ControlsOptions{AdminToken: "short", OptOuts: newFakeControlsStore()}, nil, nil)
	})
	require.Panics(t, func() { controlsMux(t, ControlsOptions{AdminToken: testToken}, nil, nil) })
}
