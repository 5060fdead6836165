// Package datasets writes dated, documented research snapshots: a folder
// per day with the data files, a Frictionless datapackage.json describing
// every table, a human README (a data card) and SHA-256 checksums.
//
// A snapshot is written to a temporary folder and renamed into place only
// when complete, so a reader never sees half a snapshot and a failed export
// leaves the previous one untouched.
package datasets

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
)

// Source gives the tables to export.
type Source interface {
	Instances(ctx context.Context, q model.InstanceQuery) (model.InstancePage, error)
}

// Options configures an export.
type Options struct {
	// Dir is the folder that holds the dated snapshots.
	Dir string
	// Now dates the snapshot (default time.Now).
	Now time.Time
	// Version is the fedilens version, recorded in the metadata.
	Version string
}

// Manifest describes a written snapshot.
type Manifest struct {
	Path   string
	Tables map[string]int64 // rows per table
}

// field is one column of a table, documented for datapackage.json.
type field struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Unit        string `json:"unit,omitempty"`
}

var instanceFields = []field{
	{"host", "string", "Normalised host name of the instance (lower case, punycode).", ""},
	{"software", "string", "NodeInfo software.name, lower case.", ""},
	{"version", "string", "NodeInfo software.version as published.", ""},
	{"title", "string", "Instance name (NodeInfo metadata.nodeName), plain text.", ""},
	{"open_registrations", "boolean", "Whether sign-ups are open, as published.", ""},
	{"users_total", "integer", "NodeInfo usage.users.total; empty when not published.", "accounts"},
	{"users_active_month", "integer", "NodeInfo usage.users.activeMonth; empty when not published.", "accounts"},
	{"users_active_halfyear", "integer", "NodeInfo usage.users.activeHalfyear; empty when not published.", "accounts"},
	{"local_posts", "integer", "NodeInfo usage.localPosts; empty when not published.", "posts"},
	{"nodeinfo_version", "string", "NodeInfo schema version read.", ""},
	{"first_seen", "datetime", "First snapshot of the instance (UTC).", ""},
	{"last_seen", "datetime", "Latest snapshot of the instance (UTC); the figures are from it.", ""},
	{"flags", "string", "fedilens's sanity flags on the figures, separated by semicolons (see the data card); empty when none.", ""},
	{"suspect", "boolean", "Whether a flag marks the figures as suspect; the census totals leave such instances out.", ""},
}

// Export writes a snapshot of src into opts.Dir/YYYY-MM-DD.
func Export(ctx context.Context, src Source, opts Options) (Manifest, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	day := opts.Now.UTC().Format("2006-01-02")
	final := filepath.Join(opts.Dir, day)
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return Manifest{}, fmt.Errorf("creating dataset directory: %w", err)
	}
	tmp, err := os.MkdirTemp(opts.Dir, "."+day+".tmp-")
	if err != nil {
		return Manifest{}, fmt.Errorf("creating temporary snapshot folder: %w", err)
	}
	defer os.RemoveAll(tmp)

	rows, err := writeInstances(ctx, src, filepath.Join(tmp, "instances.csv.gz"))
	if err != nil {
		return Manifest{}, err
	}
	man := Manifest{Path: final, Tables: map[string]int64{"instances": rows}}
	if err := writeMetadata(tmp, man, opts, day); err != nil {
		return Manifest{}, err
	}
	// Replace an earlier snapshot of the same day only now that this one is complete.
	if _, err := os.Stat(final); err == nil {
		old := final + ".old"
		_ = os.RemoveAll(old)
		if err := os.Rename(final, old); err != nil {
			return Manifest{}, fmt.Errorf("moving previous snapshot aside: %w", err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, final); err != nil {
		return Manifest{}, fmt.Errorf("publishing snapshot: %w", err)
	}
	return man, nil
}

func writeInstances(ctx context.Context, src Source, path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("creating %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<16)
	gz := gzip.NewWriter(bw)
	w := csv.NewWriter(gz)
	header := make([]string, len(instanceFields))
	for i, fl := range instanceFields {
		header[i] = fl.Name
	}
	if err := w.Write(header); err != nil {
		return 0, err
	}
	var rows int64
	q := model.InstanceQuery{Sort: "host", Limit: 1000}
	for {
		page, err := src.Instances(ctx, q)
		if err != nil {
			return rows, fmt.Errorf("reading instances: %w", err)
		}
		for _, in := range page.Instances {
			if err := w.Write(instanceRow(in)); err != nil {
				return rows, fmt.Errorf("writing instances: %w", err)
			}
			rows++
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return rows, fmt.Errorf("writing instances: %w", err)
	}
	if err := gz.Close(); err != nil {
		return rows, fmt.Errorf("compressing instances: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return rows, fmt.Errorf("writing instances: %w", err)
	}
	return rows, f.Sync()
}

func instanceRow(in model.Instance) []string {
	opt := func(v *int64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatInt(*v, 10)
	}
	return []string{
		in.Host, in.Software, in.Version, in.Title, strconv.FormatBool(in.OpenRegistrations),
		opt(in.UsersTotal), opt(in.UsersActiveMonth), opt(in.UsersActiveHalfyear), opt(in.LocalPosts),
		in.NodeInfoVersion, in.FirstSeen.UTC().Format(time.RFC3339), in.CrawledAt.UTC().Format(time.RFC3339),
		strings.Join(in.Flags, ";"), strconv.FormatBool(sanity.Suspect(in.Flags)),
	}
}

func writeMetadata(dir string, man Manifest, opts Options, day string) error {
	files := []string{"instances.csv.gz"}
	sums := map[string]string{}
	sizes := map[string]int64{}
	for _, name := range files {
		sum, size, err := fileSHA256(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		sums[name], sizes[name] = sum, size
	}
	pkg := map[string]any{
		"profile": "data-package",
		"name":    "fedilens-" + day,
		"title":   "fedilens fediverse census " + day,
		"created": opts.Now.UTC().Format(time.RFC3339),
		"version": day,
		"licenses": []map[string]string{{
			"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "Creative Commons Attribution 4.0",
		}},
		"sources":  []map[string]string{{"title": "NodeInfo documents published by fediverse instances, crawled by fedilens " + opts.Version}},
		"fedilens": map[string]any{"version": opts.Version, "consent_rules": consentRules, "row_counts": man.Tables},
		"resources": []map[string]any{{
			"name": "instances", "path": "instances.csv.gz", "format": "csv", "mediatype": "text/csv",
			"compression": "gz", "encoding": "utf-8", "bytes": sizes["instances.csv.gz"],
			"hash":        "sha256:" + sums["instances.csv.gz"],
			"schema":      map[string]any{"fields": instanceFields, "primaryKey": []string{"host"}},
			"description": "Latest state of every instance in the census.",
		}},
	}
	b, err := json.MarshalIndent(pkg, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding datapackage.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "datapackage.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing datapackage.json: %w", err)
	}
	readme := fmt.Sprintf(dataCard, day, opts.Version, man.Tables["instances"], consentRules)
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(readme), 0o644); err != nil {
		return fmt.Errorf("writing README.md: %w", err)
	}
	// Checksums of everything, in sha256sum's format.
	all := append([]string{"datapackage.json", "README.md"}, files...)
	sort.Strings(all)
	var sb strings.Builder
	for _, name := range all {
		sum, ok := sums[name]
		if !ok {
			var err error
			if sum, _, err = fileSHA256(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
		fmt.Fprintf(&sb, "%s  %s\n", sum, name)
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sb.String()), 0o644); err != nil {
		return fmt.Errorf("writing SHA256SUMS: %w", err)
	}
	return nil
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", filepath.Base(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

const consentRules = "Instance figures come from NodeInfo documents only where robots.txt allows fedilens to read them and they are not served with X-Robots-Tag: noindex. No account-level data is in this table."

const dataCard = `# fedilens census snapshot %s

Written by fedilens %s.

## What is in it
- instances.csv.gz: %d rows, the latest state of every instance in the census
  (software, version, user and post counts as the instance publishes them in NodeInfo).
  Column descriptions are in datapackage.json.

## What is not in it
- Instances that refuse crawling (robots.txt), that serve NodeInfo with
  X-Robots-Tag: noindex, that have no NodeInfo, or that were unreachable.
- No account handles or post texts.

## Known biases
- Counts are self-reported by each server; some servers publish zero, random
  or rounded figures, and some count differently (for example active users).
  The counts are kept as published; the flags column holds fedilens's checks
  (for example active_above_total, total_jump, absurd_count; single_user is
  information only), and suspect is true where the figures contradict
  themselves, their history or plausibility. fedilens's own totals leave the
  suspect instances out: filter on suspect = false to reproduce them.
- Instances that no crawled instance names as a peer are not discovered.

## Consent
%s

## Checksums
SHA256SUMS lists the SHA-256 of every file; check with ` + "`sha256sum -c SHA256SUMS`" + `.
`
