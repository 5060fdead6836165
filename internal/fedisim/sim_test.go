package fedisim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDeterminism(t *testing.T) {
	a, b := New(testOpts), New(testOpts)
	a.skipDelays, b.skipDelays = true, true
	require.Equal(t, a.Truth(), b.Truth())
	require.Equal(t, a.Hosts(), b.Hosts())

	var urls []string
	for _, it := range a.Truth().Instances[:60] {
		urls = append(urls, "https://"+it.Host+"/robots.txt", "https://"+it.Host+"/.well-known/nodeinfo")
		if it.NodeInfoPath != "" {
			urls = append(urls, "https://"+it.Host+it.NodeInfoPath)
		}
		if it.PeersPath != "" && !strings.HasPrefix(it.PeersPath, "/api/federation") {
			urls = append(urls, "https://"+it.Host+it.PeersPath)
		}
		urls = append(urls, "https://"+it.Host+"/api/v1/timelines/public?local=true", "https://"+it.Host+"/api/v1/instance")
		for _, acc := range it.Accounts {
			urls = append(urls, acc.URI, "https://"+it.Host+"/.well-known/webfinger?resource=acct:"+acc.Acct)
		}
	}
	for _, u := range urls {
		ra := do(t, a, http.MethodGet, u, "application/activity+json", "")
		rb := do(t, b, http.MethodGet, u, "application/activity+json", "")
		require.Equal(t, ra.status, rb.status, u)
		require.Equal(t, string(ra.body), string(rb.body), u)
	}
	ra := do(t, a, http.MethodPost, "https://"+SeedB+"/api/federation/instances", "", `{"limit":100,"offset":0}`)
	rb := do(t, b, http.MethodPost, "https://"+SeedB+"/api/federation/instances", "", `{"limit":100,"offset":0}`)
	require.Equal(t, string(ra.body), string(rb.body))

	// A different seed is a different world; NoHostile keeps the world and
	// drops the behaviours.
	c := New(Options{Seed: testOpts.Seed + 1, Instances: testOpts.Instances})
	require.NotEqual(t, a.Hosts(), c.Hosts())
	nice := New(Options{Seed: testOpts.Seed, Instances: testOpts.Instances, NoHostile: true})
	require.Equal(t, a.Hosts(), nice.Hosts())
	for i, it := range nice.Truth().Instances {
		require.Empty(t, it.Behaviours, it.Host)
		require.Equal(t, a.Truth().Instances[i].Peers == nil && !a.Truth().Instances[i].Has(BehaviourPeersDisabled), it.Peers == nil, it.Host)
	}
}

func TestOptionsDefaults(t *testing.T) {
	s := New(Options{Instances: 1})
	require.Len(t, s.Hosts(), minInstances)
	require.Equal(t, DefaultNow, s.Now())
	require.Equal(t, []string{SeedA, SeedB, SeedC}, s.Seeds())
	require.Len(t, New(Options{}).Hosts(), DefaultInstances)
}

func TestSize(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	s := New(Options{Seed: 7, Instances: 20000})
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.Len(t, s.Hosts(), 20000)
	require.Less(t, took, 2*time.Second, "building 20,000 instances took %s", took)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	require.Less(t, grown, int64(200<<20), "heap grew by %d bytes", grown)

	seen := map[string]bool{}
	for _, h := range s.Hosts() {
		require.False(t, seen[h], "duplicate host %s", h)
		seen[h] = true
		require.True(t, ValidHostName(h), h)
		require.True(t, strings.HasSuffix(h, ".example") || strings.HasSuffix(h, ".test"), h)
	}
	// The world is served lazily: one request works on the big world too.
	r := get(t, s, "https://"+s.Hosts()[12345]+"/.well-known/nodeinfo")
	require.Contains(t, []int{http.StatusOK, http.StatusNotFound, http.StatusFound, http.StatusServiceUnavailable, 0}, r.status)
}

func TestRoutingByHost(t *testing.T) {
	s := sharedSim(t)
	for _, host := range []string{SeedA, SeedA + ":443", "A.SIM.Example", SeedA + ".", SeedA + ":8443"} {
		t.Run(host, func(t *testing.T) {
			r := get(t, s, "https://"+host+"/.well-known/nodeinfo")
			require.Equal(t, http.StatusOK, r.status)
			require.Contains(t, string(r.body), "https://"+SeedA+"/nodeinfo/2.0")
		})
	}
	// Different hosts, different answers.
	b := get(t, s, "https://"+SeedB+"/.well-known/nodeinfo")
	require.Contains(t, string(b.body), "https://"+SeedB+"/nodeinfo/2.1")
}

func TestTLS(t *testing.T) {
	s := New(testOpts)
	srv, client := startTLS(t, s, true)
	tr := s.Truth()

	resp, err := client.Get("https://" + SeedA + "/.well-known/nodeinfo")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, SeedA, resp.TLS.PeerCertificates[0].DNSNames[0])

	// Plain HTTP serves the same documents.
	resp, err = client.Get("http://" + SeedA + "/.well-known/nodeinfo")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, resp.Body.Close())

	// Unknown names get a certificate, then the connection is closed.
	_, err = client.Get("https://nobody.example/.well-known/nodeinfo")
	require.Error(t, err)
	_, err = client.Get("https://" + tr.DeadHosts[0] + "/robots.txt")
	require.Error(t, err)

	// Down hosts refuse the handshake.
	down := instanceWith(t, tr, func(it InstanceTruth) bool { return it.Has(BehaviourDown) })
	_, err = client.Get("https://" + down.Host + "/robots.txt")
	require.Error(t, err)

	// A client that does not trust the CA fails.
	var d net.Dialer
	plain := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, srv.HTTPSAddr)
	}}, Timeout: 5 * time.Second}
	_, err = plain.Get("https://" + SeedA + "/robots.txt")
	var cve *tls.CertificateVerificationError
	require.ErrorAs(t, err, &cve)

	// The log knows which requests arrived, with statuses.
	var sawDownTLS, sawUnknown bool
	for _, r := range s.Requests() {
		if r.Host == down.Host && r.Method == "TLS" {
			sawDownTLS = true
		}
		if r.Host == "nobody.example" && r.Status == 0 {
			sawUnknown = true
		}
	}
	require.True(t, sawDownTLS)
	require.True(t, sawUnknown)
}

func TestTLSConfigCertificates(t *testing.T) {
	s := sharedSim(t)
	cfg := s.TLSConfig()
	c1, err := cfg.GetCertificate(hello("Social.Example"))
	require.NoError(t, err)
	c2, err := cfg.GetCertificate(hello("social.example"))
	require.NoError(t, err)
	require.Same(t, c1, c2, "leaves are cached per name")
	require.Equal(t, []string{"social.example"}, c1.Leaf.DNSNames)
	_, err = c1.Leaf.Verify(x509.VerifyOptions{DNSName: "social.example", Roots: s.CertPool()})
	require.NoError(t, err)
	_, err = cfg.GetCertificate(hello("bad name!"))
	require.Error(t, err)
	path := t.TempDir() + "/ca.pem"
	require.NoError(t, s.WriteCA(path))
}

func TestTrapListenerAndRequestLog(t *testing.T) {
	s := New(Options{Seed: 3, Instances: 50, RequestLogSize: 5})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	trap, err := s.Listen(ctx, TrapIP+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", TrapIP, err)
	}
	defer func() { require.NoError(t, trap.Close()) }()
	client := clientFor(t, s, trap.HTTPSAddr, "")
	s.ResetRequests()
	resp, err := client.Get("https://" + SeedA + "/robots.txt")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	reqs := s.Requests()
	require.Len(t, reqs, 1)
	require.True(t, strings.HasPrefix(reqs[0].LocalAddr, TrapIP+":"), reqs[0].LocalAddr)
	require.Equal(t, "/robots.txt", reqs[0].Path)
	require.Equal(t, http.StatusOK, reqs[0].Status)
	require.Equal(t, SeedA, reqs[0].Host)
	require.False(t, reqs[0].End.Before(reqs[0].Start))

	// The log keeps the last RequestLogSize entries in arrival order.
	for i := 0; i < 8; i++ {
		get(t, s, "https://"+SeedA+"/x"+string(rune('a'+i)))
	}
	reqs = s.Requests()
	require.Len(t, reqs, 5)
	for i, r := range reqs {
		require.Equal(t, "/x"+string(rune('a'+3+i)), r.Path)
	}
	s.ResetRequests()
	require.Empty(t, s.Requests())

	// Cancelling the context stops the listener.
	cancel()
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", trap.HTTPSAddr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	}, 2*time.Second, 10*time.Millisecond)
}

func TestNoRequestLog(t *testing.T) {
	s := New(Options{Seed: 3, Instances: 10, RequestLogSize: -1})
	get(t, s, "https://"+SeedA+"/robots.txt")
	require.Empty(t, s.Requests())
}

// TestConcurrentUse serves many instances from several goroutines while the
// truth is being built; run with -race.
func TestConcurrentUse(t *testing.T) {
	s := New(Options{Seed: 5, Instances: 200})
	s.skipDelays = true
	hosts := s.Hosts()
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func(g int) {
			defer func() { done <- struct{}{} }()
			for i := g; i < len(hosts); i += 4 {
				for _, p := range []string{"/.well-known/nodeinfo", "/api/v1/timelines/public?local=true", "/users/alice", "/robots.txt"} {
					req := httpRequest(t, "https://"+hosts[i]+p, apAccept, nil)
					func() {
						defer func() { _ = recover() }() // dropped connections abort the handler
						s.Handler().ServeHTTP(httptestRecorder(), req)
					}()
				}
			}
		}(g)
	}
	tr := s.Truth()
	for g := 0; g < 4; g++ {
		<-done
	}
	require.Equal(t, tr, s.Truth())
	require.Equal(t, tr, New(Options{Seed: 5, Instances: 200}).Truth())
	require.NotEmpty(t, s.Requests())
}
