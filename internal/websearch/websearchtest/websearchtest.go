// Package websearchtest holds what the tests of the search API, page and
// feed share: a corpus of posts with known filter counts, hostile posts
// whose every remote field carries script, and a check that HTML output
// contains nothing that can run.
package websearchtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/model"
)

// Corpus dimensions: post i is on Hosts[i%3], in Langs[i%2], tagged
// Tags[i%4] and "ducks", created Start + i hours (so across two months),
// and contains the word "ducks". N is larger than the largest page.
var (
	Hosts = []string{"a.example", "b.example", "c.example"}
	Langs = []string{"en", "de"}
	Tags  = []string{"birds", "ponds", "bread", "rain"}
	Start = time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)
)

// N is the number of posts in Corpus.
const N = 130

// Corpus returns N ordinary posts.
func Corpus() []model.Post {
	posts := make([]model.Post, 0, N)
	for i := range N {
		host := Hosts[i%len(Hosts)]
		text := fmt.Sprintf("Post %d about ducks on the pond, number %d", i, i)
		posts = append(posts, model.Post{
			URI:        fmt.Sprintf("https://%s/users/u%d/statuses/%d", host, i%5, i),
			URL:        fmt.Sprintf("https://%s/@u%d/%d", host, i%5, i),
			Host:       host,
			Author:     fmt.Sprintf("u%d@%s", i%5, host),
			AuthorName: fmt.Sprintf("User %d", i%5),
			Created:    Start.Add(time.Duration(i) * time.Hour),
			Language:   Langs[i%len(Langs)],
			Text:       text,
			HTML:       "<p>" + text + "</p>",
			Tags:       []string{"ducks", Tags[i%len(Tags)]},
			Kind:       "note",
			Source:     model.SourceMastodon,
		})
	}
	return posts
}

// Count returns how many Corpus posts keep returns true for, by index.
func Count(keep func(i int) bool) int {
	n := 0
	for i := range N {
		if keep(i) {
			n++
		}
	}
	return n
}

// Payloads are the script markers of the hostile posts: if one of them
// ever runs in a browser, it opens a dialog.
const (
	ScriptTag   = `<script>alert("script")</script>`
	ImgOnerror  = `<img src=x onerror=alert("img")>`
	JSLink      = `<a href="javascript:alert('link')">click</a>`
	AttrBreak   = `"><svg onload=alert("svg")>`
	StyleInject = `<style>body{display:none}</style>`
)

// HostileWord is in every hostile post, so one query finds them all.
const HostileWord = "mallory"

// Hostile returns posts whose content, content warning, author name, tags,
// URL and URI carry script tags, event handlers and javascript: links.
// Their HTML is raw, as if sanitising at ingest had failed, and their text
// holds the payloads as characters, as a post about XSS legitimately does.
func Hostile() []model.Post {
	all := ScriptTag + " " + ImgOnerror + " " + JSLink + " " + AttrBreak + " " + StyleInject
	created := Start.Add(-24 * time.Hour)
	return []model.Post{
		{
			URI: "https://evil.example/notes/1", URL: "javascript:alert('url')",
			Host: "evil.example", Author: "mallory@evil.example", AuthorName: ImgOnerror + AttrBreak,
			Created: created, Language: "en",
			Text:    HostileWord + " writes " + all,
			HTML:    "<p>" + HostileWord + " writes " + all + "</p>",
			Summary: "CW " + ScriptTag + AttrBreak, Sensitive: true,
			Tags: []string{"xss", AttrBreak, ScriptTag},
		},
		{
			URI: "javascript:alert('uri')", URL: `https://evil.example/notes/2"><svg onload=alert("href")>`,
			Host: "evil.example", Author: "mallory@evil.example", AuthorName: ScriptTag,
			Created: created.Add(time.Minute), Language: "en",
			Text: HostileWord + " " + AttrBreak + " " + JSLink,
			HTML: `<p onclick="alert('p')">` + HostileWord + `</p><iframe src="javascript:alert('iframe')"></iframe>` + JSLink,
			Tags: []string{"xss"},
		},
		{
			URI: "https://evil.example/notes/3", URL: "https://evil.example/@mallory/3",
			Host: "evil.example", Author: "mallory@evil.example", AuthorName: "Mallory",
			Created: created.Add(2 * time.Minute), Language: "en",
			Text: HostileWord + " plain text with </mark><script>alert('mark')</script>",
			HTML: "<p>" + HostileWord + " plain text with &lt;/mark&gt;&lt;script&gt;</p>",
		},
	}
}

var shared struct {
	once sync.Once
	ix   *indexer.Index
	err  error
}

// Shared returns one in-memory index holding Corpus and Hostile for the
// whole test binary: tests only read it, and building it once keeps the
// race-detector runs short. It is never closed (the process ends).
func Shared(t *testing.T) *indexer.Index {
	t.Helper()
	shared.once.Do(func() {
		shared.ix, shared.err = indexer.Open(indexer.Options{})
		if shared.err == nil {
			shared.err = shared.ix.Index(context.Background(), append(Corpus(), Hostile()...))
		}
	})
	require.NoError(t, shared.err)
	return shared.ix
}

// dangerousElements can run script, load content or restyle the page. None
// may come from remote input; the page's own (link, meta) are allowed.
var dangerousElements = map[string]bool{
	"script": true, "iframe": true, "frame": true, "object": true, "embed": true, "svg": true,
	"math": true, "img": true, "style": true, "base": true, "form": false, "video": true, "audio": true,
}

// Active returns what in the HTML document (or fragment) s could run
// script: script and other dangerous elements, on* attributes, and
// javascript:, data: or vbscript: URLs in any attribute. An empty result
// means the HTML is harmless whatever text it shows.
func Active(t *testing.T, s string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	require.NoError(t, err)
	var found []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if dangerousElements[n.Data] {
			found = append(found, "<"+n.Data+">")
		}
		if n.Data == "meta" {
			for _, a := range n.Attr {
				if strings.EqualFold(a.Key, "http-equiv") {
					found = append(found, "<meta http-equiv>")
				}
			}
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			if strings.HasPrefix(key, "on") {
				found = append(found, fmt.Sprintf("<%s %s>", n.Data, a.Key))
			}
			if key == "style" {
				found = append(found, fmt.Sprintf("<%s style>", n.Data))
			}
			v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			for _, scheme := range []string{"javascript:", "data:", "vbscript:"} {
				if strings.HasPrefix(v, scheme) {
					found = append(found, fmt.Sprintf("<%s %s=%q>", n.Data, a.Key, a.Val))
				}
			}
		}
	}
	return found
}
