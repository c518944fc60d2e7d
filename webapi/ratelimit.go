package webapi

import (
	"net/netip"
	"sync"
	"time"
)

// Defaults of the failed-authentication limit.
const (
	DefaultAuthFailures        = 10
	DefaultAuthFailureInterval = time.Minute

	// maxTrackedClients bounds the limiter's memory. Past it, clients
	// whose allowance is full again are forgotten, then arbitrary ones.
	maxTrackedClients = 1 << 16
)

// authLimiter is a token bucket per client network for failed
// authentications: a client may fail burst times in a row, and regains
// one failure per interval. It keeps, per client, the time at which its
// bucket is full again; a failure moves that time one interval on, from
// now at the earliest.
type authLimiter struct {
	burst    int
	interval time.Duration

	mu   sync.Mutex
	full map[netip.Prefix]time.Time
}

// clientKey is the network a client address is limited by: the address
// itself for IPv4, its /64 for IPv6, where one host easily has many.
func clientKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return netip.Prefix{} // An invalid address: all such clients share one bucket.
	}
	return p
}

// wait returns how long the client must wait before it may try to
// authenticate again; zero if it may now.
func (l *authLimiter) wait(ip netip.Addr, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	full, ok := l.full[clientKey(ip)]
	if !ok {
		return 0
	}
	// With the bucket full at now+burst*interval, the client has failed
	// burst times in a row and waits for one interval's allowance.
	over := full.Sub(now) - time.Duration(l.burst-1)*l.interval
	return max(over, 0)
}

// failed records a failed authentication of the client.
func (l *authLimiter) failed(ip netip.Addr, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full == nil {
		l.full = map[netip.Prefix]time.Time{}
	}
	key := clientKey(ip)
	full, ok := l.full[key]
	if !ok && len(l.full) >= maxTrackedClients {
		l.forget(now)
	}
	if full.Before(now) {
		full = now
	}
	l.full[key] = full.Add(l.interval)
}

// forget makes room in the table: it drops clients whose allowance is
// full again, and if none was, one arbitrary client.
func (l *authLimiter) forget(now time.Time) {
	n := len(l.full)
	for k, full := range l.full {
		if !full.After(now) {
			delete(l.full, k)
		}
	}
	if len(l.full) < n {
		return
	}
	for k := range l.full {
		delete(l.full, k)
		return
	}
}
