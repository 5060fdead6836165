package fedisim

import (
	"encoding/json"
	"testing"

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
