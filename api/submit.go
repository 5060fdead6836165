package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/fedilens/fedilens/internal/model"
)

// Defaults of the submission rate limit.
const (
	defaultSubmitPerHour = 5
	defaultSubmitBurst   = 5
	defaultMaxClients    = 100_000
)

func newControls(a *API, opts ControlsOptions) *controls {
	if opts.SubmitPerHour <= 0 {
		opts.SubmitPerHour = defaultSubmitPerHour
	}
	if opts.SubmitBurst <= 0 {
		opts.SubmitBurst = defaultSubmitBurst
	}
	if opts.MaxClients <= 0 {
		opts.MaxClients = defaultMaxClients
	}
	key := opts.ClientHashKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	}
	c := &controls{
		a:         a,
		opts:      opts,
		tokenHash: sha256.Sum256([]byte(opts.AdminToken)),
		hashKey:   key,
	}
	c.limiter = newLimiter(opts.SubmitPerHour/3600, float64(opts.SubmitBurst), opts.MaxClients, c.now)
	return c
}

type submittedJSON struct {
	Host   string `json:"host"`
	Status string `json:"status"`
}

// submit is POST /api/v1/instances: somebody asks fedilens to crawl a
// host. Every attempt, valid or not, takes a token from the client's
// bucket first, so the endpoint cannot be used to probe the policy or to
// fill the store quickly. The answer is the same whether or not the host
// is already known: the submission is a hint, and the crawler decides.
func (c *controls) submit(w http.ResponseWriter, r *http.Request) (int, any, error) {
	client := clientKey(r)
	if ok, wait := c.limiter.allow(client); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		return 0, nil, &apiError{status: http.StatusTooManyRequests, code: codeRateLimited,
			message: fmt.Sprintf("too many submissions from your address; retry in %d seconds", max(secs, 1))}
	}
	f, err := readFields(r, "host")
	if err != nil {
		return 0, nil, err
	}
	host, err := validateHost(f["host"])
	if err != nil {
		return 0, nil, err
	}
	if c.opts.Policy != nil {
		if ok, reason := c.opts.Policy.Allowed(host); !ok {
			return 0, nil, &apiError{status: http.StatusForbidden, code: codeForbidden,
				message: fmt.Sprintf("fedilens will not crawl %s: %s", host, reason)}
		}
	}
	sub := model.Submission{Host: host, SubmittedAt: c.now(), ClientHash: c.hashClient(client)}
	if err := c.opts.Submissions.AddSubmission(r.Context(), sub); err != nil {
		return 0, nil, fmt.Errorf("store submission: %w", err)
	}
	c.a.log.Info("host submitted", "host", host, "client_hash", sub.ClientHash)
	return http.StatusAccepted, submittedJSON{Host: host, Status: "queued"}, nil
}

// hashClient is the keyed hash stored instead of the client's address:
// without the key, the 2^32 IPv4 addresses cannot be tried one by one.
func (c *controls) hashClient(client string) string {
	m := hmac.New(sha256.New, c.hashKey)
	m.Write([]byte(client))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// clientAddr is the address of the connection's peer. fedilens does not
// read X-Forwarded-For: behind a reverse proxy every client shares the
// proxy's bucket, which errs on the side of fewer submissions, whereas
// trusting the header would let anybody pick a fresh address per request.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientKey is the rate limiter's key for the client: its IPv4 address,
// or the /64 of its IPv6 address, since one IPv6 client usually holds a
// whole /64.
func clientKey(r *http.Request) string {
	a, err := netip.ParseAddr(clientAddr(r))
	if err != nil {
		return clientAddr(r)
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// limiter is a token bucket per client with bounded memory. A client
// absent from the map has a full bucket, so forgetting a client whose
// bucket has refilled changes nothing; when the map is full of clients
// that have not refilled, new clients are refused until some refill (the
// endpoint degrades, the process does not grow).
type limiter struct {
	rate  float64 // tokens per second
	burst float64
	max   int
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// sweepEvery bounds how often a full map is swept, so a flood of new
// addresses costs one sweep per period, not one per request.
const sweepEvery = 10 * time.Second

func newLimiter(rate, burst float64, maxClients int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: burst, max: maxClients, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket, or says how long until one is
// available.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.sweepLocked(now)
		}
		if len(l.buckets) >= l.max {
			return false, sweepEvery
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

func (l *limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(l.burst, b.tokens+el*l.rate)
	}
	b.last = now
}

// sweepLocked forgets the clients whose bucket is full again, at most
// once per sweepEvery.
func (l *limiter) sweepLocked(now time.Time) {
	if !l.lastSweep.IsZero() && now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// clients is the number of tracked clients (tests).
func (l *limiter) clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
