package delivery_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/delivery"
)

func boolPtr(b bool) *bool { return &b }

// STARTTLS is used when offered. A message with REQUIRETLS (over a
// secure route) is sent only over a verified connection to a server
// offering REQUIRETLS; otherwise it fails permanently with 5.7.30, while
// the other messages of the batch are delivered.
func TestSTARTTLS(t *testing.T) {
	tests := []struct {
		name       string
		certName   string // Name in the server's certificate.
		tls        bool   // Server offers STARTTLS.
		requireTLS bool   // Server offers REQUIRETLS.
		wantTLS    bool
		wantReq    want
	}{
		{"verified", "mx1.example.org", true, true, true, delivered()},
		{"unverified", "other.example", true, true, true, failed(bounce.StageMail, 0, true).with(bounce.EnhancedCode{5, 7, 30}, nil)},
		{"no-requiretls", "mx1.example.org", true, false, true, failed(bounce.StageMail, 0, true).with(bounce.EnhancedCode{5, 7, 30}, nil)},
		{"no-starttls", "mx1.example.org", false, true, false, failed(bounce.StageMail, 0, true).with(bounce.EnhancedCode{5, 7, 30}, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			serverTLS, pool := testCert(t, tc.certName)
			b := &backend{}
			addr, _ := startServer(t, b, func(s *smtp.Server) {
				if tc.tls {
					s.TLSConfig = serverTLS
				}
				s.EnableREQUIRETLS = tc.requireTLS
			})
			c, r, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
			c.Resolver = &secureResolver{resolver: r, authenticated: true}
			c.TLSConfig = &tls.Config{RootCAs: pool}
			m := msgs("a@example.org", "b@example.org")
			m[0].RequireTLS = boolPtr(true)
			check(t, deliver(t, c, m), tc.wantReq, delivered())
			for _, r := range b.transactions() {
				if r.tls != tc.wantTLS {
					t.Errorf("transaction to %v over TLS %v, want %v", r.rcpts, r.tls, tc.wantTLS)
				}
				if r.mailOpts.RequireTLS != (r.rcpts[0] == "a@example.org") {
					t.Errorf("transaction to %v with REQUIRETLS %v", r.rcpts, r.mailOpts.RequireTLS)
				}
			}
		})
	}
}

// A failed TLS handshake is retried on the same address without TLS
// (opportunistic TLS), and the message is delivered. A REQUIRETLS message
// is not sent in plain text: the failed handshake is a temporary failure
// (the host could not be reached over TLS), after a third connection
// that tried TLS again.
func TestSTARTTLSFailure(t *testing.T) {
	serverTLS, pool := testCert(t, "mx1.example.org")
	serverTLS.MinVersion = tls.VersionTLS13
	b := &backend{}
	addr, accepted := startServer(t, b, func(s *smtp.Server) { s.TLSConfig = serverTLS })
	c, r, d := newClient(t, mxHost{"mx1.example.org", 10, addr})
	c.Resolver = &secureResolver{resolver: r, authenticated: true}
	c.TLSConfig = &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12}
	m := msgs("a@example.org", "b@example.org")
	m[1].RequireTLS = boolPtr(true)
	check(t, deliver(t, c, m), delivered(), failed(bounce.StageTLS, 0, false))
	if n := accepted.Load(); n != 3 {
		t.Errorf("%d connections, want 3 (TLS, then plain; TLS for REQUIRETLS)", n)
	}
	if got := d.dials(); len(got) != 3 || got[0] != got[1] || got[0] != got[2] {
		t.Errorf("dialed %v, want the same address three times", got)
	}
	got := b.transactions()
	if len(got) != 1 || got[0].tls {
		t.Errorf("server got %+v, want one plain transaction", got)
	}
}

// A smarthost takes every message, by name, over verified TLS; without
// TLS it is refused unless Insecure.
func TestSmarthost(t *testing.T) {
	serverTLS, pool := testCert(t, "smtp.example.com")
	b := &backend{}
	tlsAddr, _ := startServer(t, b, func(s *smtp.Server) { s.TLSConfig = serverTLS })
	plainAddr, _ := startServer(t, &backend{}, nil)
	for _, tc := range []struct {
		name     string
		addr     string
		insecure bool
		want     want
	}{
		{"starttls", tlsAddr, false, delivered()},
		{"no-tls", plainAddr, false, failed(bounce.StageTLS, 0, false).with(bounce.EnhancedCode{}, delivery.ErrSmarthostTLS)},
		{"no-tls-insecure", plainAddr, true, delivered()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, r, d := newClient(t)
			d.routes["smtp.example.com:587"] = tc.addr
			c.Smarthost = &delivery.Smarthost{Host: "smtp.example.com", Insecure: tc.insecure}
			c.TLSConfig = &tls.Config{RootCAs: pool}
			r.mx["example.net"] = []*net.MX{{Host: ".", Pref: 0}} // Not looked up.
			results := deliver(t, c, msgs("a@example.net"))
			check(t, results, tc.want)
			if tc.want.status == "delivered" && results[0].Msg.Attempt.RemoteMTA != "smtp.example.com" {
				t.Errorf("remote MTA %q", results[0].Msg.Attempt.RemoteMTA)
			}
			if r.lookup.Load() != 0 {
				t.Errorf("MX looked up in smarthost mode")
			}
		})
	}
	if got := b.transactions(); len(got) != 1 || !got[0].tls {
		t.Errorf("smarthost got %+v, want one TLS transaction", got)
	}
}

// A smarthost with implicit TLS (RFC 8314) is spoken to over TLS from the
// first byte.
func TestSmarthostImplicitTLS(t *testing.T) {
	serverTLS, pool := testCert(t, "smtp.example.com")
	b := &backend{}
	s := smtp.NewServer(b)
	s.Domain = "smtp.example.com"
	l, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(l)
	}()
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	c, _, d := newClient(t)
	d.routes["smtp.example.com:465"] = l.Addr().String()
	c.Smarthost = &delivery.Smarthost{Host: "smtp.example.com", ImplicitTLS: true}
	c.TLSConfig = &tls.Config{RootCAs: pool}
	check(t, deliver(t, c, msgs("a@example.net")), delivered())
	if got := b.transactions(); len(got) != 1 || !got[0].tls {
		t.Errorf("server got %+v, want one TLS transaction", got)
	}

	// A certificate not valid for the smarthost's name is refused.
	c.Smarthost.Host = "relay.example.com"
	d.routes["relay.example.com:465"] = l.Addr().String()
	results := deliver(t, c, msgs("a@example.net"))
	check(t, results, failed(bounce.StageTLS, 0, false))
	var he x509.HostnameError
	if !errors.As(results[0].Err, &he) {
		t.Errorf("err %v, want an x509.HostnameError", results[0].Err)
	}
}
