package crawler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
)

// nodeInfoRels are the NodeInfo schema relations, best first.
var nodeInfoRels = []struct{ rel, version string }{
	{"http://nodeinfo.diaspora.software/ns/schema/2.2", "2.2"},
	{"http://nodeinfo.diaspora.software/ns/schema/2.1", "2.1"},
	{"http://nodeinfo.diaspora.software/ns/schema/2.0", "2.0"},
	{"http://nodeinfo.diaspora.software/ns/schema/1.1", "1.1"},
	{"http://nodeinfo.diaspora.software/ns/schema/1.0", "1.0"},
}

var errMalformed = errors.New("malformed document")

// pickNodeInfo returns the href and schema version of the highest NodeInfo
// version a well-known document offers. It accepts the quirks seen in the
// wild: links as an object instead of an array, href before rel, rel with
// "https" or a trailing slash.
func pickNodeInfo(body []byte) (href, version string, err error) {
	var doc struct {
		Links json.RawMessage `json:"links"`
	}
	if err := decodeJSON(body, &doc); err != nil {
		return "", "", fmt.Errorf("%w: nodeinfo discovery is not JSON: %v", errMalformed, err)
	}
	type link struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	}
	var links []link
	if err := decodeJSON(doc.Links, &links); err != nil {
		var one link
		if err2 := decodeJSON(doc.Links, &one); err2 != nil {
			return "", "", fmt.Errorf("%w: nodeinfo discovery has no links array", errMalformed)
		}
		links = []link{one}
	}
	best := len(nodeInfoRels)
	for _, l := range links {
		rel := strings.TrimSuffix(strings.Replace(strings.TrimSpace(l.Rel), "https://", "http://", 1), "/")
		for i, r := range nodeInfoRels {
			if rel == r.rel && i < best && strings.TrimSpace(l.Href) != "" {
				best, href = i, strings.TrimSpace(l.Href)
			}
		}
	}
	if best == len(nodeInfoRels) {
		return "", "", fmt.Errorf("%w: nodeinfo discovery offers no known schema", errMalformed)
	}
	return href, nodeInfoRels[best].version, nil
}

// flexInt is a count that may come as a number, a numeric string, null, or
// something else entirely (Pleroma once sent localPosts as an object); only
// the first two give a value.
type flexInt struct{ v *int64 }

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		f.v = parseCount(string(n))
		return nil
	}
	var s string
	if err := decodeJSON(b, &s); err == nil {
		f.v = parseCount(strings.TrimSpace(s))
	}
	return nil
}

func parseCount(s string) *int64 {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return &i
	}
	if fl, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(fl) && !math.IsInf(fl, 0) && math.Abs(fl) < 9e18 {
		i := int64(fl)
		return &i
	}
	return nil
}

// flexBool is a boolean that may come as a string ("FALSE", "true", "1").
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var v any
	if err := decodeJSON(b, &v); err != nil {
		return nil
	}
	switch x := v.(type) {
	case bool:
		*f = flexBool(x)
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		*f = s == "true" || s == "1" || s == "yes"
	case float64:
		*f = x != 0
	}
	return nil
}

// flexString takes a string, or a number printed as a string.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var v any
	if err := decodeJSON(b, &v); err != nil {
		return nil
	}
	switch x := v.(type) {
	case string:
		*f = flexString(x)
	case float64:
		*f = flexString(strconv.FormatFloat(x, 'f', -1, 64))
	}
	return nil
}

// flexStrings is a list of strings, or (NodeInfo 1.x style) an object of
// lists, or a single string.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	var list []string
	if err := decodeJSON(b, &list); err == nil {
		*f = list
		return nil
	}
	var obj map[string][]string
	if err := decodeJSON(b, &obj); err == nil {
		seen := map[string]bool{}
		for _, k := range []string{"inbound", "outbound"} {
			for _, p := range obj[k] {
				if !seen[p] {
					seen[p] = true
					*f = append(*f, p)
				}
			}
		}
		return nil
	}
	var one string
	if err := decodeJSON(b, &one); err == nil && one != "" {
		*f = []string{one}
	}
	return nil
}

// parseNodeInfo parses a NodeInfo document leniently into a snapshot. Only
// a missing or non-object document, or a missing software name, is an error.
func parseNodeInfo(body []byte, host, schemaVersion string) (model.Snapshot, error) {
	var doc struct {
		Software struct {
			Name    flexString `json:"name"`
			Version flexString `json:"version"`
		} `json:"software"`
		Protocols         flexStrings     `json:"protocols"`
		OpenRegistrations flexBool        `json:"openRegistrations"`
		Usage             json.RawMessage `json:"usage"`
		Metadata          json.RawMessage `json:"metadata"`
	}
	snap := model.Snapshot{Host: host, NodeInfoVersion: schemaVersion}
	if err := decodeJSON(body, &doc); err != nil {
		return snap, fmt.Errorf("%w: nodeinfo is not a JSON object: %v", errMalformed, err)
	}
	snap.Software = strings.ToLower(strings.TrimSpace(string(doc.Software.Name)))
	if snap.Software == "" {
		return snap, fmt.Errorf("%w: nodeinfo has no software name", errMalformed)
	}
	if len(snap.Software) > 64 {
		return snap, fmt.Errorf("%w: nodeinfo software name is longer than 64 bytes", errMalformed)
	}
	snap.Version = truncate(strings.TrimSpace(string(doc.Software.Version)), 128)
	for _, p := range doc.Protocols {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" && len(p) <= 32 && len(snap.Protocols) < 16 {
			snap.Protocols = append(snap.Protocols, p)
		}
	}
	snap.OpenRegistrations = bool(doc.OpenRegistrations)

	var usage struct {
		Users struct {
			Total          flexInt `json:"total"`
			ActiveMonth    flexInt `json:"activeMonth"`
			ActiveHalfyear flexInt `json:"activeHalfyear"`
		} `json:"users"`
		LocalPosts flexInt `json:"localPosts"`
	}
	if len(doc.Usage) > 0 {
		_ = decodeJSONPartial(doc.Usage, &usage) // a usage of the wrong shape just has no figures
	}
	snap.UsersTotal = usage.Users.Total.v
	snap.UsersActiveMonth = usage.Users.ActiveMonth.v
	snap.UsersActiveHalfyear = usage.Users.ActiveHalfyear.v
	snap.LocalPosts = usage.LocalPosts.v

	var meta struct {
		NodeName flexString `json:"nodeName"`
		Private  flexBool   `json:"private"`
	}
	if len(doc.Metadata) > 0 && bytes.HasPrefix(bytes.TrimSpace(doc.Metadata), []byte("{")) {
		_ = decodeJSON(doc.Metadata, &meta)
	}
	snap.Title = sanitize.PlainLine(string(meta.NodeName), 200)
	snap.Private = bool(meta.Private)
	return snap, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
