package fedisim

import "net/http"

// apType is the ActivityStreams object type of a post.
func apType(pst *post) string {
	switch pst.kind {
	case kindArticle:
		return "Article"
	case kindQuestion:
		return "Question"
	}
	return "Note"
}

// attachmentsJSON renders media as ActivityStreams Documents; the alt text
// is the name, as Mastodon sends it.
func attachmentsJSON(pst *post) arr {
	out := arr{}
	for _, m := range pst.media {
		var name any = nil
		if m.description != "" {
			name = m.description
		}
		out = append(out, obj{{"type", "Document"}, {"mediaType", "image/png"}, {"url", m.url},
			{"name", name}, {"blurhash", "UFBWY:8_0Jxv%M-;M{WB00of~qxuRjofofRj"}, {"width", 1200}, {"height", 800}})
	}
	return out
}

// questionJSON is the poll part of a Question: oneOf or anyOf, endTime and
// votersCount.
func questionJSON(pst *post) obj {
	p := pst.poll
	opts := arr{}
	total := 0
	for i, o := range p.options {
		opts = append(opts, obj{{"type", "Note"}, {"name", o}, {"replies", obj{{"type", "Collection"}, {"totalItems", p.votes[i]}}}})
		total += p.votes[i]
	}
	key := "oneOf"
	if p.multiple {
		key = "anyOf"
	}
	return obj{{"endTime", p.expires.UTC().Format(timeSeconds)}, {"votersCount", total}, {key, opts}}
}

// serveGone answers for deleted accounts and posts and reports whether t
// was one: Mastodon answers 410 Gone, Pleroma and Akkoma a Tombstone for
// posts, the others 404; HTML pages are 404 everywhere.
func (s *Sim) serveGone(w http.ResponseWriter, r *http.Request, in *instance, t target) bool {
	gone := t.post != nil && t.post.gone || t.account != nil && t.account.gone
	if !gone {
		return false
	}
	ap := wantsActivityJSON(r)
	switch {
	case t.kind == targetPage || !ap:
		notFound(w, in, r.URL.Path)
	case in.kind == swMastodon:
		writeJSON(w, http.StatusGone, []byte(`{"error":"Gone"}`), "application/json; charset=utf-8")
	case t.post != nil && (in.kind == swPleroma || in.kind == swAkkoma):
		o := obj{{"@context", s.apContext(in)}, {"id", t.post.uri}, {"type", "Tombstone"},
			{"formerType", apType(t.post)}, {"deleted", s.opts.Now.UTC().Format(timeSeconds)}}
		writeJSON(w, http.StatusOK, encodeJSON(o, s.apStyle(in)), apContentType(in))
	default:
		notFound(w, in, r.URL.Path)
	}
	return true
}
