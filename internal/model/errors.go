package model

import "errors"

// Sentinel errors shared across packages. Producers wrap them with context;
// consumers test them with errors.Is and map them to API errors in one place.
var (
	// ErrNotFound: the requested instance, post or dataset does not exist.
	ErrNotFound = errors.New("not found")
	// ErrBadQuery: a search query or a listing parameter is invalid. The
	// wrapped message is safe to show to the client.
	ErrBadQuery = errors.New("bad query")
)
