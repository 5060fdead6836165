package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// fakeForgetter records what it was asked to forget.
type fakeForgetter struct {
	mu     sync.Mutex
	scopes []model.PurgeScope
	err    error
}

func (f *fakeForgetter) Forget(_ context.Context, scope model.PurgeScope) (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, 0, f.err
	}
	f.scopes = append(f.scopes, scope)
	return 3, 2, nil
}

func TestParseForgetTarget(t *testing.T) {
	tests := []struct {
		in   string
		want model.PurgeScope
		bad  bool
	}{
		{in: "acct:Ann@Example.Social", want: model.PurgeScope{Author: "ann@example.social", Host: "example.social"}},
		{in: " @bob@b.test ", want: model.PurgeScope{Author: "bob@b.test", Host: "b.test"}},
		{in: "ACCT:cy.d-e_f@c.test", want: model.PurgeScope{Author: "cy.d-e_f@c.test", Host: "c.test"}},
		{in: "example.social", want: model.PurgeScope{Host: "example.social"}},
		{in: "Example.Social.", want: model.PurgeScope{Host: "example.social"}},
		{in: "localhost:3000", want: model.PurgeScope{Host: "localhost:3000"}},
		{in: "", bad: true},
		{in: "acct:", bad: true},
		{in: "@b.test", bad: true},
		{in: "a b@c.test", bad: true},
		{in: "x@y@c.test", bad: true},
		{in: "ann@", bad: true},
		{in: "https://example.social/@ann", bad: true},
		{in: "ann@exa mple.social", bad: true},
		{in: "ann\x00@c.test", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseForgetTarget(tc.in)
			if tc.bad {
				require.ErrorIs(t, err, ErrBadTarget)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestAdminForget(t *testing.T) {
	f := &fakeForgetter{}
	changed := 0
	mux := controlsMux(t, ControlsOptions{AdminToken: testToken, OptOuts: newFakeControlsStore(), Forget: f,
		OnOptOutsChanged: func(context.Context) error { changed++; return nil }}, nil, nil)
	auth := "Bearer " + testToken

	rec := do(mux, call{method: "POST", path: "/api/v1/admin/forget", contentType: "application/json", body: `{"target":"acct:ann@a.test"}`})
	require.Equal(t, http.StatusUnauthorized, rec.Code, "behind the admin token")
	require.Empty(t, f.scopes)

	rec = do(mux, call{method: "POST", path: "/api/v1/admin/forget", contentType: "application/json", body: `{"target":"acct:Ann@A.test"}`, auth: auth})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got forgetJSON
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Equal(t, forgetJSON{Target: "acct:ann@a.test", Kind: "author", Indexed: 3, Stored: 2}, got)
	require.Zero(t, changed)

	rec = do(mux, call{method: "POST", path: "/api/v1/admin/forget", contentType: "application/json", body: `{"target":"b.test"}`, auth: auth})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Equal(t, forgetJSON{Target: "b.test", Kind: "host", Indexed: 3, Stored: 2}, got)
	require.Equal(t, 1, changed, "a forgotten host is an opt-out: applied at once")
	require.Equal(t, []model.PurgeScope{{Author: "ann@a.test", Host: "a.test"}, {Host: "b.test"}}, f.scopes)

	rec = do(mux, call{method: "POST", path: "/api/v1/admin/forget", contentType: "application/json", body: `{"target":"<script>@x"}`, auth: auth})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	code, _ := errorCode(t, rec)
	require.Equal(t, codeBadRequest, code)

	f.err = errors.New("index is locked")
	rec = do(mux, call{method: "POST", path: "/api/v1/admin/forget", contentType: "application/json", body: `{"target":"c.test"}`, auth: auth})
	require.Equal(t, http.StatusInternalServerError, rec.Code)

	// Without a Forgetter the endpoint does not exist.
	mux = controlsMux(t, ControlsOptions{AdminToken: testToken, OptOuts: newFakeControlsStore()}, nil, nil)
	rec = do(mux, call{method: "POST", path: "/api/v1/admin/forget", contentType: "application/json", body: `{"target":"c.test"}`, auth: auth})
	require.NotEqual(t, http.StatusOK, rec.Code)
}
