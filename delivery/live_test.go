package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/delivery"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/webhook"
)

// liveEnv names the Postfix smtpd TestLivePostfix delivers to, as
// "ip:port"; scripts/live-mta/delivery installs and starts that Postfix and
// sets it.
const liveEnv = "BOUNCEKIT_LIVE_POSTFIX"

// liveMessage is the submission TestLivePostfix sends.
const liveMessage = "From: app@example.net\r\nTo: undisclosed-recipients:;\r\nSubject: live test\r\nMessage-ID: <live1@example.net>\r\n\r\nHello.\r\n"

// liveWant is what a recipient's attempt must give against the Postfix of
// scripts/live-mta/postfix.
type liveWant struct {
	rcpt   string
	status queue.AttemptStatus
	code   int
	enh    bounce.EnhancedCode
	reason bounce.Reason
	perm   bool
	hard   bool
	result queue.Result  // Handler.Attempted's outcome.
	dsn    queue.DSNKind // The DSN the recipient is in.
	hook   webhook.OutgoingEvent
}

// TestLivePostfix delivers one submission to a real Postfix (Debian's
// package, configured by scripts/live-mta/postfix) and applies the results
// with Handler.Attempted: two recipients accepted, one unknown (Postfix's
// local recipient table), one over quota for good and one for now (the
// recipient access map answers 552 5.2.2 and 452 4.2.2). The sender gets one
// failure DSN naming the two permanent failures; the temporary one waits for
// its retry. Run by scripts/live-mta/delivery; skipped without
// BOUNCEKIT_LIVE_POSTFIX.
func TestLivePostfix(t *testing.T) {
	addr := os.Getenv(liveEnv)
	if addr == "" {
		t.Skipf("%s not set: run scripts/live-mta/delivery (as root) to install Postfix from Debian packages and run this test against it", liveEnv)
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s=%q: want ip:port: %v", liveEnv, addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		t.Fatalf("%s=%q: want an ip address: %v", liveEnv, addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatalf("%s=%q: bad port: %v", liveEnv, addr, err)
	}

	wants := []liveWant{
		{rcpt: "alice@example.org", status: queue.AttemptDelivered, code: 250, enh: bounce.EnhancedCode{2, 0, 0},
			result: queue.ResultDelivered, hook: webhook.EventDelivered},
		// Postfix: not in local_recipient_maps (unknown_local_recipient_reject_code 550).
		{rcpt: "nobody@example.org", status: queue.AttemptFailed, code: 550, enh: bounce.EnhancedCode{5, 1, 1},
			reason: bounce.ReasonUserUnknown, perm: true, hard: true,
			result: queue.ResultFailed, dsn: queue.DSNFailed, hook: webhook.EventFailed},
		// The recipient access map: over quota for good. Mailbox full is
		// no hard bounce: the address exists.
		{rcpt: "full@example.org", status: queue.AttemptFailed, code: 552, enh: bounce.EnhancedCode{5, 2, 2},
			reason: bounce.ReasonMailboxFull, perm: true,
			result: queue.ResultFailed, dsn: queue.DSNFailed, hook: webhook.EventFailed},
		// Over quota for now: retried, and no delayed DSN this early
		// (RetryPolicy's DelayedDSN age).
		{rcpt: "overquota@example.org", status: queue.AttemptFailed, code: 452, enh: bounce.EnhancedCode{4, 2, 2},
			reason: bounce.ReasonMailboxFull,
			result: queue.ResultRetry, hook: webhook.EventDelayed},
		{rcpt: "postmaster@example.org", status: queue.AttemptDelivered, code: 250, enh: bounce.EnhancedCode{2, 0, 0},
			result: queue.ResultDelivered, hook: webhook.EventDelivered},
	}

	for _, tc := range []struct {
		name         string
		noPipelining bool
	}{
		{"pipelining", false},
		{"one command at a time", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &delivery.Client{
				// Postfix's reject_unknown_helo_hostname: the name
				// resolves in the script's DNS.
				Hostname: "helo.example.net",
				Opener: delivery.OpenerFunc(func(ctx context.Context, m queue.Msg) (io.ReadCloser, error) {
					return io.NopCloser(strings.NewReader(liveMessage)), nil
				}),
				// example.org's MX is the Postfix under test.
				Resolver: &resolver{
					mx:  map[string][]*net.MX{"example.org": {{Host: "mx.example.org.", Pref: 10}}},
					ips: map[string][]string{"mx.example.org": {ip.String()}},
				},
				Port:         port,
				NoPipelining: tc.noPipelining,
				Timeouts:     delivery.Timeouts{Dial: 10 * time.Second, Command: 30 * time.Second, Data: 30 * time.Second, DataEnd: 30 * time.Second},
			}
			livePostfix(t, c, ip, wants)
		})
	}
}

// livePostfix queues one submission to the recipients of wants, delivers
// it with c and applies the results, checking each step.
func livePostfix(t *testing.T, c *delivery.Client, ip netip.Addr, wants []liveWant) {
	ctx := context.Background()
	db, err := bstore.Open(ctx, filepath.Join(t.TempDir(), "queue.db"), &bstore.Options{Timeout: 5 * time.Second}, queue.DBTypes()...)
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	defer db.Close()
	clock := queuetest.NewClock(time.Now())
	hooks := &queuetest.Hooks{}
	h := &queue.Handler{
		DB:            db,
		Hooks:         hooks,
		MessageOpener: &queuetest.Messages{Default: []byte(liveMessage)},
		Hostname:      "mail.example.net",
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{WebhookURL: "https://app.example.net/hook"}, true
		}),
		Now:   clock.Now,
		After: clock.After,
	}

	// One submission: one Add.
	var batches []queue.Batch
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		var msgs []*queue.Msg
		for _, w := range wants {
			msgs = append(msgs, &queue.Msg{
				SenderAccount:    "app",
				SenderAddress:    "app@example.net",
				RecipientAddress: w.rcpt,
				Size:             int64(len(liveMessage)),
				MessageID:        "live1@example.net",
				Subject:          "live test",
			})
		}
		if _, err := h.Add(tx, msgs...); err != nil {
			return err
		}
		batches, err = h.Due(tx, clock.Now(), 0)
		return err
	})
	if err != nil {
		t.Fatalf("add and due: %v", err)
	}
	if len(batches) != 1 || len(batches[0].Msgs) != len(wants) {
		t.Fatalf("due: %d batches, want 1 of %d messages", len(batches), len(wants))
	}

	results, err := c.Deliver(ctx, batches[0].Msgs)
	if err != nil {
		t.Fatalf("deliver: %v", err)
	}
	byRcpt := map[string]queue.AttemptResult{}
	for _, r := range results {
		byRcpt[r.Msg.RecipientAddress] = r
		// The wire reply, for the record.
		if r.Status == queue.AttemptDelivered {
			t.Logf("%s: %s: %d %s %s", r.Msg.RecipientAddress, r.Status, r.Delivery.Code, r.Delivery.EnhancedCode, r.Delivery.Line)
		} else {
			t.Logf("%s: %s: %v", r.Msg.RecipientAddress, r.Status, r.Err)
		}
	}
	for _, w := range wants {
		r, ok := byRcpt[w.rcpt]
		if !ok {
			t.Errorf("%s: no result", w.rcpt)
			continue
		}
		if r.Status != w.status {
			t.Errorf("%s: status %s, want %s (err %v)", w.rcpt, r.Status, w.status, r.Err)
			continue
		}
		if r.Msg.Attempt.RemoteMTA != "mx.example.org" || r.Msg.Attempt.RemoteIP != ip {
			t.Errorf("%s: remote %q %s, want mx.example.org %s", w.rcpt, r.Msg.Attempt.RemoteMTA, r.Msg.Attempt.RemoteIP, ip)
		}
		if w.status == queue.AttemptDelivered {
			if r.Delivery.Code != w.code || r.Delivery.EnhancedCode != w.enh {
				t.Errorf("%s: delivered with %d %s, want %d %s", w.rcpt, r.Delivery.Code, r.Delivery.EnhancedCode, w.code, w.enh)
			}
			continue
		}
		var se *bounce.SMTPError
		if !errors.As(r.Err, &se) {
			t.Errorf("%s: err %T %v, want *bounce.SMTPError", w.rcpt, r.Err, r.Err)
			continue
		}
		if se.Stage != bounce.StageRcpt || se.Code != w.code || se.EnhancedCode != w.enh {
			t.Errorf("%s: %s %d %s, want rcpt %d %s", w.rcpt, se.Stage, se.Code, se.EnhancedCode, w.code, w.enh)
		}
		f := bounce.Classify(r.Err)
		if f.Reason != w.reason || f.Permanent != w.perm || f.HardBounce() != w.hard || f.Stage != bounce.StageRcpt {
			t.Errorf("%s: classified %s permanent %v hard %v at %s, want %s %v %v at rcpt", w.rcpt, f.Reason, f.Permanent, f.HardBounce(), f.Stage, w.reason, w.perm, w.hard)
		}
	}

	var outcomes []queue.Outcome
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		var err error
		outcomes, err = h.Attempted(tx, results)
		return err
	})
	if err != nil {
		t.Fatalf("attempted: %v", err)
	}
	byID := map[int64]queue.Outcome{}
	for _, o := range outcomes {
		byID[o.MsgID] = o
	}
	var failedRcpts, wantHooks []string
	for _, w := range wants {
		wantHooks = append(wantHooks, string(w.hook)+":"+w.rcpt)
		o := byID[byRcpt[w.rcpt].Msg.ID]
		if o.Result != w.result || o.DSN != w.dsn || o.Hook != w.hook {
			t.Errorf("%s: outcome %s dsn %q hook %q, want %s %q %q", w.rcpt, o.Result, o.DSN, o.Hook, w.result, w.dsn, w.hook)
		}
		if w.dsn == queue.DSNFailed {
			failedRcpts = append(failedRcpts, w.rcpt)
		}
	}
	// One transaction's worth, in the order of the results.
	if hooks.Calls != 1 || strings.Join(hooks.Events(), " ") != strings.Join(wantHooks, " ") {
		t.Errorf("hook queue calls %d with %v, want 1 with %v", hooks.Calls, hooks.Events(), wantHooks)
	}

	// Exactly one DSN, a failure DSN to the sender naming the permanent
	// failures with Postfix's replies.
	var outbox []queue.OutboxDSN
	err = db.Read(ctx, func(tx *bstore.Tx) error {
		var err error
		outbox, err = bstore.QueryTx[queue.OutboxDSN](tx).List()
		return err
	})
	if err != nil {
		t.Fatalf("list outbox: %v", err)
	}
	if len(outbox) != 1 {
		t.Fatalf("%d dsns in outbox, want 1", len(outbox))
	}
	d := outbox[0]
	if d.Kind != queue.DSNFailed || d.To != "app@example.net" {
		t.Errorf("dsn: kind %s to %s, want failed to app@example.net", d.Kind, d.To)
	}
	m, _, err := dsn.Parse(bytes.NewReader(d.Data))
	if err != nil {
		t.Fatalf("parse dsn: %v\n%s", err, d.Data)
	}
	var got []string
	for _, r := range m.Recipients {
		got = append(got, r.FinalRecipient)
		w := wantFor(wants, r.FinalRecipient)
		if r.Action != dsn.ActionFailed || r.Status != w.enh.String() || r.RemoteMTA != "mx.example.org" || r.RemoteIP != ip {
			t.Errorf("dsn recipient %s: action %s status %s remote %s %s, want failed %s mx.example.org %s", r.FinalRecipient, r.Action, r.Status, r.RemoteMTA, r.RemoteIP, w.enh, ip)
		}
		se := new(bounce.SMTPError)
		errors.As(byRcpt[r.FinalRecipient].Err, &se)
		if !strings.Contains(r.DiagnosticCode, se.Line) || se.Line == "" {
			t.Errorf("dsn recipient %s: diagnostic %q does not carry the reply %q", r.FinalRecipient, r.DiagnosticCode, se.Line)
		}
	}
	if strings.Join(got, ",") != strings.Join(failedRcpts, ",") {
		t.Errorf("dsn recipients %v, want %v", got, failedRcpts)
	}
	t.Logf("failure dsn: %d bytes, recipients %v", len(d.Data), got)
}

// wantFor returns the want of rcpt.
func wantFor(wants []liveWant, rcpt string) liveWant {
	for _, w := range wants {
		if w.rcpt == rcpt {
			return w
		}
	}
	return liveWant{}
}
