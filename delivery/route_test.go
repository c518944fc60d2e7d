package delivery_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

// MX hosts are tried in preference order, whatever order the resolver
// gives; a refused connection and a 4xx greeting move on to the next
// host. The result names the host that answered, and DialedIPs all those
// dialed.
func TestMXFallback(t *testing.T) {
	busy := startRaw(t, "421 4.3.2 too busy\r\n")
	b := &backend{}
	addr, _ := startServer(t, b, nil)
	c, r, d := newClient(t,
		mxHost{"mx3.example.org", 30, addr},
		mxHost{"mx1.example.org", 10, ""},
		mxHost{"mx2.example.org", 20, busy},
	)
	results := deliver(t, c, msgs("a@example.org", "b@example.org"))
	check(t, results, delivered(), delivered())
	if got, want := d.dials(), []string{"192.0.2.2:25", "192.0.2.3:25", "192.0.2.1:25"}; !reflect.DeepEqual(got, want) {
		t.Errorf("dialed %v, want %v", got, want)
	}
	m := results[0].Msg
	if m.Attempt.RemoteMTA != "mx3.example.org" || m.Attempt.RemoteIP.String() != "192.0.2.1" {
		t.Errorf("remote %q %v, want mx3", m.Attempt.RemoteMTA, m.Attempt.RemoteIP)
	}
	if len(m.DialedIPs) != 3 {
		t.Errorf("DialedIPs %v, want three hosts", m.DialedIPs)
	}
	if r.lookup.Load() != 1 {
		t.Errorf("%d MX lookups for one domain", r.lookup.Load())
	}

	// The next attempt prefers an address not dialed before.
	r.ips["mx1.example.org"] = []string{"192.0.2.2", "192.0.2.9"}
	deliver(t, c, []queue.Msg{m})
	if got := d.dials()[3]; got != "192.0.2.9:25" {
		t.Errorf("second attempt dialed %s first, want the fresh address", got)
	}
}

// When every host fails, the last failure is the result.
func TestAllHostsFail(t *testing.T) {
	busy := startRaw(t, "421 4.3.2 too busy\r\n")
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, ""}, mxHost{"mx2.example.org", 20, busy})
	results := deliver(t, c, msgs("a@example.org"))
	check(t, results, failed(bounce.StageConnect, 421, false))
	if a := results[0].Msg.Attempt; a.RemoteMTA != "mx2.example.org" {
		t.Errorf("remote %q, want mx2, which answered last", a.RemoteMTA)
	}
}

// A 554 greeting is the answer of the domain: no further host, permanent,
// and about the connection, not a hard bounce of the recipient.
func TestGreeting554(t *testing.T) {
	refusing := startRaw(t, "554 5.7.1 no service for you\r\n")
	b := &backend{}
	addr, accepted := startServer(t, b, nil)
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, refusing}, mxHost{"mx2.example.org", 20, addr})
	results := deliver(t, c, msgs("a@example.org"))
	check(t, results, failed(bounce.StageConnect, 554, true))
	if f := bounce.Classify(results[0].Err); f.HardBounce() {
		t.Errorf("554 greeting classified as hard bounce: %+v", f)
	}
	if accepted.Load() != 0 {
		t.Errorf("second MX was tried after a 554 greeting")
	}
	if a := results[0].Msg.Attempt; a.RemoteMTA != "mx1.example.org" || a.RemoteIP.String() != "192.0.2.1" {
		t.Errorf("remote %q %v, want the host that refused", a.RemoteMTA, a.RemoteIP)
	}
}

// A server that never answers runs into the configured command timeout.
func TestTimeout(t *testing.T) {
	silent := startRaw(t, "")
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, silent})
	c.Timeouts.Command = 50 * time.Millisecond
	results := deliver(t, c, msgs("a@example.org"))
	check(t, results, failed(bounce.StageConnect, 0, false))
	var ne net.Error
	if !errors.As(results[0].Err, &ne) || !ne.Timeout() {
		t.Errorf("err %v, want a timeout", results[0].Err)
	}
}

// A canceled context fails the transaction under way with the context's
// error, not with the closed connection it leaves.
func TestCanceled(t *testing.T) {
	silent := startRaw(t, "")
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, silent})
	ctx, cancel := context.WithCancel(context.Background())
	c.Dialer = dialerFunc(func(dctx context.Context, network, address string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(dctx, network, silent)
		cancel() // Canceled while waiting for the greeting.
		return conn, err
	})
	results, err := c.Deliver(ctx, msgs("a@example.org", "b@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, results, failed(bounce.StageConnect, 0, false), failed(bounce.StageConnect, 0, false))
	if !errors.Is(results[0].Err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", results[0].Err)
	}
	// Nothing is attempted with a context canceled before.
	results, _ = c.Deliver(ctx, msgs("a@example.org"))
	if results[0].Status != queue.AttemptNotTried {
		t.Errorf("status %q after cancel, want not-tried", results[0].Status)
	}
}

type dialerFunc func(ctx context.Context, network, address string) (net.Conn, error)

func (f dialerFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

// DNS outcomes: a null MX and a domain that does not exist fail
// permanently without a connection, a failed lookup (SERVFAIL) temporarily;
// a domain without MX records is its own MX.
func TestDNS(t *testing.T) {
	b := &backend{}
	addr, _ := startServer(t, b, nil)
	servfail := &net.DNSError{Err: "server misbehaving", Name: "example.org", IsTemporary: true}
	tests := []struct {
		name  string
		setup func(r *resolver)
		want  want
		dials int
	}{
		{"null-mx", func(r *resolver) { r.mx["example.org"] = []*net.MX{{Host: ".", Pref: 0}} },
			failed(bounce.StageDNS, 0, true).with(bounce.EnhancedCode{5, 1, 10}, nil), 0},
		{"nxdomain", func(r *resolver) { delete(r.mx, "example.org") },
			failed(bounce.StageDNS, 0, true), 0},
		{"servfail", func(r *resolver) { r.mxErr = map[string]error{"example.org": servfail} },
			failed(bounce.StageDNS, 0, false), 0},
		{"mx-host-servfail", func(r *resolver) { r.ipErr = map[string]error{"mx1.example.org": servfail} },
			failed(bounce.StageDNS, 0, false), 0},
		{"implicit-mx", func(r *resolver) {
			delete(r.mx, "example.org")
			r.ips["example.org"] = []string{"192.0.2.1"}
		}, delivered(), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, r, d := newClient(t, mxHost{"mx1.example.org", 10, addr})
			tc.setup(r)
			results := deliver(t, c, msgs("a@example.org"))
			check(t, results, tc.want)
			if n := len(d.dials()); n != tc.dials {
				t.Errorf("%d dials, want %d", n, tc.dials)
			}
		})
	}
	// A null MX is the domain's own word: Classify says so.
	c, r, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	r.mx["example.org"] = []*net.MX{{Host: ".", Pref: 0}}
	if f := bounce.Classify(deliver(t, c, msgs("a@example.org"))[0].Err); !f.NullMX() {
		t.Errorf("null MX failure %+v, Classify does not see a null MX", f)
	}
}

// Recipients of several domains get one route each, in one call.
func TestSeveralDomains(t *testing.T) {
	b := &backend{}
	addr, _ := startServer(t, b, nil)
	c, r, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	r.mx["example.net"] = []*net.MX{{Host: ".", Pref: 0}}
	m := msgs("a@example.org", "b@example.net", "c@example.org")
	check(t, deliver(t, c, m), delivered(), failed(bounce.StageDNS, 0, true), delivered())
}
