package webapi

import (
	"net/netip"
	"testing"
	"time"
)

func TestAuthLimiterBounded(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	l := &authLimiter{burst: 1, interval: time.Minute}
	addr := func(i int) netip.Addr {
		return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	}
	for i := range maxTrackedClients {
		l.failed(addr(i), t0)
	}
	if len(l.full) != maxTrackedClients {
		t.Fatalf("tracked %d, want %d", len(l.full), maxTrackedClients)
	}
	if l.wait(addr(0), t0) != time.Minute {
		t.Fatalf("first client not limited")
	}

	// Full, none expired: one arbitrary client is forgotten.
	l.failed(addr(maxTrackedClients), t0)
	if len(l.full) != maxTrackedClients {
		t.Fatalf("tracked %d after eviction, want %d", len(l.full), maxTrackedClients)
	}
	if l.wait(addr(maxTrackedClients), t0) != time.Minute {
		t.Fatalf("new client not limited")
	}

	// Full, all expired: they are all forgotten.
	later := t0.Add(time.Hour)
	l.failed(addr(maxTrackedClients+1), later)
	if len(l.full) != 1 {
		t.Fatalf("tracked %d after expiry, want 1", len(l.full))
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct {
		ip, want string
	}{
		{"192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	}
	for _, tc := range tests {
		got := clientKey(netip.MustParseAddr(tc.ip))
		if got.String() != tc.want {
			t.Errorf("%s: got %s, want %s", tc.ip, got, tc.want)
		}
	}
	if clientKey(netip.Addr{}) != (netip.Prefix{}) {
		t.Errorf("invalid address: want the zero prefix")
	}
}
