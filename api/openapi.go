package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/websearch"
)

// RouteOpenAPI serves the OpenAPI 3.0 description of the API. It lives
// beside /api/v1 rather than in it: it describes every version.
const RouteOpenAPI = "GET /api/openapi.json"

// endpoint documents one route: the OpenAPI document is built from this
// table, and TestOpenAPIRoutes checks that the table and the mux agree, so
// the description cannot drift from what is served.
type endpoint struct {
	route       string // a Route constant: "METHOD /path/{param}"
	tag         string
	summary     string
	description string
	params      []param
	// body names the form or JSON fields a write endpoint reads.
	body []param
	// response is a value of the success answer's type (its schema is
	// derived by reflection); status its code (default 200).
	response any
	status   int
	admin    bool // behind the admin token
	errors   []int
}

// param is one query, path or body parameter.
type param struct {
	name, in, typ, format, description string
	enum                               []string
	required                           bool
	min, max                           *int
}

func intp(n int) *int { return &n }

// Parameters shared by several endpoints.
var (
	paramIncludeFlagged = param{name: "include_flagged", in: "query", typ: "boolean",
		description: "Also count the instances whose reported figures the crawler flagged as implausible (left out by default)."}
	paramCursor = param{name: "cursor", in: "query", typ: "string",
		description: "Opaque cursor from the previous page's next_cursor."}

	// The common parameters of the statistics (internal/stats.ParseQuery).
	paramFrom = param{name: stats.ParamFrom, in: "query", typ: "string", format: "date",
		description: "First UTC day of the range (default: the first day with data)."}
	paramTo = param{name: stats.ParamTo, in: "query", typ: "string", format: "date",
		description: "Last UTC day of the range, included (default: the latest day with data)."}
	paramAt = param{name: stats.ParamTo, in: "query", typ: "string", format: "date",
		description: "The UTC day the figures are of (default, or a later day: the latest day with data)."}
	paramInterval = param{name: stats.ParamInterval, in: "query", typ: "string", enum: []string{string(stats.Day), string(stats.Week), string(stats.Month)},
		description: "Length of one point (default day); a week (from Monday) or a month stands for its last day with data."}
	paramSoftware = param{name: stats.ParamSoftware, in: "query", typ: "string",
		description: "Only instances running these programs: NodeInfo names, comma-separated or repeated (at most 20)."}
	paramLanguage = param{name: stats.ParamLanguage, in: "query", typ: "string",
		description: "Only instances whose instance document lists this language (a tag such as en or pt-br)."}

	paramPostLanguage = param{name: stats.ParamLanguage, in: "query", typ: "string",
		description: "Only posts written in this language (a tag such as en; und for posts without one)."}

	// overTimeParams select a range of days; atDateParams one day.
	overTimeParams = []param{paramFrom, paramTo, paramInterval, paramSoftware, paramLanguage, paramIncludeFlagged}
	atDateParams   = []param{paramAt, paramSoftware, paramLanguage, paramIncludeFlagged}
)

// nParam is the n of a top list of things.
func nParam(things string) param {
	return param{name: ParamN, in: "query", typ: "integer", min: intp(1), max: intp(stats.MaxTop),
		description: fmt.Sprintf("The number of %s (default %d, at most %d; more is a 400).", things, DefaultTopN, stats.MaxTop)}
}

func limitParam(def, max int) param {
	return param{name: "limit", in: "query", typ: "integer", min: intp(1), max: intp(max),
		description: fmt.Sprintf("Page size (default %d; larger values are capped at %d).", def, max)}
}

// endpoints is every route of the API, in the document's order.
func endpoints() []endpoint {
	hostParam := param{name: "host", in: "path", typ: "string", required: true, description: "The instance's host name."}
	softwarePath := param{name: "software", in: "path", typ: "string", required: true, description: "The program's NodeInfo name."}
	return []endpoint{
		{route: RouteInstances, tag: "instances", summary: "List instances",
			description: "One page of the instances fedilens has a snapshot of, with their latest state, filtered and sorted; ties are broken by host name and unknown values come last in either order.",
			params: []param{
				limitParam(DefaultLimit, MaxInstancesLimit),
				{name: "sort", in: "query", typ: "string", enum: model.InstanceSorts,
					description: "Order: by total users (default), monthly active users, local posts, size of the peer list, first seen, or host name."},
				{name: "order", in: "query", typ: "string", enum: []string{model.OrderDesc, model.OrderAsc},
					description: "Direction (default: descending, except ascending for host)."},
				paramSoftware,
				paramLanguage,
				{name: "registrations", in: "query", typ: "string", enum: []string{model.RegistrationsOpen, model.RegistrationsClosed},
					description: "Only instances open (or closed) to sign-ups."},
				{name: "q", in: "query", typ: "string",
					description: fmt.Sprintf("Only instances whose host name or title contains this text, in any case (at most %d bytes).", model.MaxInstanceText)},
				{name: stats.ParamIncludeFlagged, in: "query", typ: "boolean",
					description: "false leaves out the instances whose reported figures the crawler flagged as implausible; true (or absent) lists them with their flags."},
				{name: "flagged", in: "query", typ: "string", enum: []string{model.FlaggedInclude, model.FlaggedOnly, model.FlaggedExclude},
					description: "Instances whose figures were flagged as implausible: listed (default), only them, or left out."},
				paramCursor,
			},
			response: instancesJSON{}, errors: []int{400}},
		{route: RouteInstance, tag: "instances", summary: "One instance",
			description: "An instance's latest state, its history of snapshots (oldest first), its published peers and how its posts could be read.",
			params:      []param{hostParam}, response: instanceDetailJSON{}, errors: []int{400, 404}},
		{route: RouteHistory, tag: "instances", summary: "One instance's history",
			description: "The instance's last snapshot of each UTC day it answered (oldest first); with an interval, the last of each week or month. Days with flagged figures are left out unless include_flagged.",
			params:      []param{hostParam, paramFrom, paramTo, paramInterval, paramIncludeFlagged},
			response:    []stats.HostPoint{}, errors: []int{400, 404}},
		{route: RouteSubmitInstance, tag: "instances", summary: "Suggest an instance to crawl",
			description: "Asks fedilens to crawl a host. Rate limited per client address; the crawler decides whether and when.",
			body:        []param{{name: "host", typ: "string", required: true, description: "Host name to crawl."}},
			response:    submittedJSON{}, status: http.StatusAccepted, errors: []int{400, 403, 415, 429}},
		{route: RouteSearch, tag: "search", summary: "Search opted-in public posts",
			description: "Full-text search over the public posts of authors who opted in to search (indexable), newest or most relevant first.",
			params: []param{
				{name: websearch.ParamQ, in: "query", typ: "string", description: fmt.Sprintf("Query: words, \"phrases\", -excluded words (at most %d bytes).", websearch.MaxQueryLen)},
				{name: websearch.ParamSort, in: "query", typ: "string", enum: []string{model.SortRelevance, model.SortNewest}, description: "Order of the hits (default relevance)."},
				{name: websearch.ParamInstance, in: "query", typ: "string", description: fmt.Sprintf("Only posts from this instance (repeatable, at most %d).", websearch.MaxValues)},
				{name: websearch.ParamLang, in: "query", typ: "string", description: "Only posts in this language (BCP 47 primary tag; repeatable)."},
				{name: websearch.ParamTag, in: "query", typ: "string", description: "Only posts with this hashtag, without '#' (repeatable)."},
				{name: websearch.ParamFrom, in: "query", typ: "string", description: "Only posts by this author, user@host (repeatable)."},
				{name: websearch.ParamSince, in: "query", typ: "string", format: "date", description: "Only posts created on or after this UTC date."},
				{name: websearch.ParamUntil, in: "query", typ: "string", format: "date", description: "Only posts created on or before this UTC date."},
				{name: websearch.ParamFacets, in: "query", typ: "string", enum: []string{"1", "0", "true", "false"}, description: "Also count the hits by instance, language, hashtag and month."},
				limitParam(websearch.DefaultLimit, websearch.MaxLimit),
				paramCursor,
			},
			response: searchResultJSON{}, errors: []int{400, 404}},
		{route: RouteSummary, tag: "statistics", summary: "Headline numbers",
			description: "Instances, accounts, active users and local posts on one day (the latest with data, or to), the programs seen and the instances whose figures were flagged; and the posts indexed and the last crawl.",
			params:      atDateParams, response: summaryJSON{}, errors: []int{400, 404}},
		{route: RouteTotals, tag: "statistics", summary: "Totals over time",
			description: "Instances, accounts, monthly and half-year active users and local posts per day, week or month.",
			params:      overTimeParams, response: []stats.TotalsPoint{}, errors: []int{400, 404}},
		{route: RouteInstancesOverTime, tag: "statistics", summary: "Instances over time",
			description: "The number of instances that answered on each day (or on the last day with data of each week or month).",
			params:      overTimeParams, response: []instancesDayJSON{}, errors: []int{400, 404}},
		{route: RouteSoftware, tag: "statistics", summary: "Software share",
			description: "The instances of one day by program, with their accounts and monthly active users, most instances first.",
			params:      atDateParams, response: stats.Shares{}, errors: []int{400, 404}},
		{route: RouteSoftwareOverTime, tag: "statistics", summary: "Software share over time",
			description: "The software share of each day, week or month.",
			params:      overTimeParams, response: []stats.Shares{}, errors: []int{400, 404}},
		{route: RouteVersions, tag: "statistics", summary: "Version share",
			description: "One program's instances of one day by version, with their accounts and monthly active users.",
			params:      []param{softwarePath, paramAt, paramLanguage, paramIncludeFlagged},
			response:    stats.Shares{}, errors: []int{400, 404}},
		{route: RouteVersionsOverTime, tag: "statistics", summary: "Version share over time",
			description: "One program's version share of each day, week or month.",
			params:      []param{softwarePath, paramFrom, paramTo, paramInterval, paramLanguage, paramIncludeFlagged},
			response:    []stats.Shares{}, errors: []int{400, 404}},
		{route: RouteGrowth, tag: "statistics", summary: "Growth and churn",
			description: "Instances seen for the first time, dead (dated at their last day seen, once they have been unseen for 30 days in a row) and back after being dead, per day, week or month; periods without any are left out. The whole history before from is read, so an instance first seen earlier is not new.",
			params:      overTimeParams, response: []stats.GrowthPoint{}, errors: []int{400, 404}},
		{route: RouteRegistrations, tag: "statistics", summary: "Open and closed registrations",
			description: "The instances open and closed to sign-ups per day, week or month.",
			params:      overTimeParams, response: []stats.RegistrationsPoint{}, errors: []int{400, 404}},
		{route: RouteRegistrationsBySoftware, tag: "statistics", summary: "Registrations by software",
			description: "The instances open and closed to sign-ups on one day, by program.",
			params:      atDateParams, response: stats.RegistrationsAt{}, errors: []int{400, 404}},
		{route: RouteLanguages, tag: "statistics", summary: "Languages",
			description: "The instances of one day by the languages their instance document lists: an instance counts once for each (so the shares add up to more than the census); \"\" gathers those that list none.",
			params:      atDateParams, response: stats.Shares{}, errors: []int{400, 404}},
		{route: RouteSizes, tag: "statistics", summary: "Size distribution",
			description: "How accounts and monthly active users spread over the instances of one day: median, percentiles and the share of the largest 1% and 10%.",
			params:      atDateParams, response: stats.SizeDistribution{}, errors: []int{400, 404}},
		{route: RouteDegrees, tag: "federation", summary: "Peer degrees",
			description: "How many peers the instances of one day list (out-degree, over the instances whose peer list was read) and by how many of them each listed host is listed (in-degree): distributions with a logarithmic histogram. The filters select the listing instances.",
			params:      atDateParams, response: stats.Degrees{}, errors: []int{400, 404}},
		{route: RouteMostPeered, tag: "federation", summary: "Most-peered hosts",
			description: "The hosts listed as a peer by the most instances on one day, most first (ties by name), with their software and counts when they answered that day. The filters select the listing instances.",
			params:      append([]param{nParam("hosts")}, atDateParams...), response: stats.MostPeeredHosts{}, errors: []int{400, 404}},
		{route: RouteMostBlocked, tag: "federation", summary: "Most-blocked domains",
			description: "The domains suspended, silenced or limited by the most instances with a public block list on one day, weighted by their users, in all and per severity. The filters select the blocking instances.",
			params:      append([]param{nParam("domains")}, atDateParams...), response: stats.MostBlockedDomains{}, errors: []int{400, 404}},
		{route: RouteBlockReasons, tag: "federation", summary: "Block reasons",
			description: "The public reasons given most often by the block entries of the instances with a public block list on one day, grouped without case and surrounding space.",
			params:      append([]param{nParam("reasons")}, atDateParams...), response: stats.BlockReasons{}, errors: []int{400, 404}},
		{route: RouteThreads, tag: "federation", summary: "The Threads view",
			description: "How the instances treat each watched platform (threads.net, bsky.brid.gy): suspend, limit, federate, neither, or unknown when they publish no block list (never counted as not blocking); weighted by users, over time and on one day (to) by software.",
			params: append([]param{{name: ParamPlatform, in: "query", typ: "string",
				description: "Only these watched platforms (comma-separated or repeated; default all): " + strings.Join(stats.DefaultWatchedDomains, ", ") + " unless the server watches others."}},
				overTimeParams...),
			response: stats.ThreadsView{}, errors: []int{400, 404}},
		{route: RouteGraph, tag: "federation", summary: "The federation graph",
			description: "The top hosts by in-degree and the peer links among them, or one host and its neighbours (the hosts it lists and those listing it), laid out (x and y in [0, 1]) so that a client only draws. Without filters the top graph is a cut of one cached layout, so a node keeps its place when top changes.",
			params: append([]param{
				{name: ParamTop, in: "query", typ: "integer", min: intp(1), max: intp(stats.MaxGraphNodes),
					description: fmt.Sprintf("The number of most-peered hosts (default %d; the server's maximum is at most %d).", DefaultGraphNodes, stats.MaxGraphNodes)},
				{name: ParamAround, in: "query", typ: "string", description: "A host: its neighbourhood instead of the top graph (not with top)."},
				{name: ParamN, in: "query", typ: "integer", min: intp(1), max: intp(stats.MaxGraphNodes),
					description: fmt.Sprintf("With around: the number of neighbours (default %d), those linked both ways first, then by accounts.", DefaultEgoNodes)},
			}, atDateParams...),
			response: graph.Graph{}, errors: []int{400, 404}},
		{route: RouteTopPostLinks, tag: "federation", summary: "Top post links",
			description: "The links between instances made by the most stored posts (of authors who opted in) created from from's day through to's day: a host's posts mentioning accounts of another, answering its posts, or its authors boosting them. Opted-out hosts and links of a host to itself are left out.",
			params:      []param{nParam("links"), paramFrom, paramTo},
			response:    topPostLinksJSON{}, errors: []int{400, 404}},
		{route: RoutePostLinks, tag: "instances", summary: "One instance's post links",
			description: "The hosts an instance's stored posts link to (mention, reply, boost), with the number of posts and the first and last creation time, as of the end of to's day (default: now).",
			params:      []param{hostParam, paramTo},
			response:    postLinksJSON{}, errors: []int{400, 404}},
		{route: RouteHostStats, tag: "statistics", summary: "Hosts by crawl status",
			description: "Every host the crawler knows, counted by the outcome of its last visit.",
			response:    hostStatsJSON{}, errors: []int{404}},
		{route: RouteDomainStats, tag: "statistics", summary: "Hosts by registrable domain",
			description: "Registrable domains with many hosts (known, proven, capped, dead): how spam farms and hosting providers show.",
			params: []param{
				{name: "min_hosts", in: "query", typ: "integer", min: intp(1), description: fmt.Sprintf("Only domains with at least this many hosts (default %d).", DefaultMinHosts)},
				limitParam(DefaultLimit, MaxDomainsLimit),
			},
			response: domainsJSON{}, errors: []int{400, 404}},
		{route: RoutePostStats, tag: "statistics", summary: "Posts crawl",
			description: fmt.Sprintf("The stored posts, the authors' consent, which instances let fedilens read posts, why the rest was skipped, the top languages and instances and the posts of each of the last %d days; and, under filtered, the posts the parameters select (from and to bound the days they were created on, software their instance's program, language their own language) over time, by hashtag and by language. The parameters change filtered only.", PostStatsDays),
			params:      []param{paramFrom, paramTo, paramInterval, paramSoftware, paramPostLanguage},
			response:    postStatsJSON{}, errors: []int{400, 404}},
		{route: RouteAdminOptOuts, tag: "admin", summary: "List opted-out instances", admin: true,
			response: optOutsJSON{}, errors: []int{401}},
		{route: RouteAdminOptOutsAdd, tag: "admin", summary: "Opt an instance out", admin: true,
			description: "Adds a host to the opt-out list: it is no longer crawled, and its stored posts are purged.",
			body: []param{
				{name: "host", typ: "string", required: true, description: "Host name."},
				{name: "reason", typ: "string", description: fmt.Sprintf("Note for the operators (at most %d bytes).", maxReasonLen)},
			},
			response: optOutJSON{}, errors: []int{400, 401, 415}},
		{route: RouteAdminOptOutsRemove, tag: "admin", summary: "Remove an opt-out", admin: true,
			description: "Takes the host off the opt-out list (the host may also be given as ?host= in the URL).",
			body:        []param{{name: "host", typ: "string", required: true, description: "Host name."}},
			response:    removedJSON{}, errors: []int{400, 401, 404, 415}},
		{route: RouteAdminForget, tag: "admin", summary: "Forget an author or an instance", admin: true,
			description: "Removes every stored post of an account or of a whole instance from the index and ClickHouse, and keeps them out.",
			body:        []param{{name: "target", typ: "string", required: true, description: "acct:user@host, @user@host, user@host or a host."}},
			response:    forgetJSON{}, errors: []int{400, 401, 415}},
	}
}

// openAPIDoc is the subset of OpenAPI 3.0 the API needs (3.0 rather than
// 3.1: most client generators and viewers read it); map keys are
// sorted by encoding/json, so the document is deterministic.
type openAPIDoc struct {
	OpenAPI    string                           `json:"openapi"`
	Info       map[string]string                `json:"info"`
	Servers    []map[string]string              `json:"servers"`
	Tags       []map[string]string              `json:"tags"`
	Paths      map[string]map[string]*opOpenAPI `json:"paths"`
	Components map[string]any                   `json:"components"`
}

type opOpenAPI struct {
	OperationID string                `json:"operationId"`
	Tags        []string              `json:"tags"`
	Summary     string                `json:"summary"`
	Description string                `json:"description,omitempty"`
	Parameters  []map[string]any      `json:"parameters,omitempty"`
	RequestBody map[string]any        `json:"requestBody,omitempty"`
	Responses   map[string]any        `json:"responses"`
	Security    []map[string][]string `json:"security,omitempty"`
}

// OpenAPI returns the API's OpenAPI 3.0 document as indented JSON.
func OpenAPI(version string) []byte {
	if version == "" {
		version = "dev"
	}
	g := &schemaGen{schemas: map[string]any{}}
	errSchema := g.schema(reflect.TypeFor[errorBody]())
	doc := openAPIDoc{
		OpenAPI: "3.0.3",
		Info: map[string]string{
			"title":       "fedilens API",
			"version":     version,
			"description": "Read-only statistics of the fediverse as fedilens crawls it, and search over public posts whose authors opted in. Every answer is JSON; errors use one envelope ({\"error\": {\"code\", \"message\"}}). Answers carry an ETag (send If-None-Match for a 304) and may be cached for 60 seconds; any origin may read them (CORS). Clients are rate limited per address: a 429 says when to retry (Retry-After).",
		},
		Servers: []map[string]string{{"url": "/"}},
		Tags: []map[string]string{
			{"name": "instances", "description": "The census: instances and their history."},
			{"name": "search", "description": "Search over opted-in public posts."},
			{"name": "statistics", "description": "Figures over the census and the posts crawl."},
			{"name": "federation", "description": "Who lists, blocks and links to whom: peer degrees, rankings, the Threads view, the federation graph and the links made by posts."},
			{"name": "admin", "description": "The operator's controls, behind the admin token (fedilens serve --admin-token)."},
		},
		Paths: map[string]map[string]*opOpenAPI{},
	}
	for _, e := range endpoints() {
		method, path, _ := strings.Cut(e.route, " ")
		op := &opOpenAPI{
			OperationID: operationID(method, path),
			Tags:        []string{e.tag},
			Summary:     e.summary,
			Description: e.description,
			Responses:   map[string]any{},
		}
		for _, p := range e.params {
			op.Parameters = append(op.Parameters, p.openAPI())
		}
		if len(e.body) > 0 {
			props, req := map[string]any{}, []string{}
			for _, p := range e.body {
				props[p.name] = p.schema()
				if p.required {
					req = append(req, p.name)
				}
			}
			s := map[string]any{"type": "object", "properties": props, "required": req}
			op.RequestBody = map[string]any{"required": true, "content": map[string]any{
				"application/json":                  map[string]any{"schema": s},
				"application/x-www-form-urlencoded": map[string]any{"schema": s},
			}}
		}
		status := e.status
		if status == 0 {
			status = http.StatusOK
		}
		op.Responses[fmt.Sprint(status)] = map[string]any{
			"description": http.StatusText(status),
			"content":     map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(e.response))}},
		}
		if method == http.MethodGet {
			op.Responses["304"] = map[string]any{"description": "Not Modified (If-None-Match matched the ETag)"}
		}
		errs := append([]int{http.StatusInternalServerError}, e.errors...)
		if !e.admin {
			errs = append(errs, http.StatusTooManyRequests)
		}
		sort.Ints(errs)
		for _, code := range errs {
			op.Responses[fmt.Sprint(code)] = map[string]any{
				"description": http.StatusText(code),
				"content":     map[string]any{"application/json": map[string]any{"schema": errSchema}},
			}
		}
		if e.admin {
			op.Security = []map[string][]string{{"adminToken": {}}}
		}
		if doc.Paths[path] == nil {
			doc.Paths[path] = map[string]*opOpenAPI{}
		}
		doc.Paths[path][strings.ToLower(method)] = op
	}
	doc.Components = map[string]any{
		"schemas": g.schemas,
		"securitySchemes": map[string]any{"adminToken": map[string]any{
			"type": "http", "scheme": "bearer",
			"description": "The operator's admin token (fedilens serve --admin-token); never logged.",
		}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("api: encode the OpenAPI document: %v", err)) // only static data: a programming error
	}
	return append(b, '\n')
}

// operationID is a stable camel-case name for an operation:
// "GET /api/v1/stats/posts" is getStatsPosts.
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.FieldsFunc(strings.TrimPrefix(path, "/api/v1"), func(r rune) bool {
		return r == '/' || r == '-' || r == '{' || r == '}'
	}) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func (p param) schema() map[string]any {
	s := map[string]any{"type": p.typ}
	if p.format != "" {
		s["format"] = p.format
	}
	if len(p.enum) > 0 {
		s["enum"] = p.enum
	}
	if p.min != nil {
		s["minimum"] = *p.min
	}
	if p.max != nil {
		s["maximum"] = *p.max
	}
	if p.description != "" {
		s["description"] = p.description
	}
	return s
}

func (p param) openAPI() map[string]any {
	s := p.schema()
	delete(s, "description")
	out := map[string]any{"name": p.name, "in": p.in, "schema": s}
	if p.description != "" {
		out["description"] = p.description
	}
	if p.required || p.in == "path" {
		out["required"] = true
	}
	return out
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// schemaGen derives JSON Schemas from the answer types, registering each
// named struct once under components/schemas.
type schemaGen struct {
	schemas map[string]any
	// types remembers which Go type each schema name stands for: two
	// answer types of one name (an api type and an internal/stats one)
	// would otherwise share a schema silently.
	types map[string]reflect.Type
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	timestampType = reflect.TypeFor[timestamp]()
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == timestampType: // null for "never"
		return map[string]any{"type": "string", "format": "date-time", "nullable": true}
	case t.Kind() == reflect.Pointer:
		s := g.schema(t.Elem())
		if _, ok := s["$ref"]; ok {
			return map[string]any{"allOf": []any{s}, "nullable": true}
		}
		s["nullable"] = true
		return s
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		name := schemaName(t)
		if seen, ok := g.types[name]; ok && seen != t {
			panic(fmt.Sprintf("api: schema name %s stands for both %s and %s", name, seen, t))
		}
		if g.types == nil {
			g.types = map[string]reflect.Type{}
		}
		g.types[name] = t
		if _, ok := g.schemas[name]; !ok {
			g.schemas[name] = nil // a recursive type refers to itself
			g.schemas[name] = g.object(t)
		}
		return ref(name)
	}
	panic(fmt.Sprintf("api: no JSON schema for %s", t)) // a new answer type: extend schema
}

// object is the schema of a struct: its JSON fields (embedded structs'
// fields inline, as encoding/json writes them); fields without omitempty
// are always present, so required.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props, req := map[string]any{}, []string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				walk(f.Type)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			s := g.schema(f.Type)
			if d := f.Tag.Get("doc"); d != "" {
				if _, isRef := s["$ref"]; isRef {
					s = map[string]any{"allOf": []any{s}, "description": d}
				} else {
					s["description"] = d
				}
			}
			props[name] = s
			if !strings.Contains(opts, "omitempty") {
				req = append(req, name)
			}
		}
	}
	walk(t)
	sort.Strings(req)
	return map[string]any{"type": "object", "properties": props, "required": req}
}

// schemaName turns a Go type name into a schema name: snapshotJSON is
// Snapshot, model.SearchHit is SearchHit.
func schemaName(t reflect.Type) string {
	n := strings.TrimSuffix(t.Name(), "JSON")
	if n == "" {
		panic(fmt.Sprintf("api: anonymous struct %s in an answer", t))
	}
	r := []rune(n)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// openAPI serves RouteOpenAPI.
func (a *API) openAPI(*http.Request) (any, error) {
	return json.RawMessage(a.openAPIDoc), nil
}
