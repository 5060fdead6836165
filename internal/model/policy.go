package model

import "time"

// OptOut is an instance admin's request that fedilens leave their host
// alone: no request is sent to it, its figures are not shown and its posts
// are removed. The operator records it (CLI or admin API) after the admin
// asked by mail, contact form or the like; robots.txt remains the way an
// admin opts out without asking anybody.
type OptOut struct {
	// Host is the normalised host name (see internal/hostname).
	Host string
	// Reason is the operator's note (who asked, when, how), plain text.
	// It is shown to the operator only, never to the public.
	Reason string
	// AddedAt is when the opt-out was recorded, in UTC.
	AddedAt time.Time
}

// Submission is a host somebody asked fedilens to crawl through the public
// API. It is only a hint: the host is then treated like any host found in
// a peer list, visited politely and never trusted beyond that.
type Submission struct {
	// Host is the normalised host name.
	Host string
	// SubmittedAt is when it was submitted, in UTC, to the second.
	SubmittedAt time.Time
	// ClientHash is a keyed hash of the submitter's network address: it
	// lets the operator see that many submissions came from one client
	// without storing who that client was.
	ClientHash string
}
