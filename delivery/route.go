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

// SecureResolver is an optional ability of a Resolver: an MX lookup that
// says whether the answer was authenticated by DNSSEC, which REQUIRETLS
// needs (RFC 8689 section 4.2.1). A Resolver that validates DNSSEC itself,
// or that asks a validating recursive resolver over a trusted path and
// reads the AD bit of its answer (RFC 4035 section 3.2.3), implements it.
// When the Resolver implements it, routing uses LookupMXSecure instead of
// LookupMX. For a "not found" error, authenticated says whether the
// denial was authenticated (so the implicit MX may serve REQUIRETLS).
type SecureResolver interface {
	LookupMXSecure(ctx context.Context, name string) (mxs []*net.MX, authenticated bool, err error)
}

// host is one place to deliver to: an MX host, the implicit MX, or the
// smarthost.
type host struct {
	name     string // Host name, without trailing dot.
	port     string
	implicit bool // The domain itself, for lack of MX records (RFC 5321 section 5.1).
}

// route returns the hosts to try for domain, in order, and whether the
// MX lookup was authenticated (only with a SecureResolver).
func (c *Client) route(ctx context.Context, domain string) (_ []host, authenticated bool, _ error) {
	if c.Smarthost != nil {
		return []host{{name: c.Smarthost.Host, port: c.Smarthost.port()}}, false, nil
	}
	// The A-label form: DNS has no U-labels (RFC 5890).
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil || ascii == "" {
		return nil, false, &bounce.SMTPError{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 1, 2}, Stage: bounce.StageDNS, Line: "bad recipient domain " + domain, Err: err}
	}
	var mxs []*net.MX
	if sr, ok := c.resolver().(SecureResolver); ok {
		mxs, authenticated, err = sr.LookupMXSecure(ctx, ascii)
	} else {
		mxs, err = c.resolver().LookupMX(ctx, ascii)
	}
	var dnsErr *net.DNSError
	switch {
	case err != nil && errors.As(err, &dnsErr) && dnsErr.IsNotFound, err == nil && len(mxs) == 0:
		// No MX records: the domain is its own MX (RFC 5321 section 5.1).
		// If it does not exist at all, its address lookup says so.
		return []host{{name: ascii, port: c.port(), implicit: true}}, authenticated, nil
	case err != nil:
		return nil, false, stageError(err, bounce.StageDNS)
	}
	// RFC 7505 section 3: a single MX with root as host and preference 0.
	// A "." among other MX records is a mistake; it is skipped.
	if len(mxs) == 1 && isRoot(mxs[0].Host) {
		return nil, false, localError(bounce.StageDNS, enhNullMX, textNullMX)
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
		return nil, false, localError(bounce.StageDNS, enhNullMX, textNullMX)
	}
	return hosts, authenticated, nil
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
