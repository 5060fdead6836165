package stats

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseQuery(t *testing.T) {
	date := func(s string) time.Time {
		d, err := time.Parse(DateLayout, s)
		require.NoError(t, err)
		return d
	}
	tests := map[string]struct {
		raw  string
		want Query
		bad  string // substring of the error; "" = no error
	}{
		"empty":       {raw: "", want: Query{Interval: Day}},
		"full":        {raw: "from=2026-01-01&to=2026-02-01&interval=Week&software=Mastodon,pleroma&software=lemmy&language=PT-br&include_flagged=true", want: Query{From: date("2026-01-01"), To: date("2026-02-01"), Interval: Week, Software: []string{"mastodon", "pleroma", "lemmy"}, Language: "pt-br", IncludeFlagged: true}},
		"duplicates":  {raw: "software=mastodon,,mastodon", want: Query{Interval: Day, Software: []string{"mastodon"}}},
		"bad date":    {raw: "from=2026-13-01", bad: "from must be a date"},
		"reversed":    {raw: "from=2026-02-01&to=2026-01-01", bad: "to is before from"},
		"interval":    {raw: "interval=year", bad: "interval must be"},
		"software":    {raw: "software=%3Cscript%3E", bad: "software must be"},
		"language":    {raw: "language=en%20us", bad: "language must be"},
		"flagged":     {raw: "include_flagged=maybe", bad: "include_flagged must be true or false"},
		"many":        {raw: "software=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u", bad: "at most 20"},
		"long":        {raw: "language=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", bad: "language must be"},
		"unknown ok":  {raw: "page=2", want: Query{Interval: Day}},
		"flag false":  {raw: "include_flagged=0", want: Query{Interval: Day}},
		"month":       {raw: "interval=month", want: Query{Interval: Month}},
		"blank items": {raw: "software=+", want: Query{Interval: Day}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.raw)
			require.NoError(t, err)
			got, err := ParseQuery(v)
			if tc.bad != "" {
				require.ErrorIs(t, err, ErrBadQuery)
				require.ErrorContains(t, err, tc.bad)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			// Values round-trips.
			again, err := ParseQuery(got.Values())
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}
