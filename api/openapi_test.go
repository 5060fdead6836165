package api

import (
	"context"

	"encoding/json"
	"flag"
	"github.com/getkin/kin-openapi/openapi3"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json from the code")

// TestOpenAPIGolden pins the published description: a change of the API's
// surface shows up as a diff of testdata/openapi.json in review
// (go test ./api -run TestOpenAPIGolden -update rewrites it).
func TestOpenAPIGolden(t *testing.T) {
	got := OpenAPI("golden")
	path := filepath.Join("testdata", "openapi.json")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./api -run TestOpenAPIGolden -update to create it")
	require.Equal(t, string(want), string(got), "the API's description changed: review and run with -update")
}

// TestOpenAPIRoutes checks the document against the mux both ways: every
// documented operation is served by its own handler (not the catch-all),
// and every route the API mounts is documented.
func TestOpenAPIRoutes(t *testing.T) {
	st := newFakeControlsStore()
	mux := controlsMux(t, ControlsOptions{AdminToken: testToken, OptOuts: st, Submissions: st, Forget: &fakeForgetter{}}, nil, nil)

	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(OpenAPI("x"), &doc))
	documented := map[string]bool{}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for path, ops := range doc.Paths {
		for method := range ops {
			pattern := strings.ToUpper(method) + " " + path
			documented[pattern] = true
			req := httptest.NewRequest(strings.ToUpper(method), param.ReplaceAllString(path, "example.social"), nil)
			_, got := mux.Handler(req)
			require.Equal(t, pattern, got, "documented %s is not served by its own route", pattern)
		}
	}
	for _, e := range endpoints() {
		require.True(t, documented[e.route], e.route)
	}
	// Every route constant mounted on the mux is in the table.
	for _, route := range mountedRoutes(t, mux) {
		require.True(t, documented[route], "route %s is served but not documented", route)
	}
}

// mountedRoutes lists the patterns of this package's Route constants that
// the mux serves, by asking it for each one.
func mountedRoutes(t *testing.T, mux *http.ServeMux) []string {
	t.Helper()
	all := []string{RouteOpenAPI, RouteInstances, RouteInstance, RouteSearch, RouteSummary, RouteSoftware,
		RouteInstancesOverTime, RouteHostStats, RouteDomainStats, RoutePostStats, RouteAdminOptOuts,
		RouteAdminOptOutsAdd, RouteAdminOptOutsRemove, RouteSubmitInstance, RouteAdminForget,
		RouteTotals, RouteSoftwareOverTime, RouteVersions, RouteVersionsOverTime, RouteGrowth, RouteRegistrations,
		RouteRegistrationsBySoftware, RouteLanguages, RouteSizes, RouteHistory,
		RouteDegrees, RouteMostPeered, RouteMostBlocked, RouteBlockReasons, RouteThreads, RouteTopPostLinks,
		RouteGraph, RoutePostLinks}
	var out []string
	for _, route := range all {
		method, path, _ := strings.Cut(route, " ")
		path = strings.NewReplacer("{host}", "example.social", "{software}", "mastodon").Replace(path)
		req := httptest.NewRequest(method, path, nil)
		if _, got := mux.Handler(req); got == route && route != RouteOpenAPI {
			out = append(out, route)
		}
	}
	require.NotEmpty(t, out)
	return out
}

func newFakeAPIStore() Store {
	s, _ := newFakes()
	return s
}

func TestOpenAPIServed(t *testing.T) {
	mux := http.NewServeMux()
	New(Options{Store: newFakeAPIStore(), Version: "1.2.3"}).Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))
	require.NotEmpty(t, rec.Header().Get("ETag"))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	require.Equal(t, "3.0.3", doc["openapi"])
	require.Equal(t, "1.2.3", doc["info"].(map[string]any)["version"])
}

// TestOpenAPISchemas spot-checks the derived schemas: pointers are
// nullable, omitempty fields optional, embedded fields inlined.
func TestOpenAPISchemas(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
				Required   []string                  `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(OpenAPI("x"), &doc))
	snap := doc.Components.Schemas["Snapshot"]
	require.Equal(t, "integer", snap.Properties["users_total"]["type"])
	require.Equal(t, true, snap.Properties["users_total"]["nullable"])
	require.Equal(t, "date-time", snap.Properties["crawled_at"]["format"])
	require.Contains(t, snap.Required, "host")
	require.NotContains(t, snap.Required, "instance_document")
	inst := doc.Components.Schemas["Instance"]
	require.Contains(t, inst.Properties, "host", "the embedded snapshot's fields are inlined")
	require.Contains(t, inst.Properties, "first_seen")
	require.Contains(t, doc.Components.Schemas, "ErrorBody")
	require.NotContains(t, doc.Components.Schemas["Instances"].Required, "next_cursor")
}

func TestReadRateLimit(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	mux := http.NewServeMux()
	New(Options{Store: newFakeAPIStore(), ReadPerSecond: 1, ReadBurst: 3, Now: func() time.Time { return now }}).Register(mux)
	get := func(addr string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/instances", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	for range 3 {
		require.Equal(t, http.StatusOK, get("192.0.2.1:1234").Code)
	}
	rec := get("192.0.2.1:1235")
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "1", rec.Header().Get("Retry-After"))
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	require.JSONEq(t, `{"error":{"code":"rate_limited","message":"too many requests from your address; retry in 1 seconds"}}`, rec.Body.String())
	require.Equal(t, http.StatusOK, get("192.0.2.2:1").Code, "another client has its own bucket")
	for _, addr := range []string{"[2001:db8::1]:1", "[2001:db8::2]:1", "[2001:db8::3]:1"} {
		require.Equal(t, http.StatusOK, get(addr).Code)
	}
	require.Equal(t, http.StatusTooManyRequests, get("[2001:db8::4]:1").Code, "an IPv6 /64 is one client")
	require.Equal(t, http.StatusOK, get("[2001:db8:0:1::1]:1").Code, "another /64 is another client")
	now = now.Add(time.Second)
	require.Equal(t, http.StatusOK, get("192.0.2.1:1").Code, "a token came back after a second")
	require.Equal(t, http.StatusTooManyRequests, get("192.0.2.1:1").Code)
}

// TestOpenAPIValid has an independent implementation (kin-openapi) load
// and validate the document, $refs and all.
func TestOpenAPIValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI("x"))
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	require.NotEmpty(t, doc.Paths.Map())
}

// TestSchemaNamesAreUnique: two answer types that would get the same
// schema name (an api type and an internal/stats one) are a mistake the
// generator refuses, instead of describing one with the other's schema.
func TestSchemaNamesAreUnique(t *testing.T) {
	type summary struct {
		X int `json:"x"`
	}
	g := &schemaGen{schemas: map[string]any{}}
	g.schema(reflect.TypeFor[summaryJSON]())
	require.NotPanics(t, func() { g.schema(reflect.TypeFor[summaryJSON]()) }, "the same type again is fine")
	require.Panics(t, func() { g.schema(reflect.TypeFor[summary]()) })
}
