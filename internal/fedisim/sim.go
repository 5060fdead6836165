package fedisim

import (
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DefaultNow is the simulated present when Options.Now is zero.
var DefaultNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Defaults for Options.
const (
	// DefaultInstances is used when Options.Instances is zero.
	DefaultInstances = 500
	// DefaultRequestLogSize is how many requests the log keeps by default.
	DefaultRequestLogSize = 1_000_000
	// minInstances is the smallest world: the three seeds.
	minInstances = 3
)

// Options configures a simulation.
type Options struct {
	// Seed makes the world: the same Seed and Instances give byte-identical
	// documents and truth.
	Seed int64
	// Instances is the number of virtual instances, seeds included
	// (0 = DefaultInstances; fewer than 3 means 3). 20,000 build in well
	// under a second.
	Instances int
	// Now is the simulated present; post dates and activity weeks derive
	// from it. Zero means DefaultNow (2026-11-01T00:00:00Z).
	Now time.Time
	// NoHostile turns off every hostile and broken behaviour, so all
	// instances behave. The zero value is the realistic mix. Peer lists
	// (with their junk, dead hosts and trap entries) are the same either way.
	NoHostile bool
	// RequestLogSize bounds the request log: the last RequestLogSize
	// requests are kept (0 = DefaultRequestLogSize, negative = no log).
	RequestLogSize int
	// Logger receives debug lines per request and listener errors;
	// nil discards them.
	Logger *slog.Logger
	// PostScale multiplies the posts of every account and each instance's
	// post caps (0 or 1: the original world). Options{Instances: 3000,
	// PostScale: 8} has about 250,000 posts; the accounts and consent
	// verdicts differ from the unscaled world's, as the draws interleave.
	PostScale int
	// PlantRelevance adds the accounts and posts of RelevanceCases to a
	// few stored Mastodon instances (relevance.go). Off by default, so
	// the default world is unchanged.
	PlantRelevance bool
	// OptInWord is an operator's opt-in word (see fedilens's --opt-in-word)
	// that about half the accounts of programs without an indexable flag
	// write in their bio. The truth assumes the crawler runs with the same
	// word: an account of such a program consents iff its bio carries it
	// (and nothing opts it out). "" (the default) leaves the world as it
	// was: those accounts never consent.
	OptInWord string
	// HistoryDays gives the world a day dimension (history.go): days 0 to
	// HistoryDays-1, the last one being Now's date, with growth, churn,
	// upgrades, new peers and new domain blocks. 0 (the default) is the
	// world without a history, exactly as before.
	HistoryDays int
	// RemoteReplies makes a share of the replies answer posts of other
	// instances (remote_replies.go): a third of the posts of the Mastodon
	// API family that mention a remote account answer a post of that
	// account, and a tenth of the WordPress and Misskey-family posts
	// answer a post of a random instance. Off by default, so the default
	// world is unchanged.
	RemoteReplies bool
}

// Sim is a simulated fediverse: thousands of virtual instances of many
// server programs behind one handler that routes by Host header and SNI.
// It is safe for concurrent use.
type Sim struct {
	opts   Options
	log    *slog.Logger
	world  *world
	seeds  []string
	reqLog *requestLog

	// Rate-limit memory: host + path group already answered 429.
	rlMu   sync.Mutex
	rlSeen map[string]struct{}

	// skipDelays turns the "slow" delay off; only tests that do not look
	// at timing set it, to keep the suite fast.
	skipDelays bool

	// truths caches the truth of each epoch built so far (epoch.go).
	truthMu sync.Mutex
	truths  []*Truth
	// dayTruths caches TruthAt per epoch and day (history.go).
	dayMu     sync.Mutex
	dayTruths map[[2]int]*Truth

	caCert  *x509.Certificate
	caDER   []byte
	caKey   *ecdsa.PrivateKey
	leafKey *ecdsa.PrivateKey
	certMu  sync.Mutex
	certs   map[string]*leafCert
}

// New builds the world described by opts. It panics only if the system
// cannot produce random numbers for the CA key, which the Go runtime
// already treats as fatal.
func New(opts Options) *Sim {
	if opts.Instances == 0 {
		opts.Instances = DefaultInstances
	}
	opts.Instances = max(opts.Instances, minInstances)
	if opts.Now.IsZero() {
		opts.Now = DefaultNow
	}
	opts.Now = opts.Now.UTC()
	if opts.RequestLogSize == 0 {
		opts.RequestLogSize = DefaultRequestLogSize
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		opts:   opts,
		log:    log,
		world:  buildWorld(opts.Seed, opts.Instances, opts.Now, opts.NoHostile),
		seeds:  []string{SeedA, SeedB, SeedC},
		reqLog: newRequestLog(opts.RequestLogSize),
		rlSeen: map[string]struct{}{},
		certs:  map[string]*leafCert{},
	}
	s.world.postScale, s.world.plant = max(1, opts.PostScale), opts.PlantRelevance
	s.world.optInWord = opts.OptInWord
	s.world.remoteReplies = opts.RemoteReplies
	s.world.drawAccess()
	s.world.pickPlantHosts()
	if opts.HistoryDays > 0 {
		s.world.hist = s.world.buildHistory(opts.HistoryDays)
		s.world.day.Store(int64(opts.HistoryDays - 1))
	}
	if err := s.initCA(); err != nil {
		panic(fmt.Sprintf("fedisim: create CA: %v", err))
	}
	return s
}

// Seeds returns the seed hosts a crawl starts from.
func (s *Sim) Seeds() []string { return append([]string(nil), s.seeds...) }

// Now returns the simulated present.
func (s *Sim) Now() time.Time { return s.opts.Now }

// Hosts returns every instance host in generation order (seeds first).
func (s *Sim) Hosts() []string {
	out := make([]string, len(s.world.instances))
	for i, in := range s.world.instances {
		out[i] = in.host
	}
	return out
}

// Truth returns the ground truth of the current epoch, built on first use
// (for 20,000 instances that generates every account and post, so call it
// only when needed). The same value is returned for one epoch; do not
// modify it. The truths of the earlier epochs are built too: Posts needs
// the authors a crawler learnt at each of them.
func (s *Sim) Truth() *Truth {
	if s.world.hist != nil {
		t, _ := s.TruthAt(s.Day()) // Day is always in range
		return t
	}
	return s.truthAt(s.Epoch())
}

// truthAt returns the truth of epoch e, building it and every earlier
// one on first use.
func (s *Sim) truthAt(e int) *Truth {
	s.truthMu.Lock()
	defer s.truthMu.Unlock()
	for len(s.truths) <= e {
		var prev *Truth
		if n := len(s.truths); n > 0 {
			prev = s.truths[n-1]
		}
		s.truths = append(s.truths, s.buildTruth(len(s.truths), prev))
	}
	return s.truths[e]
}

// ResetState forgets which path groups of rate-limited instances were
// already answered 429, so the next requests are limited again.
func (s *Sim) ResetState() {
	s.rlMu.Lock()
	s.rlSeen = map[string]struct{}{}
	s.rlMu.Unlock()
}

// WriteCA writes the CA certificate in PEM form to path (mode 0644), so a
// separate process (the crawler under "fedilens sim") can trust the sim.
func (s *Sim) WriteCA(path string) error {
	if err := os.WriteFile(path, s.CACertPEM(), 0o644); err != nil {
		return fmt.Errorf("write sim CA certificate: %w", err)
	}
	return nil
}

// Request is one request as the simulation saw it.
type Request struct {
	// Host is the Host header, port stripped and lower-cased.
	Host   string
	Method string
	Path   string
	// RawQuery is the query without '?'.
	RawQuery  string
	UserAgent string
	// RemoteAddr is the client's address, LocalAddr the listener address
	// the connection arrived on (which tells 127.0.0.1 from 127.0.0.2).
	RemoteAddr string
	LocalAddr  string
	Start, End time.Time
	// Status is the HTTP status, 0 when the connection was closed without
	// an answer. Refused TLS handshakes ("down" hosts) are logged with
	// Method "TLS" and Status 0.
	Status int
}

// Requests returns the request log in arrival order (the last
// RequestLogSize requests).
func (s *Sim) Requests() []Request { return s.reqLog.snapshot() }

// ResetRequests empties the request log.
func (s *Sim) ResetRequests() { s.reqLog.reset() }

// requestLog is a bounded ring of requests.
type requestLog struct {
	mu   sync.Mutex
	max  int
	buf  []Request
	next int
	full bool
}

func newRequestLog(n int) *requestLog { return &requestLog{max: n} }

func (l *requestLog) add(r Request) {
	if l.max <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full && len(l.buf) < l.max {
		l.buf = append(l.buf, r)
		if len(l.buf) == l.max {
			l.full, l.next = true, 0
		}
		return
	}
	l.buf[l.next] = r
	l.next = (l.next + 1) % l.max
}

func (l *requestLog) snapshot() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]Request(nil), l.buf...)
	}
	out := make([]Request, 0, len(l.buf))
	out = append(out, l.buf[l.next:]...)
	return append(out, l.buf[:l.next]...)
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.buf, l.next, l.full = nil, 0, false
	l.mu.Unlock()
}
