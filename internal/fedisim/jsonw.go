package fedisim

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"unicode/utf8"
)

// The simulated servers must reproduce their real counterparts' key order
// (Rails insertion order, Elixir's sorted maps, PHP's escaped slashes), which
// encoding/json cannot do with maps, so documents are built from these
// ordered values and written by a small encoder.
type (
	// kv is one member of an ordered object.
	kv struct {
		K string
		V any
	}
	// obj is a JSON object whose members are written in slice order.
	obj []kv
	// arr is a JSON array of arbitrary values.
	arr []any
	// rawJSON is written verbatim; it must already be valid JSON.
	rawJSON string
)

// jsonStyle captures the serialiser differences between server programs.
type jsonStyle struct {
	// escapeHTML writes <, > and & as \u003c etc. (Rails, Go's encoding/json).
	escapeHTML bool
	// escapeSlash writes / as \/ (PHP's json_encode).
	escapeSlash bool
	// indent pretty-prints with this indent (snac, hand-formatted docs).
	indent string
}

var (
	styleCompact = jsonStyle{}
	styleRails   = jsonStyle{escapeHTML: true}
	stylePHP     = jsonStyle{escapeSlash: true}
)

// encodeJSON writes v in style st.
func encodeJSON(v any, st jsonStyle) []byte {
	var b bytes.Buffer
	b.Grow(sizeHint(v))
	writeValue(&b, v, st)
	if st.indent != "" {
		var out bytes.Buffer
		if err := json.Indent(&out, b.Bytes(), "", st.indent); err == nil {
			return out.Bytes()
		}
	}
	return b.Bytes()
}

// sizeHint guesses the encoded size of v: exact for a page of prerendered
// entities (render.go), which then is written without growing the buffer.
func sizeHint(v any) int {
	a, ok := v.(arr)
	if !ok {
		return 512
	}
	n := 2
	for _, e := range a {
		if r, ok := e.(rawJSON); ok {
			n += len(r) + 1
		} else {
			n += 256
		}
	}
	return n
}

func writeValue(b *bytes.Buffer, v any, st jsonStyle) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeString(b, x, st)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case *int64:
		if x == nil {
			b.WriteString("null")
		} else {
			b.WriteString(strconv.FormatInt(*x, 10))
		}
	case *bool:
		if x == nil {
			b.WriteString("null")
		} else {
			writeValue(b, *x, st)
		}
	case obj:
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, m.K, st)
			b.WriteByte(':')
			writeValue(b, m.V, st)
		}
		b.WriteByte('}')
	case arr:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, e, st)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, e, st)
		}
		b.WriteByte(']')
	case []obj:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, e, st)
		}
		b.WriteByte(']')
	case rawJSON:
		b.WriteString(string(x))
	default:
		// Only the types above are produced by this package; anything else
		// is a programming error that must show up in tests, not on the wire.
		panic("fedisim: unsupported JSON value type")
	}
}

const hexDigits = "0123456789abcdef"

func writeString(b *bytes.Buffer, s string, st jsonStyle) {
	b.WriteByte('"')
	// Runs of bytes that need no escape are copied whole.
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!st.escapeHTML || (c != '<' && c != '>' && c != '&')) && (c != '/' || !st.escapeSlash) {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '/':
				b.WriteString(`\/`)
			default: // control characters, and <, >, & under escapeHTML
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			if r == utf8.RuneError {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteString(`\u202`)
				b.WriteByte(hexDigits[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// sortedKeys returns v with the members of every object sorted by key, the
// way Elixir (Pleroma, Akkoma), Go maps (WriteFreely) and Firefish emit them.
func sortedKeys(v any) any {
	switch x := v.(type) {
	case obj:
		out := make(obj, len(x))
		for i, m := range x {
			out[i] = kv{m.K, sortedKeys(m.V)}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].K < out[j].K })
		return out
	case arr:
		out := make(arr, len(x))
		for i, e := range x {
			out[i] = sortedKeys(e)
		}
		return out
	case []obj:
		out := make(arr, len(x))
		for i, e := range x {
			out[i] = sortedKeys(e)
		}
		return out
	default:
		return v
	}
}
