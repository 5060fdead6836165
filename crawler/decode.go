package crawler

import (
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// remoteJSON are the decoding options for documents from remote servers.
// They keep what encoding/json (v1) accepted and servers in the wild rely
// on, without v1's cost (a full validation scan before every decode, a
// reflection walk per value):
//   - invalid UTF-8 is accepted and replaced with U+FFFD, as v1 does;
//   - a duplicate member name is accepted, the last one wins, as in v1;
//   - member names match struct fields case-insensitively, as in v1, and,
//     as in v1, '_' and '-' still count (v2 alone would let "createdAt"
//     match a "created_at" field, which v1 never did);
//   - time.Time takes what v1 takes: RFC 3339 with a one-digit hour, a
//     comma before the fraction, an offset hour of 24 (the v2 default is
//     strict RFC 3339);
//   - unknown members are ignored (the v2 default).
//
// Unlike v1, decoding stops at the first type error instead of carrying
// on with the rest of the document: callers that ignore an error must not
// rely on the members after the bad one.
var remoteJSON = jsonv2.JoinOptions(
	jsontext.AllowInvalidUTF8(true),
	jsontext.AllowDuplicateNames(true),
	jsonv2.MatchCaseInsensitiveNames(true),
	jsonv1.MatchCaseSensitiveDelimiter(true),
	jsonv1.ParseTimeWithLooseRFC3339(true),
)

// decodeJSON decodes a remote JSON document into v with the remoteJSON
// options. It is the one decoder of remote bodies in the crawler, so that
// every source treats sloppy servers alike; its errors are plain decoding
// errors for the caller to wrap (errMalformed, with what was read).
// UnmarshalJSON methods and json.RawMessage fields keep working.
func decodeJSON(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v, remoteJSON)
}

// partialJSON are remoteJSON plus v1's error semantics: a type error in
// one member does not stop the decoding of the next ones.
var partialJSON = jsonv2.JoinOptions(remoteJSON, jsonv1.ReportErrorsWithLegacySemantics(true))

// decodeJSONPartial is decodeJSON for the few callers that ignore the
// error and keep what was read (NodeInfo usage: "users" of the wrong
// shape must not lose "localPosts"), as v1 did. It costs a validation scan
// before the decode (about a fifth more), so it is not the default.
func decodeJSONPartial(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v, partialJSON)
}
