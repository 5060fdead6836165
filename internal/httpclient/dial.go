package httpclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// minAttemptTimeout is the least time one address of a host gets when the
// dial timeout is shared among several addresses.
const minAttemptTimeout = 2 * time.Second

// dialer resolves host names itself, applies --resolve overrides, checks
// every address against the guard and only then connects to the checked
// address, so a DNS answer cannot change between check and use.
type dialer struct {
	net       *net.Dialer
	timeout   time.Duration
	resolver  Resolver
	allow     []netip.Prefix
	overrides *overrides
	log       *slog.Logger
	conns     *connTracker
}

// DialContext is the transport's dial function.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()

	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port: %w", addr, err)
	}

	addrs, err := d.resolve(ctx, network, host, uint16(port))
	if err != nil {
		return nil, err
	}
	for _, ap := range addrs {
		if IsForbidden(ap.Addr(), d.allow) {
			d.log.Debug("refused dial", "host", host, "addr", ap.Addr())
			return nil, fmt.Errorf("dial %s: address %s: %w", host, ap.Addr(), ErrForbiddenAddress)
		}
	}
	c, err := d.dialAddrs(ctx, network, host, addrs)
	if err != nil {
		return nil, err
	}
	return d.conns.track(host, c), nil
}

// resolve returns the addresses to dial for host:port. IP literals are
// dialled as they are; names go through the overrides, then the resolver.
func (d *dialer) resolve(ctx context.Context, network, host string, port uint16) ([]netip.AddrPort, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.AddrPort{netip.AddrPortFrom(ip.Unmap(), port)}, nil
	}
	name := canonicalName(host)
	if t, ok := d.overrides.lookup(name, port); ok {
		if t.port != 0 {
			port = t.port
		}
		return []netip.AddrPort{netip.AddrPortFrom(t.addr, port)}, nil
	}

	lookupNet := "ip"
	switch network {
	case "tcp4":
		lookupNet = "ip4"
	case "tcp6":
		lookupNet = "ip6"
	}
	ips, err := d.resolver.LookupNetIP(ctx, lookupNet, name)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", name, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", name)
	}
	out := make([]netip.AddrPort, len(ips))
	for i, ip := range ips {
		out[i] = netip.AddrPortFrom(ip.Unmap(), port)
	}
	return out, nil
}

// dialAddrs tries the addresses in order, sharing the remaining time among
// them the way net.Dialer does, so one black-holed address cannot use up
// the whole dial timeout.
func (d *dialer) dialAddrs(ctx context.Context, network, host string, addrs []netip.AddrPort) (net.Conn, error) {
	var errs []error
	for i, ap := range addrs {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			share := time.Until(dl) / time.Duration(len(addrs)-i)
			if share < minAttemptTimeout {
				share = minAttemptTimeout
			}
			actx, cancel = context.WithTimeout(ctx, share)
		}
		conn, err := d.net.DialContext(actx, network, ap.String())
		cancel()
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("dial %s: %w", host, errors.Join(errs...))
}

// control runs just before each socket connects and checks the address the
// kernel is asked to reach.
func (d *dialer) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("check dial address %s: %w", address, err)
	}
	if IsForbidden(ap.Addr(), d.allow) {
		return fmt.Errorf("check dial address %s: %w", ap.Addr(), ErrForbiddenAddress)
	}
	return nil
}
