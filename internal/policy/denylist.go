package policy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fedilens/fedilens/internal/hostname"
)

// ErrBadEntry marks a denylist entry that cannot be used. Configuration
// errors wrap it so the command line can report them as usage errors.
var ErrBadEntry = errors.New("invalid denylist entry")

// Bounds on a deny file: it is the operator's own, but a wrong path (a
// log, a dump) should fail clearly instead of eating memory.
const (
	maxDenyFileBytes = 64 << 20
	maxDenyLineBytes = 4096
)

// Denylist is the operator's list of hosts fedilens never contacts. An
// entry "host.example" denies exactly that host (on any port); an entry
// "*.example.com" or ".example.com" denies example.com and every name under
// it. Entries are normalised like host names everywhere else (case, IDNA,
// trailing dot), so "Bücher.Example." and "xn--bcher-kva.example" are the
// same entry. The zero value denies nothing. A Denylist is read-only after
// ParseDenylist, so it is safe for concurrent use.
type Denylist struct {
	exact   map[string]string // name -> entry as written
	domains map[string]string // domain -> entry as written
}

// ParseDenylist builds a denylist. Every invalid entry is reported, each
// error wrapping ErrBadEntry and naming the entry. Blank entries are
// ignored.
func ParseDenylist(entries []string) (*Denylist, error) {
	d := &Denylist{exact: map[string]string{}, domains: map[string]string{}}
	var errs []error
	for _, raw := range entries {
		e := strings.TrimSpace(raw)
		if e == "" {
			continue
		}
		name, domain, err := parseEntry(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if domain {
			d.domains[name] = e
		} else {
			d.exact[name] = e
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return d, nil
}

// parseEntry normalises one entry and says whether it covers subdomains.
func parseEntry(e string) (name string, domain bool, err error) {
	bare := e
	switch {
	case strings.HasPrefix(e, "*."):
		bare, domain = e[2:], true
	case strings.HasPrefix(e, "."):
		bare, domain = e[1:], true
	}
	if strings.Contains(bare, "*") {
		return "", false, fmt.Errorf("%w %q: a wildcard is only allowed as a leading \"*.\"", ErrBadEntry, e)
	}
	h, err := hostname.Normalize(bare)
	switch {
	case errors.Is(err, hostname.ErrIPLiteral):
		return "", false, fmt.Errorf("%w %q: an IP address; fedilens only contacts instances by name", ErrBadEntry, e)
	case errors.Is(err, hostname.ErrSingleLabel) && h != "":
		// "*.test" denies a whole top-level domain: fine. A single-label
		// exact entry can never match a crawled host, but is harmless.
	case err != nil:
		return "", false, fmt.Errorf("%w %q: %w", ErrBadEntry, e, err)
	}
	if strings.Contains(h, ":") {
		return "", false, fmt.Errorf("%w %q: give the host name without a port (an entry covers every port)", ErrBadEntry, e)
	}
	return h, domain, nil
}

// Match reports whether name (a normalised host name without port) is
// denied, and by which entry as the operator wrote it.
func (d *Denylist) Match(name string) (entry string, denied bool) {
	if d == nil {
		return "", false
	}
	if e, ok := d.exact[name]; ok {
		return e, true
	}
	if len(d.domains) == 0 {
		return "", false
	}
	for s := name; s != ""; {
		if e, ok := d.domains[s]; ok {
			return e, true
		}
		_, rest, ok := strings.Cut(s, ".")
		if !ok {
			break
		}
		s = rest
	}
	return "", false
}

// Len is the number of entries.
func (d *Denylist) Len() int {
	if d == nil {
		return 0
	}
	return len(d.exact) + len(d.domains)
}

// ReadDenyFile reads the entries of a deny file: one per line; blank
// lines and everything after a '#' are ignored.
func ReadDenyFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read deny file: %w", err)
	}
	defer f.Close()
	entries, err := ParseDenyFile(f)
	if err != nil {
		return nil, fmt.Errorf("read deny file %s: %w", path, err)
	}
	return entries, nil
}

// ParseDenyFile reads deny-file entries from r (see ReadDenyFile).
func ParseDenyFile(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxDenyFileBytes+1))
	sc.Buffer(make([]byte, 0, 4096), maxDenyLineBytes)
	var (
		out  []string
		read int
		line int
	)
	for sc.Scan() {
		line++
		read += len(sc.Bytes()) + 1
		if read > maxDenyFileBytes {
			return nil, fmt.Errorf("larger than %d bytes", maxDenyFileBytes)
		}
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		if text = strings.TrimSpace(text); text != "" {
			out = append(out, text)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d is longer than %d bytes", line+1, maxDenyLineBytes)
		}
		return nil, fmt.Errorf("scan: %w", err)
	}
	return out, nil
}
