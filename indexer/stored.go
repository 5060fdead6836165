package indexer

import (
	"context"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2"
)

// PostsByAuthor returns the URIs of an instance's stored posts grouped by
// author (user@host). The crawler rechecks these authors' consent at every
// visit and compares a full listing of their posts with what is stored,
// to purge what was deleted at the source.
func (ix *Index) PostsByAuthor(ctx context.Context, host string) (map[string][]string, error) {
	out := map[string][]string{}
	// Bleve allocates the whole page's matches up front: a fixed page of
	// 10,000 made a third of a census crawl's allocations (one call per
	// host, most with no post or a handful). Pages start small and grow.
	page := 32
	var after []string
	for ; ; page = min(2*page, 4096) {
		req := bleve.NewSearchRequestOptions(termQuery(fieldHost, strings.ToLower(host)), page, 0, false)
		req.SortBy([]string{"_id"})
		req.Score = "none"
		req.Fields = []string{fieldAuthor}
		if after != nil {
			req.SearchAfter = after
		}
		res, err := ix.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("listing posts of %s: %w", host, err)
		}
		for _, h := range res.Hits {
			a, _ := h.Fields[fieldAuthor].(string)
			out[a] = append(out[a], h.ID)
		}
		if len(res.Hits) < page {
			return out, nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}
