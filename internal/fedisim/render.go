package fedisim

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The Mastodon API renders the same Status and Account entities again and
// again: a status in every local-timeline page and account listing that
// holds it, an account in each of its statuses, in the directory and in
// lookups. Each is rendered once per epoch (the content of an epoch is
// never modified once served, and a new epoch builds new accounts and
// posts) and its JSON kept on the object, so the simulator spends its CPU
// on serving, not on re-encoding: on a shared machine every CPU-second the
// simulator saves is one the crawler under test gets.

// renderedJSON is an entity's JSON in the compact form of one style.
type renderedJSON struct {
	style jsonStyle
	json  rawJSON
}

// renderCached returns the entity's JSON in style st (its indent left to
// the document, which json.Indent reformats whole), rendering it with
// render on first use for that style.
func renderCached(slot *atomic.Pointer[renderedJSON], st jsonStyle, render func() any) rawJSON {
	st.indent = ""
	if r := slot.Load(); r != nil && r.style == st {
		return r.json
	}
	r := &renderedJSON{style: st, json: rawJSON(encodeJSON(render(), st))}
	slot.Store(r)
	return r.json
}

// statusRaw is statusJSON, rendered once in the instance's API style.
func (s *Sim) statusRaw(in *instance, pst *post) rawJSON {
	st, _ := mastoStyle(in)
	if s.world.instances[in.idx].version != in.version {
		// A day view (history.go) with an older version: the cache holds
		// today's rendering.
		st.indent = ""
		return rawJSON(encodeJSON(s.statusJSON(in, pst), st))
	}
	return renderCached(&pst.rendered, st, func() any { return s.statusJSON(in, pst) })
}

// accountRaw is accountJSON, rendered once in the instance's API style.
func (s *Sim) accountRaw(in *instance, a *account) rawJSON {
	st, _ := mastoStyle(in)
	if s.world.instances[in.idx].version != in.version {
		st.indent = "" // a day view with an older version, as in statusRaw
		return rawJSON(encodeJSON(s.accountJSON(in, a), st))
	}
	return renderCached(&a.rendered, st, func() any { return s.accountJSON(in, a) })
}

// publicPosts returns the content's visibility=public posts, newest first.
func (c *content) publicPosts() []*post {
	c.publicOnce.Do(func() {
		for _, pst := range c.posts {
			if pst.visibility == "public" {
				c.public = append(c.public, pst)
			}
		}
	})
	return c.public
}

// Prerender renders, for the current epoch, every Status and Account the
// Mastodon API of the simulated instances can serve, and generates every
// instance's content on the way. The ingest benchmark calls it before it
// starts the clock: the simulator stands for remote servers, whose CPU is
// not the crawler's, so it should cost the crawler's machine as little as
// it can. Serving from a prerendered world answers exactly as serving
// from a cold one (the same bytes); it only uses more memory (about 2.5 KB
// per status).
func (s *Sim) Prerender() {
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(s.world.instances) {
					return
				}
				s.prerender(s.world.instances[i])
			}
		})
	}
	wg.Wait()
}

// prerender renders one instance's Mastodon API entities.
func (s *Sim) prerender(in *instance) {
	c := s.world.contentOf(in)
	if !in.prof().mastoAPI {
		return
	}
	for _, a := range c.accounts {
		s.accountRaw(in, a)
	}
	for _, pst := range c.posts {
		if pst.visibility == "public" || pst.visibility == "unlisted" {
			s.statusRaw(in, pst)
		}
	}
	c.publicPosts()
}
