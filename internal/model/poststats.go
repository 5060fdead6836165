package model

import "time"

// PostStats describes what the posts crawl stored and what it left out,
// for /api/v1/stats/posts and the dashboard's posts page. Every figure is
// an aggregate: no post, author or handle can be read from it.
type PostStats struct {
	// Posts is the number of posts stored (consenting authors, public,
	// live, within the retention).
	Posts uint64
	// ConsentingAuthors counts the authors whose latest consent check
	// found consent; DeclinedAuthors counts the others by reason
	// (consent.Reason values and "forgotten").
	ConsentingAuthors uint64
	DeclinedAuthors   map[string]uint64
	// HostsByAccess counts hosts by the verdict of their latest posts
	// crawl (PostAccess*), so readers see how many instances require
	// signatures or keep their posts private.
	HostsByAccess map[string]uint64
	// Skipped sums the accounts and posts not stored by reason, over each
	// host's latest posts crawl.
	Skipped map[string]uint64
	// ByLanguage and ByInstance are the most frequent post languages (""
	// when the post named none) and instances, most posts first, ties by
	// name; the rest is Posts minus their sum.
	ByLanguage []NameCount
	ByInstance []NameCount
	// PerDay counts the stored posts by UTC day of creation, one entry for
	// every day of the query's window, days without posts included.
	PerDay []DayCount
	// ContentWarning, Sensitive and AltText count the stored posts with a
	// content warning, marked sensitive, and with at least one media
	// description.
	ContentWarning uint64
	Sensitive      uint64
	AltText        uint64
}

// NameCount is one name (a language, an instance) and its number of posts.
type NameCount struct {
	Name  string
	Count uint64
}

// PostStatsQuery bounds PostStats: the days of PerDay, and how many
// languages and instances are ranked.
type PostStatsQuery struct {
	// From and To are the window of PerDay: the UTC days from From's day
	// up to, not including, To's day.
	From, To time.Time
	// Top is the number of languages and of instances listed.
	Top int
}
