package indexer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/fedilens/fedilens/internal/model"
)

// newestWindows are the month windows a "newest first" search tries, in
// months counted back from the month it starts in, before it searches the
// whole index.
//
// Sorting reads every matching post's sort key from doc values, which are
// read in chunks of 1,024 posts decompressed whole: a word with a few
// thousand matches among a million posts reads nearly every chunk. But a
// page of the newest posts lies in the last months whenever they hold a
// page of matches, and a month is a term (fieldMonth): filtering by it
// costs one posting-list step per match, and only the matches of the window
// are sorted. The total is counted separately, without reading doc values.
var newestWindows = []int{2, 6, 24}

// searchNewest runs a newest-first search through the month windows. ok
// is false when no window held a full page: the caller searches the whole
// index.
func (ix *Index) searchNewest(ctx context.Context, bq query.Query, after []string, limit int, now time.Time) (*bleve.SearchResult, uint64, bool, error) {
	start := now.UTC()
	if after != nil {
		t, ok := sortKeyTime(after[0])
		if !ok {
			return nil, 0, false, nil
		}
		start = t
	}
	// Posts dated after the starting month (the clock of a remote server
	// runs ahead, or a cursor from the past) are in every window.
	next := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
	incl := true
	later := bleve.NewDateRangeInclusiveQuery(next, time.Time{}, &incl, nil)
	later.SetField(fieldCreated)
	// The total is counted while the windows are searched: it needs every
	// match, the windows only their own.
	type counted struct {
		n   uint64
		err error
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	total := make(chan counted, 1)
	go func() {
		n, err := ix.count(cctx, bq)
		total <- counted{n, err}
	}()
	for _, months := range newestWindows {
		window := []query.Query{later}
		for i := 0; i < months; i++ {
			window = append(window, termQuery(fieldMonth, next.AddDate(0, -1-i, 0).Format("2006-01")))
		}
		b := bleve.NewBooleanQuery()
		b.AddMust(bq)
		b.AddFilter(bleve.NewDisjunctionQuery(window...))
		req := bleve.NewSearchRequestOptions(b, limit, 0, false)
		req.Fields = storedFields
		req.Score = "none" // sorted by time: scores would be thrown away
		req.SortByCustom(ix.sortOrder(model.SortNewest))
		if after != nil {
			req.SearchAfter = after
		}
		sr, err := ix.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, 0, false, fmt.Errorf("searching index: %w", err)
		}
		if len(sr.Hits) < limit {
			continue
		}
		c := <-total
		if c.err != nil {
			return nil, 0, false, c.err
		}
		return sr, c.n, true, nil
	}
	return nil, 0, false, nil
}

// count returns the number of posts q matches, without scoring, sorting
// or reading any stored field or doc value.
func (ix *Index) count(ctx context.Context, q query.Query) (uint64, error) {
	req := bleve.NewSearchRequestOptions(q, 0, 0, false)
	req.Score = "none"
	// Not by _id: that would read every match's id from the stored
	// fields.
	req.SortByCustom(search.SortOrder{&search.SortScore{}})
	sr, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("counting matches: %w", err)
	}
	return sr.Total, nil
}

// sortKeyTime decodes a sort key (see sortKey) to the time it encodes.
func sortKeyTime(k string) (time.Time, bool) {
	if !validSortKey(k) {
		return time.Time{}, false
	}
	var ms uint64
	for i := 0; i < len(k); i++ {
		ms = ms<<6 | uint64(strings.IndexByte(sortKeyDigits, k[i]))
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}
