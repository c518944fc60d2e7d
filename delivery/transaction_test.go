package delivery_test

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/delivery"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
)

// Recipients refused at RCPT TO fail with their own reply at StageRcpt; the
// others are delivered in the same transaction, with the data sent once.
func TestRcptMixed(t *testing.T) {
	bothModes(t, func(t *testing.T, noPipelining bool) {
		b := &backend{script: script{rcpt: func(to string) error {
			switch to {
			case "unknown@example.org":
				return reply(550, smtp.EnhancedCode{5, 1, 1}, "no such user")
			case "full@example.org":
				return reply(452, smtp.EnhancedCode{4, 2, 2}, "mailbox full")
			}
			return nil
		}}}
		addr, _ := startServer(t, b, nil)
		c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
		c.NoPipelining = noPipelining
		in := msgs("a@example.org", "unknown@example.org", "b@example.org", "full@example.org")
		results := deliver(t, c, in)
		check(t, results,
			delivered(),
			failed(bounce.StageRcpt, 550, true).with(bounce.EnhancedCode{5, 1, 1}, nil),
			delivered(),
			failed(bounce.StageRcpt, 452, false).with(bounce.EnhancedCode{4, 2, 2}, nil),
		)
		got := b.transactions()
		if len(got) != 1 || !reflect.DeepEqual(got[0].rcpts, []string{"a@example.org", "b@example.org"}) || got[0].from != "sender@example.com" {
			t.Fatalf("server got %+v, want one transaction to a and b", got)
		}
		if string(got[0].data) != testMessage {
			t.Errorf("server got data %q", got[0].data)
		}
		for i, r := range results {
			if r.Msg.Attempt.RemoteMTA != "mx1.example.org" || r.Msg.Attempt.RemoteIP != netip.MustParseAddr("192.0.2.1") {
				t.Errorf("result %d: remote %q %v", i, r.Msg.Attempt.RemoteMTA, r.Msg.Attempt.RemoteIP)
			}
			if ips := r.Msg.DialedIPs["mx1.example.org"]; len(ips) != 1 || ips[0].String() != "192.0.2.1" {
				t.Errorf("result %d: DialedIPs %v", i, r.Msg.DialedIPs)
			}
			if in[i].DialedIPs != nil {
				t.Errorf("input message %d changed: DialedIPs %v", i, in[i].DialedIPs)
			}
		}
		if results[0].Delivery.Code != 250 || results[0].Delivery.EnhancedCode != (bounce.EnhancedCode{2, 0, 0}) {
			t.Errorf("delivery %+v, want 250 2.0.0", results[0].Delivery)
		}
	})
}

// A refusal after the data fails every accepted recipient at
// StageDataEnd; a recipient refused before keeps its RCPT reply.
func TestDataRefused(t *testing.T) {
	bothModes(t, func(t *testing.T, noPipelining bool) {
		b := &backend{script: script{
			rcpt: func(to string) error {
				if to == "unknown@example.org" {
					return reply(550, smtp.EnhancedCode{5, 1, 1}, "no such user")
				}
				return nil
			},
			data: func() error { return reply(554, smtp.EnhancedCode{5, 7, 1}, "spam") },
		}}
		addr, _ := startServer(t, b, nil)
		c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
		c.NoPipelining = noPipelining
		results := deliver(t, c, msgs("a@example.org", "unknown@example.org", "b@example.org"))
		check(t, results,
			failed(bounce.StageDataEnd, 554, true).with(bounce.EnhancedCode{5, 7, 1}, nil),
			failed(bounce.StageRcpt, 550, true),
			failed(bounce.StageDataEnd, 554, true),
		)
	})
}

// No DATA when every recipient was refused.
func TestNoDataWithoutRecipients(t *testing.T) {
	bothModes(t, func(t *testing.T, noPipelining bool) {
		dataCalls := 0
		b := &backend{script: script{
			rcpt: func(string) error { return reply(550, smtp.EnhancedCode{5, 1, 1}, "no") },
			data: func() error { dataCalls++; return nil },
		}}
		addr, _ := startServer(t, b, nil)
		c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
		c.NoPipelining = noPipelining
		results := deliver(t, c, msgs("a@example.org", "b@example.org"))
		check(t, results, failed(bounce.StageRcpt, 550, true), failed(bounce.StageRcpt, 550, true))
		if dataCalls != 0 || len(b.transactions()) != 0 {
			t.Errorf("server got data: %d calls", dataCalls)
		}
	})
}

// A refused MAIL FROM fails every recipient at StageMail: about the
// sender, never a hard bounce of the recipients.
func TestMailRefused(t *testing.T) {
	bothModes(t, func(t *testing.T, noPipelining bool) {
		b := &backend{script: script{mail: func(string) error { return reply(550, smtp.EnhancedCode{5, 7, 1}, "sender blocked") }}}
		addr, _ := startServer(t, b, nil)
		c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
		c.NoPipelining = noPipelining
		results := deliver(t, c, msgs("a@example.org", "b@example.org"))
		check(t, results, failed(bounce.StageMail, 550, true), failed(bounce.StageMail, 550, true))
		for _, r := range results {
			if f := bounce.Classify(r.Err); f.HardBounce() {
				t.Errorf("MAIL FROM refusal classified as hard bounce: %+v", f)
			}
		}
	})
}

// A 421 (the server closes the connection) at each stage gives every
// recipient a temporary failure with that reply, or a delivery it already
// had; recipients the transaction did not reach fail with ErrTransactionClosed.
func Test421(t *testing.T) {
	r421 := reply(421, smtp.EnhancedCode{4, 3, 2}, "shutting down")
	tests := []struct {
		name   string
		script script
		want   []want
	}{
		{"ehlo", script{newSession: func() error { return r421 }},
			[]want{failed(bounce.StageEHLO, 421, false), failed(bounce.StageEHLO, 421, false), failed(bounce.StageEHLO, 421, false)}},
		{"mail", script{mail: func(string) error { return r421 }},
			[]want{failed(bounce.StageMail, 421, false), failed(bounce.StageMail, 421, false), failed(bounce.StageMail, 421, false)}},
		{"rcpt", script{rcpt: func(to string) error {
			if to == "b@example.org" {
				return r421
			}
			return nil
		}}, []want{
			failed(bounce.StageRcpt, 421, false).with(bounce.EnhancedCode{4, 3, 2}, delivery.ErrTransactionClosed),
			failed(bounce.StageRcpt, 421, false),
			failed(bounce.StageRcpt, 421, false).with(bounce.EnhancedCode{4, 3, 2}, delivery.ErrTransactionClosed),
		}},
		{"data-end", script{data: func() error { return r421 }},
			[]want{failed(bounce.StageDataEnd, 421, false), failed(bounce.StageDataEnd, 421, false), failed(bounce.StageDataEnd, 421, false)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &backend{script: tc.script}
			addr, _ := startServer(t, b, nil)
			bothModes(t, func(t *testing.T, noPipelining bool) {
				c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
				c.NoPipelining = noPipelining
				check(t, deliver(t, c, msgs("a@example.org", "b@example.org", "c@example.org")), tc.want...)
			})
		})
	}
}

// After a 421 in one transaction, the next one (another MAIL FROM) opens
// a new connection.
func Test421NextTransactionReconnects(t *testing.T) {
	first := true
	b := &backend{script: script{mail: func(from string) error {
		if first {
			first = false
			return reply(421, smtp.EnhancedCode{4, 3, 2}, "busy")
		}
		return nil
	}}}
	addr, accepted := startServer(t, b, nil)
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	c.Separator = "+"
	m := msgs("a@example.org", "b@example.org")
	m[0].FromID, m[1].FromID = "id1", "id2"
	check(t, deliver(t, c, m), failed(bounce.StageMail, 421, false), delivered())
	if n := accepted.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	if got := b.transactions(); len(got) != 1 || got[0].from != "sender+id2@example.com" {
		t.Errorf("server got %+v", got)
	}
}

// One transaction per distinct MAIL FROM: messages with different FromIDs
// are split, one connection carries both; SubmissionMailFrom joins them.
func TestMailFromSplit(t *testing.T) {
	for _, perSubmission := range []bool{false, true} {
		b := &backend{}
		addr, accepted := startServer(t, b, nil)
		c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
		c.Separator = "+"
		c.SubmissionMailFrom = perSubmission
		m := msgs("a@example.org", "b@example.org", "c@example.org")
		m[0].FromID, m[1].FromID, m[2].FromID = "id1", "id2", "id1"
		check(t, deliver(t, c, m), delivered(), delivered(), delivered())
		got := b.transactions()
		var from []string
		for _, r := range got {
			from = append(from, r.from+" "+strings.Join(r.rcpts, ","))
		}
		want := []string{"sender+id1@example.com a@example.org,c@example.org", "sender+id2@example.com b@example.org"}
		if perSubmission {
			want = []string{"sender+id1@example.com a@example.org,b@example.org,c@example.org"}
		}
		if !reflect.DeepEqual(from, want) {
			t.Errorf("perSubmission %v: transactions %q, want %q", perSubmission, from, want)
		}
		if n := accepted.Load(); n != 1 {
			t.Errorf("perSubmission %v: %d connections, want 1", perSubmission, n)
		}
	}
}

// A UTF-8 localpart needs SMTPUTF8: without it the message fails
// permanently before MAIL FROM; with it, it is delivered with SMTPUTF8.
func TestSMTPUTF8(t *testing.T) {
	for _, enable := range []bool{false, true} {
		b := &backend{}
		addr, _ := startServer(t, b, func(s *smtp.Server) { s.EnableSMTPUTF8 = enable })
		c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
		m := msgs("δοκιμή@example.org", "plain@example.org")
		results := deliver(t, c, m)
		if !enable {
			w := failed(bounce.StageMail, 0, true).with(bounce.EnhancedCode{5, 6, 7}, nil)
			check(t, results, w, w)
			if len(b.transactions()) != 0 {
				t.Errorf("server without SMTPUTF8 got a message")
			}
			continue
		}
		check(t, results, delivered(), delivered())
		if got := b.transactions(); len(got) != 1 || !got[0].mailOpts.UTF8 {
			t.Errorf("server got %+v, want SMTPUTF8", got)
		}
	}
}

// A non-ASCII domain goes in its A-label form and needs no SMTPUTF8.
func TestIDNDomain(t *testing.T) {
	b := &backend{}
	addr, _ := startServer(t, b, nil)
	c, r, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	r.mx["xn--bcher-kva.example"] = r.mx["example.org"]
	check(t, deliver(t, c, msgs("user@bücher.example")), delivered())
	if got := b.transactions(); len(got) != 1 || got[0].rcpts[0] != "user@xn--bcher-kva.example" {
		t.Errorf("server got %+v", got)
	}
}

// A message larger than the server's SIZE fails permanently without MAIL.
func TestSizeExceeded(t *testing.T) {
	mails := 0
	b := &backend{script: script{mail: func(string) error { mails++; return nil }}}
	addr, _ := startServer(t, b, func(s *smtp.Server) { s.MaxMessageBytes = 1000 })
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	m := msgs("a@example.org")
	m[0].Size = 5000
	check(t, deliver(t, c, m), failed(bounce.StageMail, 0, true).with(bounce.EnhancedCode{5, 3, 4}, nil))
	if f := bounce.Classify(deliver(t, c, m)[0].Err); f.Reason != bounce.ReasonMesgTooBig {
		t.Errorf("Classify reason %q, want %q", f.Reason, bounce.ReasonMesgTooBig)
	}
	if mails != 0 {
		t.Errorf("server got %d MAIL commands", mails)
	}
	m[0].Size = 500
	check(t, deliver(t, c, m), delivered())
	if got := b.transactions(); len(got) != 1 || got[0].mailOpts.Size != 500 {
		t.Errorf("server got %+v, want SIZE=500", got)
	}
}

// The RFC 3461 parameters pass through when the server offers DSN, and are
// left out when it does not.
func TestDSNParameters(t *testing.T) {
	bothModes(t, func(t *testing.T, noPipelining bool) {
		for _, enable := range []bool{true, false} {
			b := &backend{}
			addr, _ := startServer(t, b, func(s *smtp.Server) { s.EnableDSN = enable })
			c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
			c.NoPipelining = noPipelining
			m := msgs("a@example.org")
			m[0].Notify = dsn.Notify("FAILURE,DELAY")
			m[0].Ret = dsn.RetHeaders
			m[0].EnvID = "env-1"
			m[0].ORcpt = "rfc822;orig@example.org"
			check(t, deliver(t, c, m), delivered())
			got := b.transactions()
			if len(got) != 1 {
				t.Fatalf("server got %d transactions", len(got))
			}
			mo, ro := got[0].mailOpts, got[0].rcptOpts[0]
			if !enable {
				if mo.Return != "" || mo.EnvelopeID != "" || ro.Notify != nil || ro.OriginalRecipient != "" {
					t.Errorf("server without DSN got parameters: %+v %+v", mo, ro)
				}
				continue
			}
			if mo.Return != smtp.DSNReturnHeaders || mo.EnvelopeID != "env-1" {
				t.Errorf("MAIL parameters %+v", mo)
			}
			if !reflect.DeepEqual(ro.Notify, []smtp.DSNNotify{smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed}) || ro.OriginalRecipient != "orig@example.org" || ro.OriginalRecipientType != smtp.DSNAddressTypeRFC822 {
				t.Errorf("RCPT parameters %+v", ro)
			}
		}
	})
}

// A server offering PIPELINING (go-smtp's always does) takes 100
// recipients in one transaction. go-smtp's client does not pipeline: each
// RCPT waits for its reply (see the package doc).
func TestPipeliningServer(t *testing.T) {
	b := &backend{}
	addr, accepted := startServer(t, b, nil)
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	var rcpts []string
	var wants []want
	for i := 0; i < 100; i++ {
		rcpts = append(rcpts, "r"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+"@example.org")
		wants = append(wants, delivered())
	}
	check(t, deliver(t, c, msgs(rcpts...)), wants...)
	if got := b.transactions(); len(got) != 1 || len(got[0].rcpts) != 100 {
		t.Errorf("server got %d transactions", len(got))
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// Bad input is refused before anything is attempted.
func TestValidate(t *testing.T) {
	tests := []struct {
		c    delivery.Client
		want error
	}{
		{delivery.Client{Opener: opener()}, delivery.ErrNoHostname},
		{delivery.Client{Hostname: "h"}, delivery.ErrNoOpener},
	}
	for _, tc := range tests {
		if _, err := tc.c.Deliver(context.Background(), msgs("a@example.org")); err != tc.want {
			t.Errorf("Deliver: %v, want %v", err, tc.want)
		}
	}
	var _ queue.AttemptStatus = queue.AttemptDelivered
}

// bothModes runs f with pipelining and with one command at a time.
func bothModes(t *testing.T, f func(t *testing.T, noPipelining bool)) {
	for _, noPipelining := range []bool{false, true} {
		name := "pipelining"
		if noPipelining {
			name = "stepwise"
		}
		t.Run(name, func(t *testing.T) { f(t, noPipelining) })
	}
}

// A transaction that ends without data (MAIL refused, every RCPT refused)
// leaves the connection for the next one, after RSET.
func TestConnectionReuse(t *testing.T) {
	tests := []struct {
		name   string
		script script
		first  want
	}{
		{"mail-refused", script{mail: func(from string) error {
			if from == "sender+id1@example.com" {
				return reply(550, smtp.EnhancedCode{5, 7, 1}, "not you")
			}
			return nil
		}}, failed(bounce.StageMail, 550, true)},
		{"rcpts-refused", script{rcpt: func(to string) error {
			if to == "a@example.org" {
				return reply(550, smtp.EnhancedCode{5, 1, 1}, "unknown")
			}
			return nil
		}}, failed(bounce.StageRcpt, 550, true)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bothModes(t, func(t *testing.T, noPipelining bool) {
				b := &backend{script: tc.script}
				addr, accepted := startServer(t, b, nil)
				c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
				c.NoPipelining = noPipelining
				c.Separator = "+"
				m := msgs("a@example.org", "b@example.org")
				m[0].FromID, m[1].FromID = "id1", "id2"
				check(t, deliver(t, c, m), tc.first, delivered())
				if n := accepted.Load(); n != 1 {
					t.Errorf("%d connections, want 1", n)
				}
				if got := b.transactions(); len(got) != 1 || got[0].rcpts[0] != "b@example.org" {
					t.Errorf("server got %+v", got)
				}
			})
		})
	}
}
