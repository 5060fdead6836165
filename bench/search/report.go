package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/bench/internal/benchmd"
	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/indexer/indexbench"
)

// sectionTitle is the heading of the section this bench owns in
// BENCHMARKS.md; other sections are left alone.
const sectionTitle = "## Search"

// targetP99 is the latency target for every query kind.
const targetP99 = 50 * time.Millisecond

type results struct {
	Config  config
	Machine benchenv.Machine
	Date    time.Time
	Command string

	MappingBase, MappingNew indexbench.Result
	// MappingNoHTML is MappingNew without the stored HTML.
	MappingNoHTML        indexbench.Result
	Alone, Indexer       indexbench.Result
	AloneRSS, IndexerRSS int64
	SearchRSS            int64
	Compacted            compaction
	FacetsWarmed         time.Duration
	Kinds                []kind
}

func (r results) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("%s\n\n", sectionTitle)
	w("Written by `bench/search` (`make bench-search`) on %s. Reproduce with:\n\n", r.Date.Format("2006-01-02 15:04 MST"))
	w("```sh\n%s\n```\n\n", r.Command)
	m := r.Machine
	w("Machine: %d CPUs (%s), %s RAM, %s, %s, fedilens %s.\n\n", m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.GoVersion, m.Revision)
	w("Corpus: %s synthetic posts (`indexer/indexbench`, seed %d): 50 to 400 characters, languages as in the simulator "+
		"(en 40%%, de 15%%, fr 10%%, es 8%%, ja 7%%, nl 5%%, pt 5%%, none 10%%), words and hashtags Zipf-distributed, "+
		"2,000 instances (Zipf), creation times over the two years before %s; 5%% with a content warning, 10%% with alt text; "+
		"each with Mastodon-like sanitised HTML (the text in a paragraph, a link per hashtag), stored but not indexed.\n\n",
		benchmd.Thousands(float64(r.Config.posts)), r.Config.seed, corpusEnd.Format("2006-01-02"))

	w("### Ingest: %s posts\n\n", benchmd.Thousands(float64(r.Config.posts)))
	w("| path | posts/s | time (s) | index on disk | peak RSS |\n|---|---:|---:|---:|---:|\n")
	w("| Bleve alone (`indexbench.BleveAlone`: same mapping and documents, batches of 1,000, one goroutine) | %s | %.1f | %s | %s |\n",
		benchmd.Thousands(r.Alone.DocsPerSec()), r.Alone.Elapsed.Seconds(), mib(r.Alone.DiskBytes), mb(r.AloneRSS))
	w("| `indexer.Index` (writer goroutine; %d feeders of %d posts a call) | %s | %.1f | %s | %s |\n",
		r.Config.feeders, r.Config.chunk, benchmd.Thousands(r.Indexer.DocsPerSec()), r.Indexer.Elapsed.Seconds(), mib(r.Indexer.DiskBytes), mb(r.IndexerRSS))
	if r.Alone.DocsPerSec() > 0 {
		w("\nIndexer ÷ Bleve alone: **%.2f**. The end-to-end ingest figure (fetch, consent, sanitise, Bleve, ClickHouse) "+
			"is measured against `indexbench.BleveAlone` by the ingest benchmark.\n", r.Indexer.DocsPerSec()/r.Alone.DocsPerSec())
	}

	w("\n### Search latency on the %s-post index\n\n", benchmd.Thousands(float64(r.Config.posts)))
	w("%s queries of each kind, one after another, after 100 warm-up queries; each is one `indexer.Index.Search` "+
		"call (first page of 20, snippets built). Target: p99 < %d ms.\n\n", benchmd.Thousands(float64(r.Config.queries)), targetP99.Milliseconds())
	w("| kind | example | p50 (ms) | p99 (ms) | max (ms) | mean matches | p99 target |\n|---|---|---:|---:|---:|---:|---|\n")
	for _, k := range r.Kinds {
		ok := "met"
		if k.pct(0.99) >= targetP99 {
			ok = "**missed**"
		}
		w("| %s | %s | %.2f | %.2f | %.2f | %s | %s |\n", k.Name, k.Example, ms(k.pct(0.50)), ms(k.pct(0.99)), ms(k.Lat[len(k.Lat)-1]),
			benchmd.Thousands(float64(k.Hits)/float64(max(1, len(k.Lat)))), ok)
	}
	w("\nPeak RSS while searching (index reopened): %s.\n", mb(r.SearchRSS))
	if c := r.Compacted; c.Before > 0 {
		w("\nBefore searching, the index was compacted as fedilens compacts it once it has been idle for %s (`indexer.Options.CompactAfterIdle`): %d segments to %d, in %.1f s.\n",
			indexer.DefaultCompactAfterIdle, c.Before, c.After, c.Took.Seconds())
	}
	if r.FacetsWarmed > 0 {
		w("\nThen, as fedilens does when idle, the segments' facet values were read into memory (`indexer.Index.WarmFacets`) in %.1f s.\n", r.FacetsWarmed.Seconds())
	}

	if r.MappingBase.Docs > 0 {
		w("\n### Mapping: per-language analysers vs one standard analyser, %s posts, Bleve alone\n\n", benchmd.Thousands(float64(r.MappingBase.Docs)))
		w("| mapping | posts/s | index on disk |\n|---|---:|---:|\n")
		w("| one `text` field, standard analyser (before issue 4) | %s | %s |\n", benchmd.Thousands(r.MappingBase.DocsPerSec()), mib(r.MappingBase.DiskBytes))
		w("| per-language `text_*`/`summary_*`/`alt_*` fields (`indexer.NewMapping`) | %s | %s |\n", benchmd.Thousands(r.MappingNew.DocsPerSec()), mib(r.MappingNew.DiskBytes))
		if r.MappingNoHTML.Docs > 0 {
			w("| the same without the stored HTML (`html` field empty) | %s | %s |\n", benchmd.Thousands(r.MappingNoHTML.DocsPerSec()), mib(r.MappingNoHTML.DiskBytes))
			w("\nStoring each post's sanitised HTML for display costs %s on disk (%.0f bytes a post).\n",
				pct(r.MappingNew.DiskBytes, r.MappingNoHTML.DiskBytes), float64(r.MappingNew.DiskBytes-r.MappingNoHTML.DiskBytes)/float64(r.MappingNew.Docs))
		}
	}
	return b.String()
}

// pct is how much larger a is than b, as a signed percentage.
func pct(a, b int64) string {
	if b <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%+.0f%%", 100*float64(a-b)/float64(b))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func mb(b int64) string {
	if b == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/1e6)
}

// compaction is what compacting the index before the searches did.
type compaction struct {
	Before, After int
	Took          time.Duration
}
