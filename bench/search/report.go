package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/fedilens/fedilens/indexer/indexbench"
)

// sectionTitle is the heading of the section this bench owns in
// BENCHMARKS.md; other sections are left alone.
const sectionTitle = "## Search"

// targetP99 is the latency target for every query kind.
const targetP99 = 50 * time.Millisecond

type results struct {
	Config  config
	Machine machine
	Date    time.Time
	Command string

	MappingBase, MappingNew indexbench.Result
	// MappingNoHTML is MappingNew without the stored HTML.
	MappingNoHTML        indexbench.Result
	Alone, Indexer       indexbench.Result
	AloneRSS, IndexerRSS int64
	SearchRSS            int64
	Kinds                []kind
}

// machine describes where the figures were measured.
type machine struct {
	CPUs      int
	CPUModel  string
	MemTotal  string
	Kernel    string
	GoVersion string
	Revision  string
}

func describeMachine(ctx context.Context) machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), CPUModel: "unknown", MemTotal: "unknown", Kernel: "unknown", Revision: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if v := procField(b, "model name"); v != "" {
			m.CPUModel = v
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if v := procField(b, "MemTotal"); v != "" {
			m.MemTotal = humanKiB(v)
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	// rev-parse only reads.
	if out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		m.Revision = "tree based on " + strings.TrimSpace(string(out))
	}
	return m
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
		thousands(float64(r.Config.posts)), r.Config.seed, corpusEnd.Format("2006-01-02"))

	w("### Ingest: %s posts\n\n", thousands(float64(r.Config.posts)))
	w("| path | posts/s | time (s) | index on disk | peak RSS |\n|---|---:|---:|---:|---:|\n")
	w("| Bleve alone (`indexbench.BleveAlone`: same mapping and documents, batches of 1,000, one goroutine) | %s | %.1f | %s | %s |\n",
		thousands(r.Alone.DocsPerSec()), r.Alone.Elapsed.Seconds(), mib(r.Alone.DiskBytes), mb(r.AloneRSS))
	w("| `indexer.Index` (writer goroutine; %d feeders of %d posts a call) | %s | %.1f | %s | %s |\n",
		r.Config.feeders, r.Config.chunk, thousands(r.Indexer.DocsPerSec()), r.Indexer.Elapsed.Seconds(), mib(r.Indexer.DiskBytes), mb(r.IndexerRSS))
	if r.Alone.DocsPerSec() > 0 {
		w("\nIndexer ÷ Bleve alone: **%.2f**. The end-to-end ingest figure (fetch, consent, sanitise, Bleve, ClickHouse) "+
			"is measured against `indexbench.BleveAlone` by the ingest benchmark.\n", r.Indexer.DocsPerSec()/r.Alone.DocsPerSec())
	}

	w("\n### Search latency on the %s-post index\n\n", thousands(float64(r.Config.posts)))
	w("%s queries of each kind, one after another, after 100 warm-up queries; each is one `indexer.Index.Search` "+
		"call (first page of 20, snippets built). Target: p99 < %d ms.\n\n", thousands(float64(r.Config.queries)), targetP99.Milliseconds())
	w("| kind | example | p50 (ms) | p99 (ms) | max (ms) | mean matches | p99 target |\n|---|---|---:|---:|---:|---:|---|\n")
	for _, k := range r.Kinds {
		ok := "met"
		if k.pct(0.99) >= targetP99 {
			ok = "**missed**"
		}
		w("| %s | %s | %.2f | %.2f | %.2f | %s | %s |\n", k.Name, k.Example, ms(k.pct(0.50)), ms(k.pct(0.99)), ms(k.Lat[len(k.Lat)-1]),
			thousands(float64(k.Hits)/float64(max(1, len(k.Lat)))), ok)
	}
	w("\nPeak RSS while searching (index reopened): %s.\n", mb(r.SearchRSS))

	if r.MappingBase.Docs > 0 {
		w("\n### Mapping: per-language analysers vs one standard analyser, %s posts, Bleve alone\n\n", thousands(float64(r.MappingBase.Docs)))
		w("| mapping | posts/s | index on disk |\n|---|---:|---:|\n")
		w("| one `text` field, standard analyser (before issue 4) | %s | %s |\n", thousands(r.MappingBase.DocsPerSec()), mib(r.MappingBase.DiskBytes))
		w("| per-language `text_*`/`summary_*`/`alt_*` fields (`indexer.NewMapping`) | %s | %s |\n", thousands(r.MappingNew.DocsPerSec()), mib(r.MappingNew.DiskBytes))
		if r.MappingNoHTML.Docs > 0 {
			w("| the same without the stored HTML (`html` field empty) | %s | %s |\n", thousands(r.MappingNoHTML.DocsPerSec()), mib(r.MappingNoHTML.DiskBytes))
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

func thousands(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// procField returns the value of the first "key : value" line of a /proc
// file.
func procField(b []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// procKB reads a "Key: N kB" line of a /proc status file, in bytes; 0
// when absent.
func procKB(status []byte, key string) int64 {
	f := strings.Fields(procField(status, key))
	if len(f) == 0 {
		return 0
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0
	}
	if len(f) > 1 && f[1] == "kB" {
		n *= 1024
	}
	return n
}

// humanKiB turns meminfo's "24731996 kB" into "23.6 GiB".
func humanKiB(v string) string {
	f := strings.Fields(v)
	if len(f) == 0 {
		return v
	}
	kib, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%.1f GiB", kib/(1<<20))
}

// updateFile writes section into the Markdown file at path, replacing the
// section with the same title and leaving the others alone.
func updateFile(path, title, section string) error {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = []byte("# Benchmarks\n")
	case err != nil:
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(replaceSection(string(old), title, section)), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// replaceSection is updateFile's pure part: section replaces the lines
// from the title to the next "## " heading outside a code fence, or is
// appended.
func replaceSection(doc, title, section string) string {
	section = strings.TrimRight(section, "\n") + "\n"
	lines := strings.SplitAfter(doc, "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimRight(l, "\r\n") == title {
			start = i
			break
		}
	}
	if start < 0 {
		return strings.TrimRight(doc, "\n") + "\n\n" + section
	}
	end := len(lines)
	inFence := false
	for i := start + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "```") {
			inFence = !inFence
		}
		if !inFence && strings.HasPrefix(lines[i], "## ") {
			end = i
			break
		}
	}
	before := strings.Join(lines[:start], "")
	after := strings.Join(lines[end:], "")
	if after != "" {
		section += "\n"
	}
	return before + section + after
}
