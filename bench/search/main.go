// Command search is the search benchmark: in one run it generates a
// synthetic corpus of public posts (indexer/indexbench), indexes it
// through Bleve alone and through the indexer's writer goroutine, and
// measures search latency for word, phrase, filtered, faceted and
// newest-first queries on the full index. It compares the per-language
// mapping with the former single-analyser one on a smaller corpus, and
// writes the "Search" section of BENCHMARKS.md.
//
//	go run ./bench/search -out BENCHMARKS.md    # 1,000,000 posts
//	go run ./bench/search -quick                # 50,000 posts, smoke run
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/bench/internal/benchmd"
	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/indexer/indexbench"
	"github.com/fedilens/fedilens/internal/model"
)

type config struct {
	posts        int
	mappingPosts int
	queries      int
	feeders      int
	chunk        int
	seed         int64
	work         string
	out          string
	keep         bool
	searchOnly   bool
	skipAlone    bool
	cpuProfile   string
	kinds        string
	compact      bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/search:", err)
		os.Exit(1)
	}
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "smoke run: 50,000 posts, 200 queries per kind")
	fs.IntVar(&c.posts, "posts", 1_000_000, "posts to index")
	fs.IntVar(&c.mappingPosts, "mapping-posts", 200_000, "posts for the mapping comparison (0: skip it)")
	fs.IntVar(&c.queries, "queries", 1000, "queries per kind")
	fs.IntVar(&c.feeders, "feeders", 4, "goroutines calling indexer.Index")
	fs.IntVar(&c.chunk, "chunk", 250, "posts per indexer.Index call")
	fs.Int64Var(&c.seed, "seed", 1, "corpus seed")
	fs.StringVar(&c.work, "work", "", "work directory for the indexes (default: a temporary one)")
	fs.StringVar(&c.out, "out", "", "Markdown file whose \"Search\" section receives the figures (empty: stdout only)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory")
	fs.BoolVar(&c.searchOnly, "search-only", false, "only measure search, on the index a -keep run left in -work")
	fs.BoolVar(&c.skipAlone, "skip-alone", false, "skip indexing through Bleve alone (to build an index for -search-only runs; no report is written)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the search phase to this file")
	fs.BoolVar(&c.compact, "compact", true, "compact the index before searching, as fedilens does once it is idle (indexer.Options.CompactAfterIdle)")
	fs.StringVar(&c.kinds, "kinds", "", "comma-separated query kinds to measure (default: all; with -search-only, for profiling one kind)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *quick {
		c.posts, c.mappingPosts, c.queries = 50_000, 20_000, 200
	}
	if c.posts < 1000 || c.queries < 1 || c.feeders < 1 || c.chunk < 1 {
		return c, errors.New("need -posts >= 1000, -queries, -feeders and -chunk >= 1")
	}
	return c, nil
}

// corpusEnd is the newest creation time of the corpus: fixed, so runs are
// comparable.
var corpusEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	work := cfg.work
	if work == "" {
		if work, err = os.MkdirTemp("", "fedilens-bench-search-"); err != nil {
			return fmt.Errorf("creating work directory: %w", err)
		}
	}
	if !cfg.keep && !cfg.searchOnly {
		defer os.RemoveAll(work)
	}
	res := results{Config: cfg, Machine: benchenv.DescribeMachine(ctx, "", ""), Date: time.Now().UTC(),
		Command: benchenv.CommandLine("./bench/search", args)}
	gen := indexbench.NewGenerator(cfg.seed, corpusEnd)

	dir := filepath.Join(work, "index")
	if cfg.searchOnly {
		cfg.mappingPosts = 0
		res.Config = cfg
		goto search
	}
	if cfg.mappingPosts > 0 {
		n := min(cfg.mappingPosts, cfg.posts)
		log.Info("mapping comparison", "posts", n)
		base, err := indexbench.IndexWith(ctx, filepath.Join(work, "baseline"), baselineMapping(), n, func(i int) (string, any) {
			p := gen.Post(i)
			return p.URI, toBaseline(p)
		})
		if err != nil {
			return fmt.Errorf("indexing with the baseline mapping: %w", err)
		}
		_ = os.RemoveAll(filepath.Join(work, "baseline"))
		perLang, err := indexbench.BleveAlone(ctx, filepath.Join(work, "perlang"), n, gen.Post)
		if err != nil {
			return fmt.Errorf("indexing with the per-language mapping: %w", err)
		}
		_ = os.RemoveAll(filepath.Join(work, "perlang"))
		// The same without the stored HTML: what keeping it costs.
		noHTML, err := indexbench.BleveAlone(ctx, filepath.Join(work, "nohtml"), n, func(i int) model.Post {
			p := gen.Post(i)
			p.HTML = ""
			return p
		})
		if err != nil {
			return fmt.Errorf("indexing without stored HTML: %w", err)
		}
		_ = os.RemoveAll(filepath.Join(work, "nohtml"))
		res.MappingBase, res.MappingNew, res.MappingNoHTML = base, perLang, noHTML
	}

	if cfg.skipAlone {
		cfg.out = ""
		goto indexer
	}
	log.Info("bleve alone", "posts", cfg.posts)
	resetPeak()
	res.Alone, err = indexbench.BleveAlone(ctx, filepath.Join(work, "alone"), cfg.posts, gen.Post)
	if err != nil {
		return fmt.Errorf("indexing through bleve alone: %w", err)
	}
	res.AloneRSS = peakRSS()
	_ = os.RemoveAll(filepath.Join(work, "alone"))
	debug.FreeOSMemory()

indexer:
	log.Info("through the indexer", "posts", cfg.posts, "feeders", cfg.feeders, "chunk", cfg.chunk)
	resetPeak()
	if err := indexThrough(ctx, dir, gen, cfg, &res); err != nil {
		return err
	}

search:
	log.Info("search latency", "queries per kind", cfg.queries)
	debug.FreeOSMemory()
	resetPeak()
	ix, err := indexer.Open(indexer.Options{Dir: dir})
	if err != nil {
		return err
	}
	defer ix.Close()
	if cfg.compact {
		t0 := time.Now()
		before := ix.Segments()
		if err := ix.Compact(ctx); err != nil {
			return err
		}
		res.Compacted = compaction{Before: before, After: ix.Segments(), Took: time.Since(t0)}
		log.Info("compacted", "segments before", before, "after", res.Compacted.After, "took", res.Compacted.Took)
	}
	// fedilens reads the facet values once the index is idle, after
	// compacting it (indexer.Index.WarmFacets): so does the benchmark.
	t0 := time.Now()
	if err := ix.WarmFacets(); err != nil {
		return err
	}
	res.FacetsWarmed = time.Since(t0)
	log.Info("facet values read", "took", res.FacetsWarmed)
	stopProfile, err := benchenv.StartCPUProfile(cfg.cpuProfile)
	if err != nil {
		return err
	}
	res.Kinds, err = measureSearch(ctx, ix, gen, cfg)
	stopProfile()
	if err != nil {
		return err
	}
	res.SearchRSS = peakRSS()

	section := res.markdown()
	fmt.Fprint(stdout, section)
	if cfg.out != "" && !cfg.searchOnly {
		return benchmd.UpdateFile(cfg.out, sectionTitle, section)
	}
	return nil
}

// indexThrough indexes the corpus through indexer.Index into dir.
func indexThrough(ctx context.Context, dir string, gen *indexbench.Generator, cfg config, res *results) error {
	ix, err := indexer.Open(indexer.Options{Dir: dir})
	if err != nil {
		return err
	}
	res.Indexer, err = indexbench.ThroughIndexer(ctx, ix, cfg.posts, cfg.feeders, cfg.chunk, gen.Post)
	if cerr := ix.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("indexing through the indexer: %w", err)
	}
	res.IndexerRSS = peakRSS()
	res.Indexer.DiskBytes, err = indexer.DirSize(dir)
	return err
}

// kind is one class of queries and its measured latencies.
type kind struct {
	Name    string
	Example string
	Lat     []time.Duration // sorted
	Hits    uint64          // total matches over all queries
}

func (k kind) pct(p float64) time.Duration {
	if len(k.Lat) == 0 {
		return 0
	}
	return k.Lat[min(len(k.Lat)-1, int(p*float64(len(k.Lat))))]
}

// queries builds the query sets, deterministically: words from the
// corpus vocabulary (ranks 10 to 2,000: neither stop words nor unique),
// phrases of two adjacent words of corpus posts, the same words with a
// language, instance or date filter, with facets, and newest first.
func queries(gen *indexbench.Generator, n, posts int, seed int64) map[string][]model.SearchQuery {
	r := rand.New(rand.NewPCG(uint64(seed), 99))
	spaced := []string{"en", "de", "fr", "es", "nl", "pt"}
	word := func() (string, string) {
		l := spaced[r.IntN(len(spaced))]
		v := gen.Vocabulary(l)
		return v[10+r.IntN(min(2000, len(v))-10)], l
	}
	out := map[string][]model.SearchQuery{}
	for range n {
		w, l := word()
		out["word"] = append(out["word"], model.SearchQuery{Q: w})
		var ph string
		for ph == "" {
			p := gen.Post(r.IntN(posts))
			if f := strings.Fields(p.Text); p.Language != "ja" && len(f) > 2 {
				i := r.IntN(len(f) - 1)
				ph = `"` + f[i] + " " + f[i+1] + `"`
			}
		}
		out["phrase"] = append(out["phrase"], model.SearchQuery{Q: ph})
		var filter string
		switch r.IntN(3) {
		case 0:
			filter = "lang:" + l
		case 1:
			filter = "instance:" + indexbench.Host(r.IntN(200))
		default:
			filter = "since:" + corpusEnd.AddDate(0, -1-r.IntN(23), 0).Format("2006-01-02")
		}
		out["filtered"] = append(out["filtered"], model.SearchQuery{Q: w + " " + filter})
		w2, _ := word()
		out["faceted"] = append(out["faceted"], model.SearchQuery{Q: w2, Facets: true})
		w3, _ := word()
		out["newest"] = append(out["newest"], model.SearchQuery{Q: w3, Sort: model.SortNewest})
	}
	return out
}

var kindOrder = []string{"word", "phrase", "filtered", "faceted", "newest"}

func measureSearch(ctx context.Context, ix *indexer.Index, gen *indexbench.Generator, cfg config) ([]kind, error) {
	qs := queries(gen, cfg.queries, cfg.posts, cfg.seed)
	// Warm up: the first queries map the segments in.
	for _, q := range qs["word"][:min(100, len(qs["word"]))] {
		if _, err := ix.Search(ctx, q); err != nil {
			return nil, fmt.Errorf("warming up with %q: %w", q.Q, err)
		}
	}
	var out []kind
	for _, name := range kindOrder {
		if cfg.kinds != "" && !slices.Contains(strings.Split(cfg.kinds, ","), name) {
			continue
		}
		k := kind{Name: name, Example: describe(qs[name][0])}
		for _, q := range qs[name] {
			t0 := time.Now()
			r, err := ix.Search(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("searching %q: %w", q.Q, err)
			}
			k.Lat = append(k.Lat, time.Since(t0))
			k.Hits += r.Total
		}
		slices.Sort(k.Lat)
		out = append(out, k)
	}
	return out, nil
}

func describe(q model.SearchQuery) string {
	s := "`" + q.Q + "`"
	if q.Facets {
		s += " + facets"
	}
	if q.Sort != "" {
		s += ", sort " + q.Sort
	}
	return s
}

// resetPeak resets the kernel's peak-RSS counter of this process (VmHWM),
// so each phase reports its own peak; best effort.
func resetPeak() {
	runtime.GC()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS is the process's peak resident set (VmHWM) in bytes, 0 if unknown.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return benchmd.ProcKB(b, "VmHWM")
}
