// Package benchmd holds what the benchmarks share: writing one section of
// BENCHMARKS.md, formatting figures, and reading /proc.
package benchmd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// UpdateFile writes section into the Markdown file at path, replacing the
// section that starts with the line title and runs to the next "## "
// heading (or the end), or appending it when there is none. A missing file
// is created with a title.
func UpdateFile(path, title, section string) error {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = []byte("# Benchmarks\n")
	case err != nil:
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(ReplaceSection(string(old), title, section)), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// ReplaceSection is UpdateFile's pure part: section replaces the lines
// from the title to the next "## " heading outside a code fence, or is
// appended.
func ReplaceSection(doc, title, section string) string {
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

// Thousands formats v with no decimals and thousands separators.
func Thousands(v float64) string {
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

// ProcField returns the value of the first "key : value" line of a /proc
// file.
func ProcField(b []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// HumanKiB turns meminfo's "24731996 kB" into "23.6 GiB".
func HumanKiB(v string) string {
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

// ProcKB reads a "Key: N kB" (or "Key: N") line of a /proc status file, in
// bytes for kB values; 0 when absent.
func ProcKB(status []byte, key string) int64 {
	v := ProcField(status, key)
	f := strings.Fields(v)
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
