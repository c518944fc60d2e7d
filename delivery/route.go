package delivery

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"golang.org/x/net/idna"

	"github.com/bouncekit/bouncekit/bounce"
)

// Resolver looks up the DNS records routing needs; *net.Resolver
// implements it. Errors should be *net.DNSError, so that "not found"
// (NXDOMAIN, or no records of the type) can be told from a failed lookup
// (SERVFAIL, timeout): the first is permanent, the second temporary.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// host is one place to deliver to: an MX host, the implicit MX, or the
// smarthost.
type host struct {
	name     string // Host name, without trailing dot.
	port     string
	implicit bool // The domain itself, for lack of MX records (RFC 5321 section 5.1).
}

// route returns the hosts to try for domain, in order.
func (c *Client) route(ctx context.Context, domain string) ([]host, error) {
	if c.Smarthost != nil {
		return []host{{name: c.Smarthost.Host, port: c.Smarthost.port()}}, nil
	}
	// The A-label form: DNS has no U-labels (RFC 5890).
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil || ascii == "" {
		return nil, &bounce.SMTPError{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 1, 2}, Stage: bounce.StageDNS, Line: "bad recipient domain " + domain, Err: err}
	}
	mxs, err := c.resolver().LookupMX(ctx, ascii)
	var dnsErr *net.DNSError
	switch {
	case err != nil && errors.As(err, &dnsErr) && dnsErr.IsNotFound, err == nil && len(mxs) == 0:
		// No MX records: the domain is its own MX (RFC 5321 section 5.1).
		// If it does not exist at all, its address lookup says so.
		return []host{{name: ascii, port: c.port(), implicit: true}}, nil
	case err != nil:
		return nil, stageError(err, bounce.StageDNS)
	}
	// RFC 7505 section 3: a single MX with root as host and preference 0.
	// A "." among other MX records is a mistake; it is skipped.
	if len(mxs) == 1 && isRoot(mxs[0].Host) {
		return nil, localError(bounce.StageDNS, enhNullMX, textNullMX)
	}
	// RFC 5321 section 5.1: lowest preference first. Equal preferences keep
	// the resolver's order (which net.Resolver already shuffles).
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Pref < mxs[j].Pref })
	hosts := make([]host, 0, len(mxs))
	for _, mx := range mxs {
		if isRoot(mx.Host) {
			continue
		}
		hosts = append(hosts, host{name: strings.TrimSuffix(mx.Host, "."), port: c.port()})
	}
	if len(hosts) == 0 {
		return nil, localError(bounce.StageDNS, enhNullMX, textNullMX)
	}
	return hosts, nil
}

func isRoot(name string) bool { return name == "." || name == "" }

func (c *Client) resolver() Resolver {
	if c.Resolver != nil {
		return c.Resolver
	}
	return net.DefaultResolver
}

// addresses returns the IP addresses of h, those not in dialed first, each
// group in the resolver's order.
func (c *Client) addresses(ctx context.Context, h host, dialed []net.IP) ([]netip.Addr, error) {
	ips, err := c.resolver().LookupIPAddr(ctx, h.name)
	if err != nil {
		return nil, stageError(err, bounce.StageDNS)
	}
	var fresh, seen []netip.Addr
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip.IP)
		if !ok {
			continue
		}
		a = a.Unmap()
		if slices.ContainsFunc(dialed, func(d net.IP) bool { return d.Equal(ip.IP) }) {
			seen = append(seen, a)
		} else {
			fresh = append(fresh, a)
		}
	}
	if len(fresh)+len(seen) == 0 {
		return nil, &bounce.SMTPError{Stage: bounce.StageDNS, Line: h.name, Err: ErrNoAddress}
	}
	return append(fresh, seen...), nil
}
