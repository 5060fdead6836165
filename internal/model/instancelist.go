package model

// InstanceListQuery selects, orders and pages the instance explorer: the
// latest state of every instance, filtered the way the statistics are
// (software, language, sanity verdict) plus what people choosing or
// studying a server look for (open registrations, a name).
type InstanceListQuery struct {
	// Software keeps the instances running one of these programs (NodeInfo
	// names, lower-case); empty: all.
	Software []string
	// Language keeps the instances whose instance document lists it.
	Language string
	// Registrations is RegistrationsOpen, RegistrationsClosed or "" (all).
	Registrations string
	// Flagged filters by sanity verdict, as InstanceQuery.Flagged.
	Flagged string
	// Text keeps the instances whose host name or title (NodeInfo's or the
	// instance document's) contains it, case-insensitively; at most
	// MaxInstanceText bytes.
	Text string
	// Sort is one of the InstanceSort values (default InstanceSortUsers).
	Sort string
	// Order is OrderAsc or OrderDesc; "" is the sort's natural order:
	// descending for counts and first seen (biggest, newest first),
	// ascending for host names.
	Order string
	// Limit is the page size (1..1000; 0 means 100).
	Limit int
	// Cursor is the previous page's NextCursor ("" = first page); it is
	// only valid with the Sort and Order it was made for.
	Cursor string
}

// The sorts of InstanceListQuery. Every sort breaks ties by host name, and
// instances whose value is unknown come last in either order.
const (
	InstanceSortUsers     = "users"      // NodeInfo users total
	InstanceSortActive    = "active"     // monthly active users
	InstanceSortPosts     = "posts"      // local posts
	InstanceSortPeers     = "peers"      // size of the latest peer list read
	InstanceSortFirstSeen = "first_seen" // first snapshot
	InstanceSortHost      = "host"       // host name
)

// InstanceSorts lists the sorts of InstanceListQuery, in documentation order.
var InstanceSorts = []string{InstanceSortUsers, InstanceSortActive, InstanceSortPosts, InstanceSortPeers,
	InstanceSortFirstSeen, InstanceSortHost}

// Orders of InstanceListQuery.
const (
	OrderAsc  = "asc"
	OrderDesc = "desc"
)

// The values of InstanceListQuery.Registrations.
const (
	RegistrationsOpen   = "open"
	RegistrationsClosed = "closed"
)

// MaxInstanceText bounds InstanceListQuery.Text: a name, not a document.
const MaxInstanceText = 100

// LinkCounts are the sizes of a host's latest peer list and latest public
// domain-block list read: how connected and how guarded an instance is,
// without reading the link tables. Nil when no such list was ever read.
type LinkCounts struct {
	Peers, Blocks *int64
}
