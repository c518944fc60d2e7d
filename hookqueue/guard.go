package hookqueue

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned (wrapped) when a webhook URL resolves to an
// address the SSRF guard refuses. A hook failing with it is retired with
// RetiredRefused, not retried.
var ErrForbiddenAddress = errors.New("hookqueue: address not allowed")

// Networks refused besides loopback, private (RFC 1918, RFC 4193),
// link-local, multicast and unspecified addresses.
var forbiddenPrefixes = [...]netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network", RFC 791.
	netip.MustParsePrefix("100.64.0.0/10"),  // Carrier-grade NAT, RFC 6598.
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments, RFC 6890.
	netip.MustParsePrefix("198.18.0.0/15"),  // Benchmarking, RFC 2544.
	netip.MustParsePrefix("240.0.0.0/4"),    // Reserved, includes broadcast.
	netip.MustParsePrefix("64:ff9b:1::/48"), // Local-use NAT64, RFC 8215.
	netip.MustParsePrefix("100::/64"),       // Discard-only, RFC 6666.
	netip.MustParsePrefix("fec0::/10"),      // Deprecated site-local.
	netip.MustParsePrefix("2001:db8::/32"),  // Documentation, RFC 3849.
	netip.MustParsePrefix("255.255.255.255/32"),
}

// nat64 is the well-known NAT64 prefix (RFC 6052): the embedded IPv4
// address is what is reached, so that is what is checked.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// checkAddr returns an error wrapping ErrForbiddenAddress if ip may not be
// connected to. Networks in allow are always permitted.
func checkAddr(ip netip.Addr, allow []netip.Prefix) error {
	ip = ip.Unmap()
	for _, p := range allow {
		if p.Contains(ip) {
			return nil
		}
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		return checkAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), allow)
	}
	var why string
	switch {
	case ip.IsLoopback():
		why = "loopback"
	case ip.IsPrivate():
		why = "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		why = "link-local"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		why = "multicast"
	case ip.IsUnspecified():
		why = "unspecified"
	default:
		for _, p := range forbiddenPrefixes {
			if p.Contains(ip) {
				why = "reserved " + p.String()
				break
			}
		}
	}
	if why == "" {
		return nil
	}
	return fmt.Errorf("%w: %s is %s (allow it with Queue.AllowNetworks)", ErrForbiddenAddress, ip, why)
}

// NewDialer returns a dialer that refuses, at connect time, loopback,
// private, link-local, multicast, unspecified and reserved addresses unless
// they are in allow. The check is on the resolved IP the socket connects to,
// so a name that resolves (or rebinds) to an internal address is refused
// too. Use it in a custom Queue.Transport to keep the guard.
func NewDialer(allow []netip.Prefix) *net.Dialer {
	allow = append([]netip.Prefix(nil), allow...)
	return &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: cannot parse %q: %w", ErrForbiddenAddress, address, err)
			}
			return checkAddr(ap.Addr(), allow)
		},
	}
}
