package indexer

import (
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Date filters (since:, until:) read the day of a post (fieldDay), a
// number of days since 1970, rather than its creation time. A numeric
// range is a disjunction of the precision-shifted terms that cover it:
// over nanoseconds, two years take a few hundred terms, each a posting
// list to advance for every candidate (the date filter made the slowest
// filtered searches, four times the language or instance filters); over
// days, a few dozen. Bounds that are not midnight UTC still read the
// creation time.

// dayNumber is the day of t, counted from 1970-01-01 UTC (negative
// before).
func dayNumber(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 86399) / 86400
	}
	return s / 86400
}

// dayField maps the day: indexed for ranges, neither stored nor with doc
// values.
func dayField() *mapping.FieldMapping {
	f := bleve.NewNumericFieldMapping()
	f.Store = false
	f.IncludeInAll = false
	f.DocValues = false
	return f
}

// midnight reports whether t is 00:00:00 UTC.
func midnight(t time.Time) bool {
	return t.Equal(t.UTC().Truncate(24 * time.Hour))
}

// dateQuery is the filter of posts created at or after since and before
// until (either may be zero).
func (ix *Index) dateQuery(since, until time.Time) query.Query {
	if ix.hasDay && (since.IsZero() || midnight(since)) && (until.IsZero() || midnight(until)) {
		var lo, hi *float64
		if !since.IsZero() {
			v := float64(dayNumber(since))
			lo = &v
		}
		if !until.IsZero() {
			v := float64(dayNumber(until))
			hi = &v
		}
		incl, excl := true, false
		q := bleve.NewNumericRangeInclusiveQuery(lo, hi, &incl, &excl)
		q.SetField(fieldDay)
		return q
	}
	incl, excl := true, false
	q := bleve.NewDateRangeInclusiveQuery(since, until, &incl, &excl)
	q.SetField(fieldCreated)
	return q
}

// hasField reports whether an index mapping maps field for posts. Indexes
// keep the mapping they were created with, so a field added later is
// missing from older indexes (and from their new documents too).
func hasField(m mapping.IndexMapping, field string) bool {
	return postField(m, field) != nil
}

// postField returns the mapping of a post field, nil when m does not map
// it (or is not an index mapping of this package's kind).
func postField(m mapping.IndexMapping, field string) *mapping.DocumentMapping {
	im, ok := m.(*mapping.IndexMappingImpl)
	if !ok {
		return nil
	}
	dm, ok := im.TypeMapping[docType]
	if !ok || dm == nil {
		return nil
	}
	return dm.Properties[field]
}
