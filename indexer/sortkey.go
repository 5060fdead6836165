package indexer

import (
	"hash/fnv"
	"time"

	"github.com/blevesearch/bleve/v2/mapping"
)

// The sort key of a post (field fieldSortKey) orders the "newest" sort and
// breaks ties of the relevance sort, so that a cursor names one position
// in a total order. It is one short keyword term with doc values:
//
//	8 characters  creation time in milliseconds since 1970 (UTC), clamped
//	              to [1970, 9999]
//	11 characters a 64-bit FNV-1a hash of the post URI
//
// both in sortKeyDigits, whose characters are in ASCII order, so comparing
// keys as strings compares creation times first. Sorting on it reads 19
// bytes of doc values per matching post. What it replaces cost far more:
// the creation time's doc values hold its 16 precision-shifted numeric
// terms (about 130 bytes a post), and the _id tie-breaker loads every
// match's stored fields, decompressing its text. Doc values are read in
// chunks of 1,024 posts that are decompressed whole, so a query with a few
// thousand matches among a million posts reads nearly every chunk: bytes
// per post are what counts.
//
// Two posts share a key only if they were created in the same millisecond
// and their URIs collide in 64 bits; the key is also indexed, so a
// relevance cursor finds its post again with a term query.
const (
	fieldSortKey   = "sk"
	sortKeyTimeLen = 8
	sortKeyHashLen = 11
	sortKeyLen     = sortKeyTimeLen + sortKeyHashLen
)

// sortKeyDigits are 64 digits in ascending ASCII order.
const sortKeyDigits = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

// maxSortKeyTime is the latest creation time a key tells apart; later
// ones are clamped to it.
var maxSortKeyTime = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)

// sortKey returns the sort key of a post created at created with the
// given URI.
func sortKey(created time.Time, uri string) string {
	var ms uint64
	switch {
	case created.Before(time.Unix(0, 0)):
		ms = 0
	case created.After(maxSortKeyTime):
		ms = uint64(maxSortKeyTime.UnixMilli())
	default:
		ms = uint64(created.UnixMilli())
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(uri)) // cannot fail
	var b [sortKeyLen]byte
	putDigits(b[:sortKeyTimeLen], ms)
	putDigits(b[sortKeyTimeLen:], h.Sum64())
	return string(b[:])
}

// putDigits writes v into b in sortKeyDigits, most significant first,
// zero-padded to len(b) digits (6 bits each).
func putDigits(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = sortKeyDigits[v&63]
		v >>= 6
	}
}

// validSortKey reports whether s has the form of a sort key (cursors come
// from clients).
func validSortKey(s string) bool {
	if len(s) != sortKeyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// hasSortKey reports whether an index mapping maps the sort key. Indexes
// created before it existed keep their stored mapping, which drops the
// field from new documents too: they are searched with the former sort
// (creation-time doc values and the _id tie-breaker) until rebuilt.
func hasSortKey(m mapping.IndexMapping) bool {
	im, ok := m.(*mapping.IndexMappingImpl)
	if !ok {
		return false
	}
	dm, ok := im.TypeMapping[docType]
	if !ok || dm == nil {
		return false
	}
	_, ok = dm.Properties[fieldSortKey]
	return ok
}
