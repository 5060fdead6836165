package benchenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/fedilens/fedilens/internal/fedisim"
)

// SimEnv is a simulated fediverse served by this process, with the flags
// that point a crawler at it.
type SimEnv struct {
	Sim    *fedisim.Sim
	Server *SimServer
	// CrawlArgs are the seeds, --resolve, --allow-net and --ca-file flags
	// of a fedilens crawl of this simulator, as the end-to-end test sets
	// them.
	CrawlArgs []string
}

// StartSim builds the simulation of opts and serves it; dir receives its
// CA certificate. Every certificate a crawl will ask for is issued before
// it returns, so that no measured crawl (the first above all) pays for
// issuing them, and the request log is emptied.
func StartSim(ctx context.Context, opts fedisim.Options, dir string) (*SimEnv, error) {
	sim := fedisim.New(opts)
	truth := sim.Truth()
	hosts := append(sim.Hosts(), truth.DeadHosts...)
	PrewarmCerts(sim, append(hosts, truth.FarmHosts...))
	sim.ResetRequests()

	srv, err := ServeSim(ctx, sim)
	if err != nil {
		return nil, err
	}
	env := &SimEnv{Sim: sim, Server: srv}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	ca := filepath.Join(dir, "sim-ca.pem")
	if err := sim.WriteCA(ca); err != nil {
		_ = srv.Close()
		return nil, err
	}
	for _, s := range sim.Seeds() {
		env.CrawlArgs = append(env.CrawlArgs, "--seed", "https://"+s)
	}
	env.CrawlArgs = append(env.CrawlArgs,
		"--resolve", "*="+srv.Addr,
		// As in the end-to-end test: the trap host (named in peer lists)
		// resolves to an address --allow-net does not include.
		"--resolve", fedisim.TrapHost+"="+fedisim.TrapIP,
		"--allow-net", "127.0.0.1/32",
		"--ca-file", ca,
	)
	return env, nil
}

// Close stops serving the simulation.
func (e *SimEnv) Close() { _ = e.Server.Close() }

// PrewarmCerts asks the simulator's TLS configuration for every host's
// certificate, on every core.
func PrewarmCerts(sim *fedisim.Sim, hosts []string) {
	tc := sim.TLSConfig()
	var wg sync.WaitGroup
	workers := max(1, runtime.GOMAXPROCS(0))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(hosts); i += workers {
				// Down hosts refuse on purpose; the rest are cached.
				_, _ = tc.GetCertificate(&tls.ClientHelloInfo{ServerName: hosts[i]})
			}
		}()
	}
	wg.Wait()
}
