package fedisim

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPrerenderServesTheSameBytes: a prerendered simulator answers every
// Mastodon API request of a crawl byte for byte as a cold one does, at
// epoch 0 and after an epoch change (new content, rendered anew).
func TestPrerenderServesTheSameBytes(t *testing.T) {
	cold, warm := New(testOpts), New(testOpts)
	cold.skipDelays, warm.skipDelays = true, true
	warm.Prerender()

	urls := func(tr *Truth) []string {
		var out []string
		for _, it := range tr.Instances {
			if it.Software != "mastodon" && it.Software != "pleroma" && it.Software != "pixelfed" && it.Software != "friendica" {
				continue
			}
			base := "https://" + it.Host
			out = append(out,
				base+"/api/v1/directory?local=true&order=new&limit=80",
				base+"/api/v1/directory?local=true&limit=2&offset=1",
				base+"/api/v1/directory?local=true&limit=80&offset=100000",
				base+"/api/v1/timelines/public?local=true&limit=40",
				base+"/api/v1/timelines/public?local=true&limit=3&max_id=zzzzzzzzzzzzzzzzzzzz")
			for i, a := range it.Accounts {
				if i == 3 {
					break
				}
				out = append(out,
					base+"/api/v1/accounts/lookup?acct="+url.QueryEscape(a.Username),
					base+"/api/v1/accounts/"+a.ID,
					base+"/api/v1/accounts/"+a.ID+"/statuses?limit=40&exclude_reblogs=true")
				for j, p := range a.Posts {
					if j == 2 {
						break
					}
					out = append(out, base+"/api/v1/statuses/"+p.ID)
				}
			}
			if len(out) > 600 {
				break
			}
		}
		return out
	}
	for epoch := 0; epoch < 2; epoch++ {
		if epoch > 0 {
			cold.Advance()
			warm.Advance()
		}
		list := urls(cold.Truth())
		require.Greater(t, len(list), 100)
		var ok200 int
		for _, u := range list {
			c, w := get(t, cold, u), get(t, warm, u)
			require.Equal(t, c.status, w.status, u)
			require.Equal(t, string(c.body), string(w.body), u)
			if c.status == 200 && len(c.body) > 2 {
				ok200++
			}
		}
		require.Greater(t, ok200, len(list)/3, "too few non-empty answers to compare")
	}
}
