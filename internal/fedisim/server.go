package fedisim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ErrHostDown is returned to the TLS stack for hosts with the "down"
// behaviour, which makes the handshake fail.
var ErrHostDown = errors.New("fedisim: host is down")

// maxCachedCerts bounds the leaf cache; hostile or random SNI names beyond
// it still get a certificate, just not a cached one.
const maxCachedCerts = 200_000

type leafCert struct{ cert *tls.Certificate }

// initCA creates the simulation's certificate authority and the key all
// leaf certificates share (one key keeps issuing cheap).
func (s *Sim) initCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fedisim test CA", Organization: []string{"fedilens simulation"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("self-sign CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("parse CA certificate: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate leaf key: %w", err)
	}
	s.caKey, s.caDER, s.caCert, s.leafKey = key, der, cert, leafKey
	return nil
}

// CACertPEM returns the CA certificate in PEM form. Clients that trust it
// accept every certificate the simulation serves.
func (s *Sim) CACertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.caDER})
}

// CertPool returns a pool holding only the simulation's CA.
func (s *Sim) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.caCert)
	return p
}

// TLSConfig returns a server configuration whose GetCertificate issues (and
// caches) a leaf per SNI name, signed by the CA. Unknown names get a
// certificate too (the handler then closes the connection); hosts that are
// "down" fail the handshake; a handshake without SNI gets a certificate for
// the local IP address.
func (s *Sim) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: s.getCertificate,
	}
}

func (s *Sim) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	if name == "" && hello.Conn != nil {
		if ta, ok := hello.Conn.LocalAddr().(*net.TCPAddr); ok {
			name = ta.IP.String()
		}
	}
	if in := s.world.byHost[name]; in != nil && in.has(bDown) {
		r := Request{Host: name, Method: "TLS", Start: time.Now()}
		if hello.Conn != nil {
			r.RemoteAddr, r.LocalAddr = hello.Conn.RemoteAddr().String(), hello.Conn.LocalAddr().String()
		}
		r.End = r.Start
		s.reqLog.add(r)
		return nil, ErrHostDown
	}
	if name == "" || len(name) > 253 || strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == ':' || r == '_')
	}) {
		return nil, fmt.Errorf("fedisim: refuse certificate for server name %q", name)
	}
	s.certMu.Lock()
	lc := s.certs[name]
	s.certMu.Unlock()
	if lc != nil {
		return lc.cert, nil
	}
	cert, err := s.issue(name)
	if err != nil {
		return nil, err
	}
	s.certMu.Lock()
	if len(s.certs) < maxCachedCerts {
		s.certs[name] = &leafCert{cert: cert}
	}
	s.certMu.Unlock()
	return cert, nil
}

// issue signs a leaf certificate for name (a DNS name or an IP address).
func (s *Sim) issue(name string) (*tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("draw certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(90 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.caCert, &s.leafKey.PublicKey, s.caKey)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %s: %w", name, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate for %s: %w", name, err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, s.caDER}, PrivateKey: s.leafKey, Leaf: leaf}, nil
}

// Server is a running set of listeners serving the simulation.
type Server struct {
	// HTTPSAddr and HTTPAddr are the actual host:port of the listeners
	// ("" when not started).
	HTTPSAddr, HTTPAddr string

	servers   []*http.Server
	wg        sync.WaitGroup
	stopAfter func() bool
	closeOnce sync.Once
	closeErr  error
}

// Start serves the simulation over HTTPS on httpsAddr and, unless httpAddr
// is empty, over plain HTTP on httpAddr ("127.0.0.1:0" picks a free port).
// The listeners stop when ctx is cancelled or Close is called.
func (s *Sim) Start(ctx context.Context, httpsAddr, httpAddr string) (*Server, error) {
	srv := &Server{}
	if err := s.serveOn(ctx, srv, httpsAddr, true); err != nil {
		return nil, err
	}
	if httpAddr != "" {
		if err := s.serveOn(ctx, srv, httpAddr, false); err != nil {
			_ = srv.Close()
			return nil, err
		}
	}
	srv.stopAfter = context.AfterFunc(ctx, func() { _ = srv.Close() })
	return srv, nil
}

// Listen serves the simulation over HTTPS on one more address, such as the
// trap address 127.0.0.2:PORT, so a test can prove nobody connected there:
// every request that arrives is in the request log with its LocalAddr.
func (s *Sim) Listen(ctx context.Context, addr string) (*Server, error) {
	return s.Start(ctx, addr, "")
}

func (s *Sim) serveOn(ctx context.Context, srv *Server, addr string, useTLS bool) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          log.New(slogWriter{s.log}, "", 0),
	}
	if useTLS {
		hs.TLSConfig = s.TLSConfig()
		srv.HTTPSAddr = ln.Addr().String()
	} else {
		srv.HTTPAddr = ln.Addr().String()
	}
	srv.servers = append(srv.servers, hs)
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		var err error
		if useTLS {
			err = hs.ServeTLS(ln, "", "")
		} else {
			err = hs.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sim listener stopped", "addr", addr, "err", err)
		}
	}()
	return nil
}

// Close stops the listeners, closes open connections and waits for the
// serving goroutines to return.
func (srv *Server) Close() error {
	srv.closeOnce.Do(func() {
		if srv.stopAfter != nil {
			srv.stopAfter()
		}
		var errs []error
		for _, hs := range srv.servers {
			if err := hs.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close sim listener: %w", err))
			}
		}
		srv.wg.Wait()
		srv.closeErr = errors.Join(errs...)
	})
	return srv.closeErr
}

// slogWriter routes net/http's server log (TLS handshake errors and the
// like, which hostile behaviours provoke on purpose) to debug level.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug("sim http server", "msg", strings.TrimSpace(string(p)))
	return len(p), nil
}
