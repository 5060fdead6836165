package indexer

import (
	"time"
)

// The sort key of a post (field fieldSortKey) orders the "newest" sort:
// its creation time in milliseconds since 1970 (UTC, clamped to [1970,
// 9999]) as 8 digits of sortKeyDigits, whose characters are in ASCII
// order, so comparing keys as strings compares times. Ties are broken by
// the post URI (_id), which costs little: Bleve keeps it uncompressed in
// front of a document's stored fields.
//
// Sorting on the key reads 8 bytes of doc values per matching post. The
// creation time's own doc values, which the sort read before, hold its 16
// precision-shifted numeric terms (about 130 bytes a post). Doc values are
// read in chunks of 1,024 posts that are decompressed whole, so a query
// with a few thousand matches among a million posts reads nearly every
// chunk: bytes per post are what counts.
const (
	fieldSortKey = "sk"
	sortKeyLen   = 8
)

// sortKeyDigits are 64 digits in ascending ASCII order.
const sortKeyDigits = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

// maxSortKeyTime is the latest creation time a key tells apart; later
// ones are clamped to it.
var maxSortKeyTime = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)

// sortKey returns the sort key of a post created at created.
func sortKey(created time.Time) string {
	var ms uint64
	switch {
	case created.Before(time.Unix(0, 0)):
		ms = 0
	case created.After(maxSortKeyTime):
		ms = uint64(maxSortKeyTime.UnixMilli())
	default:
		ms = uint64(created.UnixMilli())
	}
	var b [sortKeyLen]byte
	putDigits(b[:], ms)
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
