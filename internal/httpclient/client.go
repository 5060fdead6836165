// Package httpclient is the one HTTP client every outbound request of
// fedilens goes through, colly's included. Remote servers are hostile: a
// peer list can name a host that resolves to 127.0.0.1, a redirect can point
// at the cloud metadata service, a body can be a gzip bomb or trickle
// forever. The client refuses all of that in one place:
//
//   - a dial guard that checks every address actually dialled (after DNS,
//     after --resolve overrides, on every redirect hop) against loopback,
//     private, link-local, CGNAT, documentation and other reserved ranges,
//     unless an operator explicitly allowed a network;
//   - redirects limited in number, to http and https, and never from https
//     down to http;
//   - bodies decompressed by the client itself and capped on the
//     decompressed size, with an error instead of silent truncation;
//   - timeouts on every phase, and the whole request, body included.
package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Sentinel errors, to be tested with errors.Is. They arrive wrapped, often
// inside a *url.Error, with the host or address that caused them.
var (
	// ErrForbiddenAddress: the request would have connected to an address
	// in a private or reserved network that is not in Options.AllowNets.
	ErrForbiddenAddress = errors.New("forbidden address")
	// ErrBodyTooLarge: the response body (after decompression) is larger
	// than the cap for the request. Returned by Do when Content-Length
	// already says so, otherwise by the Read that crosses the cap.
	ErrBodyTooLarge = errors.New("response body too large")
	// ErrTooManyRedirects: the redirect chain is longer than
	// Options.MaxRedirects.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrBadScheme: a request or a redirect used a scheme other than http
	// and https, or a redirect went from https down to http.
	ErrBadScheme = errors.New("bad url scheme")
	// ErrBadContentEncoding: the server answered with a content encoding
	// fedilens did not ask for (br, zstd, stacked encodings, ...), which it
	// cannot decode within its limits.
	ErrBadContentEncoding = errors.New("unsupported content encoding")
)

// Defaults for the zero values of Options.
const (
	DefaultDialTimeout           = 5 * time.Second
	DefaultTLSHandshakeTimeout   = 5 * time.Second
	DefaultResponseHeaderTimeout = 10 * time.Second
	DefaultIdleConnTimeout       = 90 * time.Second
	DefaultTimeout               = 30 * time.Second
	DefaultMaxRedirects          = 5
	DefaultMaxBodyBytes          = 4 << 20
	DefaultMaxIdleConnsPerHost   = 1
	DefaultMaxIdleConns          = 1024
	DefaultTLSSessionCacheSize   = 512
	DefaultMaxConnsPerHost       = 2
)

// maxResponseHeaderBytes bounds the response headers a server may send;
// real fediverse servers send a few KiB.
const maxResponseHeaderBytes = 128 << 10

// Resolver looks up the addresses of a host name. *net.Resolver satisfies
// it; tests and the simulated fediverse pass their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure a Client. The zero value is a safe client for the
// public internet with the defaults above.
type Options struct {
	// UserAgent is set on every request that has none, so servers can tell
	// who crawls them and find the about page.
	UserAgent string
	// AllowNets are the only private or reserved networks that may be
	// dialled, none by default: a test rig or a lab fediverse on 127.0.0.0/8
	// or 10.0.0.0/8 must be allowed explicitly, and only as narrowly as it
	// needs. See ParseAllowNet.
	AllowNets []netip.Prefix
	// Resolve overrides DNS for host names, like curl --resolve. Keys are
	// "HOST:PORT", "HOST" or "*" (tried in that order); values are "IP" or
	// "IP:PORT" with IPv6 in brackets. A value without a port keeps the
	// request's port. IP-literal URL hosts are never remapped. The target
	// addresses still pass the dial guard. See ParseResolve.
	Resolve map[string]string
	// RootCAs verifies servers; nil means the system roots. See LoadCAFile.
	RootCAs *x509.CertPool
	// DialTimeout bounds name resolution plus connecting, over all of a
	// host's addresses.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake.
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for response headers once the
	// request is written.
	ResponseHeaderTimeout time.Duration
	// IdleConnTimeout closes kept-alive connections nobody uses.
	IdleConnTimeout time.Duration
	// Timeout bounds the whole request, redirects and body reading
	// included, so a server that trickles a body cannot hold a worker.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed; 0 means the default
	// and a negative value means none: Do then returns the 3xx response.
	MaxRedirects int
	// MaxBodyBytes caps every response body after decompression, unless a
	// request carries its own cap (WithMaxBody).
	MaxBodyBytes int64
	// MaxIdleConnsPerHost and MaxConnsPerHost keep fedilens polite: it
	// talks to thousands of hosts, each rarely and with little parallelism.
	MaxIdleConnsPerHost, MaxConnsPerHost int
	// MaxIdleConns bounds the kept-alive connections over all hosts. It
	// must exceed the number of hosts visited at once: a smaller pool
	// evicts a host's connection between two of its requests, and every
	// request then pays a new TLS handshake (measured: 62% of the
	// crawler's CPU went to handshakes with a pool of 100 and 256 workers).
	MaxIdleConns int
	// TLSSessionCacheSize is the number of TLS sessions kept for
	// resumption (0 = default, negative = none). A resumed handshake skips
	// the certificate chain verification, the costliest part of a new
	// connection to a host seen before.
	TLSSessionCacheSize int
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Logger receives debug records of refused dials and redirects; nil
	// discards them.
	Logger *slog.Logger
}

// Client is the hardened client. It is safe for concurrent use.
type Client struct {
	hc           *http.Client
	conns        *connTracker
	maxRedirects int
	log          *slog.Logger
}

// New builds a Client, filling defaults and validating AllowNets and
// Resolve.
func New(opts Options) (*Client, error) {
	setDefaults(&opts)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	allow := make([]netip.Prefix, 0, len(opts.AllowNets))
	for _, p := range opts.AllowNets {
		if !p.IsValid() {
			return nil, fmt.Errorf("validate allowed network %v: invalid prefix", p)
		}
		allow = append(allow, normalizePrefix(p))
	}
	ovr, err := newOverrides(opts.Resolve)
	if err != nil {
		return nil, err
	}

	d := &dialer{
		timeout:   opts.DialTimeout,
		resolver:  opts.Resolver,
		allow:     allow,
		overrides: ovr,
		log:       log,
		conns:     newConnTracker(),
	}
	d.net = &net.Dialer{
		// The dial guard in DialContext checks what it resolved; Control
		// checks again the address the socket really connects to, so no
		// path around the guard (a future code change, a happy-eyeballs
		// fallback) can reach a forbidden address.
		Control:   d.control,
		KeepAlive: 30 * time.Second,
	}

	tlsConf := &tls.Config{
		RootCAs:    opts.RootCAs,
		MinVersion: tls.VersionTLS12,
	}
	if opts.TLSSessionCacheSize > 0 {
		tlsConf.ClientSessionCache = tls.NewLRUClientSessionCache(opts.TLSSessionCacheSize)
	}
	tr := &http.Transport{
		Proxy:           nil, // a proxy from the environment would bypass the dial guard
		DialContext:     d.DialContext,
		TLSClientConfig: tlsConf,
		// HTTP/1.1 only. A crawler sends one request at a time to a host,
		// so HTTP/2's multiplexing gains nothing, and its connections live
		// in a pool of their own that MaxIdleConns does not bound: visiting
		// 20,000 hosts left 20,000 connections open until their idle
		// timeout and ran the process out of file descriptors. Over
		// HTTP/1.1 at most MaxIdleConns idle connections are kept (LRU).
		ForceAttemptHTTP2:      false,
		TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{},
		TLSHandshakeTimeout:    opts.TLSHandshakeTimeout,
		ResponseHeaderTimeout:  opts.ResponseHeaderTimeout,
		IdleConnTimeout:        opts.IdleConnTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           opts.MaxIdleConns,
		MaxIdleConnsPerHost:    opts.MaxIdleConnsPerHost,
		MaxConnsPerHost:        opts.MaxConnsPerHost,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		// Decompression is done by bodyTransport, under the body cap.
		DisableCompression: true,
	}

	c := &Client{maxRedirects: opts.MaxRedirects, log: log, conns: d.conns}
	c.hc = &http.Client{
		Transport: &bodyTransport{
			base:         tr,
			userAgent:    opts.UserAgent,
			maxBody:      opts.MaxBodyBytes,
			maxRedirects: max(opts.MaxRedirects, 0),
			timeout:      opts.Timeout,
		},
		CheckRedirect: c.checkRedirect,
		Timeout:       opts.Timeout,
	}
	return c, nil
}

func setDefaults(o *Options) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.DialTimeout, DefaultDialTimeout)
	def(&o.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout)
	def(&o.ResponseHeaderTimeout, DefaultResponseHeaderTimeout)
	def(&o.IdleConnTimeout, DefaultIdleConnTimeout)
	def(&o.Timeout, DefaultTimeout)
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = DefaultMaxIdleConns
	}
	if o.TLSSessionCacheSize == 0 {
		o.TLSSessionCacheSize = DefaultTLSSessionCacheSize
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
}

// Do sends a request through the guarded client. It is the Doer the rest
// of fedilens uses. As with http.Client, the caller must close the body.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	return c.hc.Do(req)
}

// HTTPClient returns the guarded client as an *http.Client, for libraries
// that want one (colly's SetClient). Each call returns a new *http.Client
// value sharing this Client's transport (and so its connections), because
// such libraries change the fields they are given: colly sets Jar,
// CheckRedirect and Timeout. The dial guard, the body caps and the redirect
// limits live in the transport, so they hold whatever is set on the copy,
// as long as the Transport itself is not replaced (colly's SetProxyFunc and
// WithTransport would replace it: do not use them).
func (c *Client) HTTPClient() *http.Client {
	hc := *c.hc
	return &hc
}

// checkRedirect limits redirect chains and refuses scheme changes that
// would leave http(s) or drop TLS. The dial guard applies to the new hop
// anyway, since it dials again.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.maxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	prev := via[len(via)-1].URL
	if len(via) > c.maxRedirects {
		return fmt.Errorf("follow redirect from %s after %d redirects: %w", prev.Host, len(via)-1, ErrTooManyRedirects)
	}
	scheme := strings.ToLower(req.URL.Scheme)
	if scheme != "http" && scheme != "https" {
		c.log.Debug("refused redirect", "from", prev.Host, "scheme", scheme)
		return fmt.Errorf("follow redirect from %s to scheme %q: %w", prev.Host, scheme, ErrBadScheme)
	}
	if strings.EqualFold(prev.Scheme, "https") && scheme == "http" {
		c.log.Debug("refused redirect", "from", prev.Host, "to", req.URL.Host, "reason", "https to http")
		return fmt.Errorf("follow redirect from https://%s to http://%s: downgrade refused: %w", prev.Host, req.URL.Host, ErrBadScheme)
	}
	return nil
}

// bodyTransport sets the request headers fedilens always sends, checks
// schemes and redirect chains again (in case a library replaced the
// client's CheckRedirect), and puts every response body behind
// decompression and the size cap.
type bodyTransport struct {
	base         http.RoundTripper
	userAgent    string
	maxBody      int64
	maxRedirects int
	// timeout bounds each hop, body included, even when a library cleared
	// the Timeout of its *http.Client copy.
	timeout time.Duration
}

// CloseHost closes the idle connections to host (a name, with or without
// port) and returns how many it closed. A connection is busy from the
// moment a request gets it until the response body is closed; busy ones
// are left open (another visit may be following a redirect to the host).
// The transport notices the closed idle connections and dials anew if the
// host is asked again.
func (c *Client) CloseHost(host string) int { return c.conns.closeHost(host) }

// OpenConns returns the number of open connections (idle or busy).
func (c *Client) OpenConns() int { return c.conns.open() }

// CloseIdleConnections closes the idle connections of the underlying
// transport, so http.Client.CloseIdleConnections (and a crawler that is
// done with its hosts) really releases them.
func (t *bodyTransport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// RoundTrip implements http.RoundTripper.
func (t *bodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		return nil, fmt.Errorf("send request: no url: %w", ErrBadScheme)
	}
	if s := strings.ToLower(req.URL.Scheme); s != "http" && s != "https" {
		closeBody(req)
		return nil, fmt.Errorf("send request to %s: scheme %q: %w", req.URL.Host, req.URL.Scheme, ErrBadScheme)
	}
	if err := t.checkChain(req); err != nil {
		closeBody(req)
		return nil, err
	}
	if err := checkRedirectPolicy(req); err != nil {
		closeBody(req)
		return nil, err
	}
	// A RoundTripper must not change the caller's request.
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	out := req.Clone(ctx)
	if out.Header.Get("User-Agent") == "" && t.userAgent != "" {
		out.Header.Set("User-Agent", t.userAgent)
	}
	out.Header.Set("Accept-Encoding", "gzip")

	// The connection a request uses is busy until its body is closed:
	// CloseHost leaves it alone meanwhile.
	var used *trackedConn
	var releaseOnce sync.Once
	release := func() {
		releaseOnce.Do(func() {
			if used != nil {
				used.busy.Add(-1)
			}
		})
	}
	out = out.WithContext(httptrace.WithClientTrace(out.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if tc := asTracked(info.Conn); tc != nil && used == nil {
				tc.busy.Add(1)
				used = tc
			}
		},
	}))
	end := func() { cancel(); release() }

	resp, err := t.base.RoundTrip(out)
	if err != nil {
		end()
		return nil, err
	}
	resp.Request = req
	limit := t.maxBody
	if n, ok := req.Context().Value(maxBodyKey{}).(int64); ok {
		limit = n
	}
	if err := wrapBody(resp, limit); err != nil {
		resp.Body.Close()
		end()
		return nil, err
	}
	if b, ok := resp.Body.(*cappedBody); ok {
		b.cancel = end
	} else {
		end() // no body: the transport is done with the request
	}
	return resp, nil
}

// checkChain enforces the redirect rules on the chain http.Client records
// in Request.Response: each hop's request points at the redirect response
// that caused it, whose Request is the hop before.
func (t *bodyTransport) checkChain(req *http.Request) error {
	if req.Response == nil {
		return nil
	}
	if prev := req.Response.Request; prev != nil && prev.URL != nil &&
		strings.EqualFold(prev.URL.Scheme, "https") && strings.EqualFold(req.URL.Scheme, "http") {
		return fmt.Errorf("follow redirect from https://%s to http://%s: downgrade refused: %w", prev.URL.Host, req.URL.Host, ErrBadScheme)
	}
	hops := 0
	for r := req.Response; r != nil && r.Request != nil; r = r.Request.Response {
		hops++
		if hops > t.maxRedirects {
			return fmt.Errorf("follow redirect to %s after %d redirects: %w", req.URL.Host, hops-1, ErrTooManyRedirects)
		}
	}
	return nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// redirectPolicyKey is the context key of WithRedirectPolicy.
type redirectPolicyKey struct{}

// RedirectPolicy decides whether a request that started at from may follow
// a redirect to to. A non-nil error refuses the hop (and is returned).
type RedirectPolicy func(from, to *url.URL) error

// WithRedirectPolicy sets a redirect policy for requests made with ctx, in
// addition to the client's own rules: the crawler uses it to keep API calls
// on their site. The policy is checked before the new hop is dialled.
func WithRedirectPolicy(ctx context.Context, p RedirectPolicy) context.Context {
	return context.WithValue(ctx, redirectPolicyKey{}, p)
}

// checkRedirectPolicy applies the request's RedirectPolicy to a redirect
// hop, comparing it with the first request of the chain.
func checkRedirectPolicy(req *http.Request) error {
	p, ok := req.Context().Value(redirectPolicyKey{}).(RedirectPolicy)
	if !ok || p == nil || req.Response == nil {
		return nil
	}
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	return p(first.URL, req.URL)
}

// maxBodyKey is the context key of WithMaxBody.
type maxBodyKey struct{}

// WithMaxBody returns a context whose requests cap their response body at
// n bytes (after decompression) instead of Options.MaxBodyBytes: a robots.txt
// needs 512 KiB, a NodeInfo document far less, an outbox page more. n <= 0
// leaves the client's default.
func WithMaxBody(ctx context.Context, n int64) context.Context {
	if n <= 0 {
		return ctx
	}
	return context.WithValue(ctx, maxBodyKey{}, n)
}
