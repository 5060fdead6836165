package fedisim

import (
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Handler returns the simulation's HTTP handler. It routes by r.Host (port
// stripped, lower-cased, trailing dot removed) to the virtual instance of
// that name; names that are no instance get their connection closed.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// normaliseHost strips the port and brackets from a Host header value.
func normaliseHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	} else {
		h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	}
	return strings.TrimSuffix(h, ".")
}

// recorder captures the status for the request log.
type recorder struct {
	http.ResponseWriter
	status int
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	entry := Request{
		Host:       normaliseHost(r.Host),
		Method:     r.Method,
		Path:       r.URL.Path,
		RawQuery:   r.URL.RawQuery,
		UserAgent:  r.UserAgent(),
		RemoteAddr: r.RemoteAddr,
		Start:      time.Now(),
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		entry.LocalAddr = la.String()
	}
	rec := &recorder{ResponseWriter: w}
	defer func() {
		entry.End = time.Now()
		entry.Status = rec.status
		s.reqLog.add(entry)
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.Debug("sim request", "host", entry.Host, "method", entry.Method, "path", entry.Path,
				"status", entry.Status, "local", entry.LocalAddr)
		}
	}()

	in := s.world.byHost[entry.Host]
	if in == nil && s.world.farmJunk(entry.Host) {
		serveFarmJunk(rec)
		return
	}
	if in != nil && s.world.hist != nil {
		in = s.world.dayView(in, s.Day()) // nil: not alive that day
	}
	if in == nil || in.has(bDown) {
		dropConnection(w)
		return
	}
	if in.has(bHTTP503) {
		rec.Header().Set("Content-Type", "text/html")
		rec.WriteHeader(http.StatusServiceUnavailable)
		_, _ = rec.Write([]byte("<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"))
		return
	}
	if in.has(bSlow) && !s.skipDelays {
		d := time.Duration(50+hashString(in.host+"\x00"+r.URL.Path)%251) * time.Millisecond
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if in.has(bRateLimit) {
		if g := s.pathGroup(in, r.URL.Path); g != "" && s.firstInGroup(in.host, g) {
			rec.Header().Set("Retry-After", "1")
			rec.Header().Set("X-RateLimit-Limit", "300")
			rec.Header().Set("X-RateLimit-Remaining", "0")
			rec.Header().Set("X-RateLimit-Reset", s.opts.Now.Add(time.Second).Format(time.RFC3339))
			writeJSON(rec, http.StatusTooManyRequests, []byte(`{"error":"Too many requests"}`), "application/json; charset=utf-8")
			return
		}
	}
	s.route(rec, r, in)
}

// dropConnection closes the client connection without an answer: hijacked
// and closed on HTTP/1, the stream aborted on HTTP/2.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot hijack; aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// pathGroup is the rate-limit bucket of a path, after GoToSocial's groups.
func (s *Sim) pathGroup(in *instance, path string) string {
	switch {
	case path == "/robots.txt":
		return ""
	case isNodeinfoPath(in, path):
		return "nodeinfo"
	case strings.HasPrefix(path, "/.well-known/"):
		return "well-known"
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case strings.HasPrefix(path, "/users/"):
		return "users"
	}
	return "other"
}

func isNodeinfoPath(in *instance, path string) bool {
	for _, l := range nodeinfoLinks(in.kind, in.version) {
		if l.path == path {
			return true
		}
	}
	return strings.HasPrefix(path, "/nodeinfo/")
}

// firstInGroup records a request of host in group and reports whether it
// was the first.
func (s *Sim) firstInGroup(host, group string) bool {
	key := host + "\x00" + group
	s.rlMu.Lock()
	defer s.rlMu.Unlock()
	if _, ok := s.rlSeen[key]; ok {
		return false
	}
	s.rlSeen[key] = struct{}{}
	return true
}

// writeJSON writes a JSON body with status and content type.
func writeJSON(w http.ResponseWriter, status int, body []byte, contentType string) {
	if contentType == "" {
		contentType = "application/json; charset=utf-8"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeText writes a plain-text body.
func writeText(w http.ResponseWriter, status int, body, contentType string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// notFound answers 404 in the program's style.
func notFound(w http.ResponseWriter, in *instance, path string) {
	switch {
	case in.kind == swMisskey || in.kind == swSharkey || in.kind == swFirefish || in.kind == swFedired:
		if strings.HasPrefix(path, "/api/") {
			writeJSON(w, http.StatusNotFound, []byte(`{"error":{"message":"No such endpoint.","code":"NO_SUCH_ENDPOINT","id":"e5b3b9f0-2b8f-4b9f-9c1f-8c5c1b5e0f8a","kind":"client"}}`), "")
			return
		}
	case in.kind == swGoToSocial:
		writeJSON(w, http.StatusNotFound, []byte(`{"error":"Not Found"}`), "application/json")
		return
	case in.kind == swWriteFreely || in.kind == swSnac:
		writeText(w, http.StatusNotFound, "404 page not found\n", "text/plain; charset=utf-8")
		return
	case strings.HasPrefix(path, "/api/"):
		writeJSON(w, http.StatusNotFound, []byte(`{"error":"Record not found"}`), "")
		return
	}
	writeText(w, http.StatusNotFound, "<!DOCTYPE html>\n<html><head><title>The page you are looking for isn't here.</title></head><body><h1>404</h1></body></html>\n", "text/html; charset=utf-8")
}

// route dispatches a request to the instance's endpoints.
func (s *Sim) route(w http.ResponseWriter, r *http.Request, in *instance) {
	path := r.URL.Path
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case path == "/robots.txt" && get:
		status, body := robotsFor(in)
		ct := "text/plain; charset=utf-8"
		if status >= 500 {
			ct = "text/html"
		}
		writeText(w, status, body, ct)
		return
	case path == "/.well-known/nodeinfo" && get:
		s.serveNodeinfoDiscovery(w, in)
		return
	case get && isNodeinfoDocPath(in, path):
		s.serveNodeinfoDoc(w, r, in, path)
		return
	case path == "/.well-known/webfinger" && get && (in.prof().hasAccounts || in.kind == swPeerTube):
		s.serveWebfinger(w, r, in)
		return
	case path == "/.well-known/host-meta" && get && in.prof().hostMeta:
		s.serveHostMeta(w, in)
		return
	}
	if s.routeAPI(w, r, in) {
		return
	}
	if get && s.routeContent(w, r, in) {
		return
	}
	notFound(w, in, path)
}

// isNodeinfoDocPath reports whether path is one of the instance's NodeInfo
// documents.
func isNodeinfoDocPath(in *instance, path string) bool {
	for _, l := range nodeinfoLinks(in.kind, in.version) {
		if l.path == path {
			return true
		}
	}
	return false
}

// routeAPI serves the program-specific APIs and reports whether it did.
func (s *Sim) routeAPI(w http.ResponseWriter, r *http.Request, in *instance) bool {
	p := in.prof()
	switch {
	case p.mastoAPI || in.kind == swSnac:
		return s.routeMastodonAPI(w, r, in)
	case p.misskeyAPI:
		return s.routeMisskeyAPI(w, r, in)
	case in.kind == swLemmy:
		return s.routeLemmyAPI(w, r, in)
	case in.kind == swPeerTube:
		return s.routePeerTubeAPI(w, r, in)
	case in.kind == swWordPress:
		return s.routeWordPressAPI(w, r, in)
	}
	return false
}
