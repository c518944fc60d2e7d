package delivery_test

import (
	"context"
	"crypto/tls"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/delivery"
)

// mxServer is how a test MX host is set up for REQUIRETLS.
type mxServer int

const (
	mxQualifies   mxServer = iota // Verified TLS, REQUIRETLS offered.
	mxNoRequire                   // Verified TLS, no REQUIRETLS.
	mxNoSTARTTLS                  // No STARTTLS (REQUIRETLS offered in plain text).
	mxUnverified                  // TLS with a certificate for another name, REQUIRETLS offered.
	mxUnreachable                 // Connection refused.
)

// startMX starts a go-smtp server set up as kind and returns its backend,
// address (empty when unreachable) and count of connections. good is
// valid for the MX names, bad for another name.
func startMX(t *testing.T, kind mxServer, good, bad *tls.Config) (*backend, string, *atomic.Int64) {
	t.Helper()
	b := &backend{}
	if kind == mxUnreachable {
		return b, "", &atomic.Int64{}
	}
	addr, accepted := startServer(t, b, func(s *smtp.Server) {
		switch kind {
		case mxUnverified:
			s.TLSConfig = bad
		case mxQualifies, mxNoRequire:
			s.TLSConfig = good
		}
		s.EnableREQUIRETLS = kind != mxNoRequire
	})
	return b, addr, accepted
}

// A REQUIRETLS message over a secure route goes to the first MX host that
// gives verified TLS and offers REQUIRETLS: a host that does not is left
// for the next one. A plain message of the same batch is still delivered
// to the first host that takes it (a transaction of its own), and the
// host its connection showed lacking is not dialed again.
func TestRequireTLSNextHost(t *testing.T) {
	good, pool := testCert(t, "mx1.example.org", "mx2.example.org")
	bad, _ := testCert(t, "other.example")
	tests := []struct {
		name      string
		first     mxServer
		plainToMX string // The host that gets the plain message.
	}{
		{"no-requiretls", mxNoRequire, "mx1.example.org"},
		{"no-starttls", mxNoSTARTTLS, "mx1.example.org"},
		{"unverified", mxUnverified, "mx1.example.org"},
		{"unreachable", mxUnreachable, "mx2.example.org"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b1, addr1, conns1 := startMX(t, tc.first, good, bad)
			b2, addr2, conns2 := startMX(t, mxQualifies, good, bad)
			c, r, _ := newClient(t, mxHost{"mx1.example.org", 10, addr1}, mxHost{"mx2.example.org", 20, addr2})
			c.Resolver = &secureResolver{resolver: r, authenticated: true}
			c.TLSConfig = &tls.Config{RootCAs: pool}
			m := msgs("a@example.org", "b@example.org")
			m[1].RequireTLS = boolPtr(true)
			results := deliver(t, c, m)
			check(t, results, delivered(), delivered())
			if got := results[0].Msg.Attempt.RemoteMTA; got != tc.plainToMX {
				t.Errorf("plain message delivered to %q, want %q", got, tc.plainToMX)
			}
			if got := results[1].Msg.Attempt.RemoteMTA; got != "mx2.example.org" {
				t.Errorf("REQUIRETLS message delivered to %q, want mx2.example.org", got)
			}
			for _, tr := range b1.transactions() {
				if tr.mailOpts.RequireTLS {
					t.Errorf("first host got a REQUIRETLS transaction: %+v", tr)
				}
			}
			var secure int
			for _, tr := range b2.transactions() {
				if tr.mailOpts.RequireTLS {
					secure++
					if !tr.tls || len(tr.rcpts) != 1 || tr.rcpts[0] != "b@example.org" {
						t.Errorf("REQUIRETLS transaction %+v, want b@example.org over TLS", tr)
					}
				}
			}
			if secure != 1 {
				t.Errorf("second host got %d REQUIRETLS transactions, want 1", secure)
			}
			want1, want2 := int64(1), int64(1)
			if tc.first == mxUnreachable {
				want1 = 0 // Both messages over one connection to mx2.
			}
			if n1, n2 := conns1.Load(), conns2.Load(); n1 != want1 || n2 != want2 {
				t.Errorf("connections %d to mx1, %d to mx2, want %d and %d", n1, n2, want1, want2)
			}
		})
	}
}

// Without DNSSEC (SecureResolver) or a policy (Client.SecureRoute) saying
// the MX hosts are a secure route, a REQUIRETLS message fails with 5.7.30
// without a connection: permanently, or temporarily when the policy could
// not be checked.
func TestRequireTLSInsecureRoute(t *testing.T) {
	good, pool := testCert(t, "mx1.example.org")
	errPolicy := errors.New("policy fetch failed")
	permanent := failed(bounce.StageDNS, 0, true).with(bounce.EnhancedCode{5, 7, 30}, nil)
	tests := []struct {
		name          string
		secureDNS     bool // The resolver implements SecureResolver.
		authenticated bool
		policy        func() (bool, error) // Client.SecureRoute; nil: not set.
		want          want
		wantDial      bool
	}{
		{"plain-resolver", false, false, nil, permanent, false},
		{"not-authenticated", true, false, nil, permanent, false},
		{"policy-says-no", false, false, func() (bool, error) { return false, nil }, permanent, false},
		{"policy-error", false, false, func() (bool, error) { return false, errPolicy }, failed(bounce.StageDNS, 0, false).with(bounce.EnhancedCode{4, 7, 30}, errPolicy), false},
		{"policy-says-yes", false, false, func() (bool, error) { return true, nil }, delivered(), true},
		{"dnssec", true, true, nil, delivered(), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, addr, _ := startMX(t, mxQualifies, good, nil)
			c, r, d := newClient(t, mxHost{"mx1.example.org", 10, addr})
			if tc.secureDNS {
				c.Resolver = &secureResolver{resolver: r, authenticated: tc.authenticated}
			}
			var mu sync.Mutex
			var asked []string
			if tc.policy != nil {
				c.SecureRoute = func(ctx context.Context, domain string) (bool, error) {
					mu.Lock()
					asked = append(asked, domain)
					mu.Unlock()
					return tc.policy()
				}
			}
			c.TLSConfig = &tls.Config{RootCAs: pool}
			m := msgs("a@example.org")
			m[0].RequireTLS = boolPtr(true)
			check(t, deliver(t, c, m), tc.want)
			if got := len(d.dials()) > 0; got != tc.wantDial {
				t.Errorf("dialed %v, want a connection %v", d.dials(), tc.wantDial)
			}
			if tc.policy != nil && (len(asked) != 1 || asked[0] != "example.org") {
				t.Errorf("SecureRoute asked for %v, want [example.org]", asked)
			}
		})
	}
}

// When no MX host qualifies, a REQUIRETLS message fails with 5.7.30,
// permanently when every host answered without qualifying (the remote MTA
// is the last of them), temporarily when some host could not be reached.
// A plain message without REQUIRETLS is never asked for a secure route.
func TestRequireTLSNoHost(t *testing.T) {
	good, pool := testCert(t, "mx1.example.org", "mx2.example.org")
	bad, _ := testCert(t, "other.example")
	tests := []struct {
		name          string
		first, second mxServer
		want          want
		wantRemote    string
	}{
		{"all-lack", mxNoRequire, mxUnverified, failed(bounce.StageMail, 0, true).with(bounce.EnhancedCode{5, 7, 30}, nil), "mx2.example.org"},
		{"lack-unreachable", mxNoSTARTTLS, mxUnreachable, failed(bounce.StageDial, 0, false), ""},
		{"unreachable-lack", mxUnreachable, mxNoRequire, failed(bounce.StageDial, 0, false), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, addr1, _ := startMX(t, tc.first, good, bad)
			_, addr2, _ := startMX(t, tc.second, good, bad)
			c, r, _ := newClient(t, mxHost{"mx1.example.org", 10, addr1}, mxHost{"mx2.example.org", 20, addr2})
			c.Resolver = &secureResolver{resolver: r, authenticated: true}
			c.SecureRoute = func(ctx context.Context, domain string) (bool, error) {
				t.Errorf("SecureRoute asked with an authenticated MX lookup")
				return false, nil
			}
			c.TLSConfig = &tls.Config{RootCAs: pool}
			m := msgs("a@example.org")
			m[0].RequireTLS = boolPtr(true)
			results := deliver(t, c, m)
			check(t, results, tc.want)
			if got := results[0].Msg.Attempt.RemoteMTA; got != tc.wantRemote {
				t.Errorf("remote MTA %q, want %q", got, tc.wantRemote)
			}
			dialed := results[0].Msg.DialedIPs
			if len(dialed["mx1.example.org"]) != 1 || len(dialed["mx2.example.org"]) != 1 {
				t.Errorf("dialed IPs %v, want one per host", dialed)
			}
		})
	}

	// Without REQUIRETLS messages the route is not checked.
	_, addr, _ := startMX(t, mxNoSTARTTLS, good, bad)
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	c.SecureRoute = func(ctx context.Context, domain string) (bool, error) {
		t.Errorf("SecureRoute asked for a batch without REQUIRETLS")
		return false, nil
	}
	check(t, deliver(t, c, msgs("a@example.org")), delivered())
}

// In smarthost mode there is no MX lookup to secure: a REQUIRETLS message
// needs verified TLS to the smarthost and REQUIRETLS offered, and
// SecureRoute is not asked.
func TestRequireTLSSmarthost(t *testing.T) {
	good, pool := testCert(t, "smtp.example.com")
	for _, tc := range []struct {
		name    string
		require bool // The smarthost offers REQUIRETLS.
		want    want
	}{
		{"offered", true, delivered()},
		{"not-offered", false, failed(bounce.StageMail, 0, true).with(bounce.EnhancedCode{5, 7, 30}, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &backend{}
			addr, _ := startServer(t, b, func(s *smtp.Server) {
				s.TLSConfig = good
				s.EnableREQUIRETLS = tc.require
			})
			c, _, d := newClient(t)
			d.routes["smtp.example.com:587"] = addr
			c.Smarthost = &delivery.Smarthost{Host: "smtp.example.com"}
			c.TLSConfig = &tls.Config{RootCAs: pool}
			c.SecureRoute = func(ctx context.Context, domain string) (bool, error) {
				t.Errorf("SecureRoute asked in smarthost mode")
				return false, nil
			}
			m := msgs("a@example.net", "b@example.net")
			m[0].RequireTLS = boolPtr(true)
			check(t, deliver(t, c, m), tc.want, delivered())
			var secure int
			for _, tr := range b.transactions() {
				if tr.mailOpts.RequireTLS {
					secure++
				}
			}
			if wantSecure := map[bool]int{true: 1, false: 0}[tc.require]; secure != wantSecure {
				t.Errorf("%d REQUIRETLS transactions, want %d", secure, wantSecure)
			}
		})
	}
}
