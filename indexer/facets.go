package indexer

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/fedilens/fedilens/internal/model"
)

// Facets are counted here rather than by Bleve's facet builder.
//
// Bleve counts a term facet by reading every match's doc values: the
// values are stored compressed in chunks of about a thousand documents,
// and the matches of a word are spread over the whole index, so nearly
// every match decompresses a chunk of its own, for each of the four facet
// fields: 50 ms for a word with 2,000 matches in a million posts
// (BENCHMARKS.md). Segments never change once written, so each segment's
// facet values are read once, in order, into plain arrays (facetColumns,
// a few bytes a post and field), and a search only records its matches'
// document numbers (recordingQuery) and counts them in the arrays. The
// counts are Bleve's exactly: the same terms, of the same matches
// (TestFacetsEqualBleve).

// facetFields are the fields counted, in the order of facetCounts.
var facetFields = []string{fieldHost, fieldLang, fieldTags, fieldMonth}

// facetCounts are counts by term, one map per facetFields entry.
type facetCounts [4]map[string]int

// facetCache holds the facet columns of the segments searched lately, by
// segment id (ids are never reused within an index).
type facetCache struct {
	mu   sync.Mutex
	segs map[uint64]*segmentFacets
}

type segmentFacets struct {
	once sync.Once
	err  error
	cols [len(facetCounts{})]facetColumn
}

// facetColumn is one field's terms of one segment's documents. Terms are
// numbered from 1 (0 is "no value") in terms; a field with at most one
// term a document (instance, language, month) is one number a document
// in ord; a field with more (hashtags) is the numbers vals[off[d]:off[d+1]]
// of document d.
type facetColumn struct {
	terms []string
	ord   []uint32
	off   []uint32
	vals  []uint32
}

// segment returns the facet columns of seg, reading them on first use.
func (c *facetCache) segment(ss *scorch.SegmentSnapshot) (*segmentFacets, error) {
	c.mu.Lock()
	if c.segs == nil {
		c.segs = map[uint64]*segmentFacets{}
	}
	sf, ok := c.segs[ss.Id()]
	if !ok {
		sf = &segmentFacets{}
		c.segs[ss.Id()] = sf
	}
	c.mu.Unlock()
	sf.once.Do(func() { sf.err = sf.read(ss.Segment()) })
	return sf, sf.err
}

// prune forgets the columns of segments no longer in snap (merged away).
func (c *facetCache) prune(snap *scorch.IndexSnapshot) {
	live := map[uint64]bool{}
	for _, ss := range snap.Segments() {
		live[ss.Id()] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.segs {
		if !live[id] {
			delete(c.segs, id)
		}
	}
}

// read reads the facet fields of every document of seg, in document
// order, so that each compressed chunk is read once.
func (sf *segmentFacets) read(seg segment.Segment) error {
	dv, ok := seg.(segment.DocValueVisitable)
	if !ok {
		return fmt.Errorf("reading facet values: segment %T has no doc values", seg)
	}
	n := seg.Count()
	type building struct {
		ords  map[string]uint32
		terms []string
		off   []uint32
		vals  []uint32
		multi bool
	}
	var b [len(facetCounts{})]building
	for i := range b {
		b[i] = building{ords: map[string]uint32{}, terms: []string{""}, off: make([]uint32, 1, n+1)}
	}
	fieldIdx := func(f string) int { return slices.Index(facetFields, f) }
	var state segment.DocVisitState
	var err error
	for doc := range n {
		state, err = dv.VisitDocValues(doc, facetFields, func(field string, term []byte) {
			i := fieldIdx(field)
			if i < 0 {
				return
			}
			o, ok := b[i].ords[string(term)]
			if !ok {
				o = uint32(len(b[i].terms))
				t := string(term)
				b[i].ords[t] = o
				b[i].terms = append(b[i].terms, t)
			}
			b[i].vals = append(b[i].vals, o)
		}, state)
		if err != nil {
			return fmt.Errorf("reading facet values of document %d: %w", doc, err)
		}
		for i := range b {
			l := uint32(len(b[i].vals))
			if l-b[i].off[len(b[i].off)-1] > 1 {
				b[i].multi = true
			}
			b[i].off = append(b[i].off, l)
		}
	}
	for i := range b {
		col := facetColumn{terms: b[i].terms}
		if b[i].multi {
			col.off, col.vals = b[i].off, b[i].vals
		} else {
			col.ord = make([]uint32, n)
			for d := range n {
				if b[i].off[d+1] > b[i].off[d] {
					col.ord[d] = b[i].vals[b[i].off[d]]
				}
			}
		}
		sf.cols[i] = col
	}
	return nil
}

// recordingQuery is a query that runs inner and records the document
// numbers of its matches, and the index snapshot they number, for
// counting facets after the search.
type recordingQuery struct {
	inner query.Query
	snap  *scorch.IndexSnapshot
	docs  []uint64
	err   error
}

// Searcher implements query.Query.
func (q *recordingQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o search.SearcherOptions) (search.Searcher, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("counting facets: index reader %T is not a scorch snapshot", r)
	}
	s, err := q.inner.Searcher(ctx, r, m, o)
	if err != nil {
		return nil, err
	}
	snap.AddRef() // released by release, after the facets are counted
	q.snap = snap
	return &recordingSearcher{Searcher: s, q: q}, nil
}

// release lets the snapshot go.
func (q *recordingQuery) release() {
	if q.snap != nil {
		_ = q.snap.DecRef()
		q.snap = nil
	}
}

func (q *recordingQuery) record(d *search.DocumentMatch) {
	if d == nil {
		return
	}
	if len(d.IndexInternalID) != 8 {
		q.err = fmt.Errorf("counting facets: unexpected internal id %x", []byte(d.IndexInternalID))
		return
	}
	q.docs = append(q.docs, binary.BigEndian.Uint64(d.IndexInternalID))
}

type recordingSearcher struct {
	search.Searcher
	q *recordingQuery
}

func (s *recordingSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	d, err := s.Searcher.Next(ctx)
	s.q.record(d)
	return d, err
}

func (s *recordingSearcher) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	d, err := s.Searcher.Advance(ctx, id)
	s.q.record(d)
	return d, err
}

// count counts the facet terms of the recorded matches.
func (c *facetCache) count(q *recordingQuery) (facetCounts, error) {
	var out facetCounts
	for i := range out {
		out[i] = map[string]int{}
	}
	if q.err != nil {
		return out, q.err
	}
	if q.snap == nil {
		return out, nil // the search never ran (nothing to match)
	}
	segs := q.snap.Segments()
	// The global number of a document is its segment's offset (the
	// documents of the segments before it, deleted ones included, as
	// scorch numbers them) plus its number in the segment.
	offsets := make([]uint64, len(segs)+1)
	for i, ss := range segs {
		offsets[i+1] = offsets[i] + ss.Segment().Count()
	}
	docs := q.docs
	slices.Sort(docs)
	var counts [len(facetCounts{})][]uint32
	var touched [len(facetCounts{})][]uint32
	for si := 0; si < len(segs) && len(docs) > 0; si++ {
		end := sort.Search(len(docs), func(i int) bool { return docs[i] >= offsets[si+1] })
		local := docs[:end]
		docs = docs[end:]
		if len(local) == 0 {
			continue
		}
		sf, err := c.segment(segs[si])
		if err != nil {
			return out, err
		}
		for f := range sf.cols {
			col := &sf.cols[f]
			counts[f] = slices.Grow(counts[f][:0], len(col.terms))[:len(col.terms)]
			clear(counts[f])
			touched[f] = touched[f][:0]
			inc := func(o uint32) {
				if counts[f][o] == 0 {
					touched[f] = append(touched[f], o)
				}
				counts[f][o]++
			}
			for _, g := range local {
				d := g - offsets[si]
				if col.ord != nil {
					if o := col.ord[d]; o != 0 {
						inc(o)
					}
					continue
				}
				for _, o := range col.vals[col.off[d]:col.off[d+1]] {
					inc(o)
				}
			}
			for _, o := range touched[f] {
				out[f][col.terms[o]] += int(counts[f][o])
			}
		}
	}
	if len(docs) > 0 {
		return out, fmt.Errorf("counting facets: %d matches beyond the snapshot's %d documents", len(docs), offsets[len(segs)])
	}
	c.prune(q.snap)
	return out, nil
}

// facetsOfCounts turns counts into the reported facets: the facetSize
// terms with the most matches (ties by term), months newest first.
func facetsOfCounts(fc facetCounts) *model.Facets {
	terms := func(m map[string]int) []model.FacetCount {
		out := make([]model.FacetCount, 0, len(m))
		for t, n := range m {
			out = append(out, model.FacetCount{Value: t, Count: n})
		}
		slices.SortFunc(out, func(a, b model.FacetCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Value, b.Value)
		})
		return out
	}
	top := func(m map[string]int) []model.FacetCount {
		t := terms(m)
		return t[:min(len(t), facetSize)]
	}
	f := &model.Facets{Instance: top(fc[0]), Language: top(fc[1]), Hashtag: top(fc[2])}
	months := terms(fc[3])
	slices.SortFunc(months, func(a, b model.FacetCount) int { return strings.Compare(b.Value, a.Value) })
	f.Month = months[:min(len(months), facetSize)]
	return f
}

// WarmFacets reads the facet values of every segment of the index that
// has not been read yet, so that the next faceted search does not wait
// for it. The index compacts itself and then warms its facets when idle;
// call it after Compact.
func (ix *Index) WarmFacets() error {
	if ix.bleveFacets {
		return nil
	}
	adv, err := ix.idx.Advanced()
	if err != nil {
		return fmt.Errorf("warming facets: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return fmt.Errorf("warming facets: %w", err)
	}
	defer func() { _ = r.Close() }()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return fmt.Errorf("warming facets: index reader %T is not a scorch snapshot", r)
	}
	for _, ss := range snap.Segments() {
		if _, err := ix.facets.segment(ss); err != nil {
			return err
		}
	}
	ix.facets.prune(snap)
	return nil
}
