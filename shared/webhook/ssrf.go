package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// ErrURL is a webhook URL that may not be called.
var ErrURL = errors.New("webhook url refused")

// Resolver resolves a host to its addresses (net.DefaultResolver).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Target is a checked URL: where to connect (only there).
type Target struct {
	URL   *url.URL
	Host  string
	Port  string
	Addrs []netip.Addr
}

// blocked are the networks no delivery may reach beyond what netip
// classifies (loopback, private incl. unique-local fc00::/7, link-local incl.
// the metadata address 169.254.169.254, multicast, unspecified).
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),     // carrier-grade NAT (shared address space)
	netip.MustParsePrefix("192.0.0.0/24"),      // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),     // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),       // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),      // NAT64: may embed any IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),    // local-use NAT64
	netip.MustParsePrefix("2002::/16"),         // 6to4: may embed any IPv4
	netip.MustParsePrefix("fd00:ec2::254/128"), // EC2 metadata over IPv6 (also unique-local)
}

// Public reports whether a is an address a delivery may connect to.
func Public(a netip.Addr) bool {
	a = a.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	if a.Is4In6() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// Check parses raw and resolves its host: https only, no credentials, and
// every address public. Under stage "local", http://127.0.0.1:<port> and
// http://localhost[:port] are allowed as well (make run's receivers).
func Check(ctx context.Context, raw string, local bool, res Resolver) (*Target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%w: not an absolute URL", ErrURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: credentials in the URL", ErrURL)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	loopbackOK := local && u.Scheme == "http" && (host == "127.0.0.1" || host == "localhost")
	switch {
	case loopbackOK:
		if port == "" {
			port = "80"
		}
	case u.Scheme != "https":
		return nil, fmt.Errorf("%w: must be https", ErrURL)
	case port == "":
		port = "443"
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else if loopbackOK {
		addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	} else {
		if addrs, err = res.LookupNetIP(ctx, "ip", host); err != nil || len(addrs) == 0 {
			return nil, fmt.Errorf("%w: host %s does not resolve", ErrURL, host)
		}
	}
	for _, a := range addrs {
		if loopbackOK && a.Unmap().IsLoopback() {
			continue
		}
		if !Public(a) {
			return nil, fmt.Errorf("%w: %s resolves to a non-public address", ErrURL, host)
		}
	}
	return &Target{URL: u, Host: host, Port: port, Addrs: addrs}, nil
}

// DialContext connects only to the addresses Check approved for the
// request's host (resolved again at delivery, so no DNS rebinding).
func (t *Target) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var last error
		for _, a := range t.Addrs {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), t.Port))
			if err == nil {
				return c, nil
			}
			last = err
		}
		return nil, last
	}
}
