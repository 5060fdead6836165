package fedisim

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestEncodeJSON(t *testing.T) {
	var nilInt *int64
	doc := obj{{"b", 1}, {"a", obj{{"z", true}, {"y", nil}}}, {"s", "<p>a/b & \"c\"\n\u2028\x01\xff</p>"}, {"n", nilInt}, {"l", []string{"x"}}}
	cases := []struct {
		name string
		v    any
		st   jsonStyle
		want string
	}{
		{"insertion order", doc, styleCompact, `{"b":1,"a":{"z":true,"y":null},"s":"<p>a/b & \"c\"\n\u2028\u0001\ufffd</p>","n":null,"l":["x"]}`},
		{"rails escapes html", obj{{"s", "<&>"}}, styleRails, `{"s":"\u003c\u0026\u003e"}`},
		{"php escapes slashes", obj{{"u", "https://x.example/"}}, stylePHP, `{"u":"https:\/\/x.example\/"}`},
		{"sorted keys", sortedKeys(obj{{"b", 1}, {"a", arr{obj{{"d", 1}, {"c", 2}}}}}), styleCompact, `{"a":[{"c":2,"d":1}],"b":1}`},
		{"pretty", obj{{"a", arr{}}}, jsonStyle{indent: "  "}, "{\n  \"a\": []\n}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := encodeJSON(tc.v, tc.st)
			require.Equal(t, tc.want, string(got))
			require.True(t, json.Valid(got))
		})
	}
	require.Panics(t, func() { encodeJSON(obj{{"x", struct{}{}}}, styleCompact) })
}

// writeStringByByte is writeString as it was first written, one byte at a
// time: the reference the faster version must equal byte for byte (the
// simulator's output is part of its determinism).
func writeStringByByte(b *bytes.Buffer, s string, st jsonStyle) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
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
			case c < 0x20 || (st.escapeHTML && (c == '<' || c == '>' || c == '&')):
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			case c == '/' && st.escapeSlash:
				b.WriteString(`\/`)
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xf])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

func TestWriteStringEqualsByteByByte(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "\"", "\\", "/", "<", ">", "&", "\n", "\r", "\t", "\x00", "\x1f", "\x7f",
		"é", "日本", "\u2028", "\u2029", "\ufffd", "\xff", "\xe2\x80", "😀", "<p>", "https://x.example/a"}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		var sb strings.Builder
		for range r.IntN(30) {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := sb.String()
		for _, st := range []jsonStyle{{}, {escapeHTML: true}, {escapeSlash: true}, {escapeHTML: true, escapeSlash: true}} {
			var got, want bytes.Buffer
			writeString(&got, s, st)
			writeStringByByte(&want, s, st)
			require.Equal(t, want.String(), got.String(), "case %d %q %+v", i, s, st)
		}
	}
}
