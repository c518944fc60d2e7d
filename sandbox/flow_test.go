package sandbox

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/delivery"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webhook"
)

// TestRetryToExpiry plays a temporary failure through the default retry
// schedule on the manual clock: delayed webhooks until the policy gives up
// after five days, a delayed DSN and a failed DSN to the sender.
func TestRetryToExpiry(t *testing.T) {
	h := newHarness(t, nil)
	const rcpt = "bob-temperror@remote.example"
	h.submit("app@app.example", []string{rcpt}, "")
	var delayed int
	for {
		o := h.nextHook(rcpt)
		if o.Event == webhook.EventFailed {
			h.checkHook(o, hookWant{event: webhook.EventFailed, code: 451, ec: "4.0.0", reason: "systemerror"})
			break
		}
		h.checkHook(o, hookWant{event: webhook.EventDelayed, code: 451, ec: "4.0.0", reason: "systemerror"})
		delayed++
		if delayed > 100 {
			t.Fatalf("still delayed after %d attempts", delayed)
		}
		h.toDue()
	}
	// RFC 5321 section 4.5.4.1: give up after 4-5 days; the default
	// policy says 5 days from the first attempt.
	if age := h.clock.Now().Sub(testStart); age < 4*24*time.Hour || age > 5*24*time.Hour {
		t.Errorf("failed after %v, want 4 to 5 days", age)
	}
	if delayed < 10 {
		t.Errorf("%d delayed webhooks, want one per failed attempt of the schedule", delayed)
	}
	t.Logf("%d delayed webhooks, failed after %v", delayed, h.clock.Now().Sub(testStart))
	// The events: the last attempt gave up, and the sender got a delayed
	// DSN and a failed DSN, in that order.
	var last string
	var dsns []string
	timeout := time.After(wait)
	for last == "" || len(dsns) < 2 {
		select {
		case e := <-h.events:
			switch {
			case e.Kind == EventAttempt && strings.HasPrefix(e.Text, "failed"):
				last = e.Text
			case e.Kind == EventDSN && e.Recipient == "app@app.example":
				dsns = append(dsns, e.Text)
			}
		case <-timeout:
			t.Fatalf("last attempt %q, dsns %q", last, dsns)
		}
	}
	if !strings.Contains(last, "given up: expired") || !strings.Contains(last, "failed DSN") {
		t.Errorf("last attempt %q, want given up as expired with a failed DSN", last)
	}
	for i, k := range []queue.DSNKind{queue.DSNDelayed, queue.DSNFailed} {
		if !strings.HasPrefix(dsns[i], string(k)+" DSN") {
			t.Errorf("dsn event %q, want %s", dsns[i], k)
		}
	}
	files, err := filepath.Glob(filepath.Join(h.sb.cfg.Dir, "dsn", "*.eml"))
	if err != nil || len(files) != 2 {
		t.Fatalf("dsn files %v, %v; want 2", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := dsn.Parse(strings.NewReader(string(data)))
		if err != nil {
			t.Fatalf("dsn %s: %v", f, err)
		}
		if m.To != "app@app.example" || len(m.Recipients) != 1 || m.Recipients[0].FinalRecipient != rcpt {
			t.Errorf("dsn to %q about %+v", m.To, m.Recipients)
		}
	}
}

// TestTransaction checks the stage of an answer with two recipients in one
// transaction: after the data it refuses the message for both (as mox);
// at RCPT TO only the recipient it names.
func TestTransaction(t *testing.T) {
	delivered := hookWant{event: webhook.EventDelivered, code: 250, ec: "2.0.0", reason: "delivered"}
	failed := hookWant{event: webhook.EventFailed, code: 550, ec: "5.0.0", reason: "undefined"}
	for _, tc := range []struct {
		name   string
		refuse string
		want   hookWant // For the other recipient.
	}{
		{"data", "bob-permerror@remote.example", failed},
		{"rcpt", "rcpttobob-permerror@remote.example", delivered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.submit("app@app.example", []string{"carol@remote.example", tc.refuse}, "")
			h.checkHook(h.nextHook(tc.refuse), failed)
			h.checkHook(h.nextHook("carol@remote.example"), tc.want)
		})
	}
}

// TestGreylistOnce checks that a greylisted sender and recipient pass the
// second time, and that a new message of the same sender is not
// greylisted again, though its MAIL FROM has another FromID.
func TestGreylistOnce(t *testing.T) {
	h := newHarness(t, nil)
	const rcpt = "rcpttobob-greylist@remote.example"
	h.submit("app@app.example", []string{rcpt}, "")
	if o := h.nextHook(rcpt); o.Event != webhook.EventDelayed {
		t.Fatalf("first attempt %s, want delayed", o.Event)
	}
	h.toDue()
	if o := h.nextHook(rcpt); o.Event != webhook.EventDelivered {
		t.Fatalf("retry %s, want delivered", o.Event)
	}
	h.submit("app@app.example", []string{rcpt}, "")
	if o := h.nextHook(rcpt); o.Event != webhook.EventDelivered {
		t.Fatalf("second message %s, want delivered", o.Event)
	}
	// Another sender is greylisted.
	h.submit("other@app.example", []string{rcpt}, "")
	if o := h.nextHook(rcpt); o.Event != webhook.EventDelayed {
		t.Fatalf("other sender %s, want delayed", o.Event)
	}
}

// TestSuppressedAtSubmission checks that a recipient suppressed by a hard
// bounce is not attempted again: the next submission to it gives the
// suppressed webhook at once.
func TestSuppressedAtSubmission(t *testing.T) {
	h := newHarness(t, nil)
	const rcpt = "rcpttobob550-5.1.1@remote.example"
	h.submit("app@app.example", []string{rcpt}, "")
	h.waitEvent(EventSubmitted, rcpt)
	if o := h.nextHook(rcpt); o.Event != webhook.EventFailed || !o.Suppressing {
		t.Fatalf("first %s suppressing=%v, want failed and suppressing", o.Event, o.Suppressing)
	}
	h.submit("app@app.example", []string{rcpt}, "")
	if e := h.waitEvent(EventSubmitted, rcpt); !strings.Contains(e.Text, "suppressed") {
		t.Errorf("submitted event %q, want suppressed", e.Text)
	}
	if o := h.nextHook(rcpt); o.Event != webhook.EventSuppressed {
		t.Fatalf("second %s, want suppressed", o.Event)
	}
}

// TestSubmissionParameters checks that the DSN parameters of the
// submission are kept on the queue message, and that a message without a
// Message-ID gets one.
func TestSubmissionParameters(t *testing.T) {
	h := newHarness(t, nil)
	c, err := smtp.Dial(h.sb.SubmissionAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("app@app.example", &smtp.MailOptions{EnvelopeID: "env-7", Return: smtp.DSNReturnFull}); err != nil {
		t.Fatal(err)
	}
	const rcpt = "bob@remote.example"
	if err := c.Rcpt(rcpt, &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed}, OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "Bob@Remote.Example"}); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "From: <app@app.example>\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n\r\nHello.\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	o := h.nextHook(rcpt)
	if o.Event != webhook.EventDelivered || o.Subject != "Café" || !strings.HasPrefix(o.MessageID, "<sandbox-") {
		t.Errorf("webhook %s, subject %q, message-id %q", o.Event, o.Subject, o.MessageID)
	}
	var m queue.MsgRetired
	var data []byte
	err = h.sb.DB.Read(context.Background(), func(tx *bstore.Tx) error {
		var err error
		if m, err = bstore.QueryTx[queue.MsgRetired](tx).Get(); err != nil {
			return err
		}
		sm, err := bstore.QueryTx[Message](tx).FilterNonzero(Message{BaseID: m.BaseID}).Get()
		data = sm.Data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.SenderAccount != DefaultAccount || m.EnvID != "env-7" || m.Ret != dsn.RetFull || m.Notify != "FAILURE,DELAY" || !strings.EqualFold(m.ORcpt, "rfc822;Bob@Remote.Example") {
		t.Errorf("stored %q envid %q ret %q notify %q orcpt %q", m.SenderAccount, m.EnvID, m.Ret, m.Notify, m.ORcpt)
	}
	if !strings.HasPrefix(string(data), "Message-ID: <"+strings.Trim(o.MessageID, "<>")+">\r\n") {
		t.Errorf("stored message does not start with the added Message-ID: %q", data[:min(len(data), 80)])
	}
}

// TestStallBounded checks the ends of a stall other than the client giving
// up: MaxStall on the clock (then 451 4.3.0), and Close.
func TestStallBounded(t *testing.T) {
	// The client waits longer than the simulator stalls.
	h := newHarness(t, func(c *Config) {
		c.Timeouts = delivery.Timeouts{Command: 2 * time.Hour, DataEnd: 2 * time.Hour}
	})
	const rcpt = "bob-timeout@remote.example"
	h.submit("app@app.example", []string{rcpt}, "")
	h.waitEvent(EventStall, rcpt)
	h.advance(DefaultMaxStall)
	h.checkHook(h.nextHook(rcpt), hookWant{event: webhook.EventDelayed, code: 451, ec: "4.3.0", reason: "networkerror"})

	// Stalling again at the retry; closing the simulator ends the stall
	// (and the goroutines, as goleak checks).
	h.toDue()
	h.waitEvent(EventStall, rcpt)
	done := make(chan error, 1)
	go func() { done <- h.sb.Simulator.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("close: %v", err)
		}
	case <-time.After(wait):
		t.Fatalf("simulator close did not end the stall")
	}
}

// TestStallDoesNotBlock checks that a submission whose attempt stalls
// does not hold up the delivery of others.
func TestStallDoesNotBlock(t *testing.T) {
	h := newHarness(t, nil)
	const stalled = "rcpttobob-timeout@remote.example"
	h.submit("app@app.example", []string{stalled}, "")
	h.waitEvent(EventStall, stalled)
	const rcpt = "carol@remote.example"
	h.submit("app@app.example", []string{rcpt}, "")
	if o := h.nextHook(rcpt); o.Event != webhook.EventDelivered {
		t.Fatalf("webhook %s, want delivered", o.Event)
	}
	h.advance(testTimeouts.Command)
	if e := h.waitEvent(EventAttempt, stalled); !strings.HasPrefix(e.Text, "retry: networkerror after 1m0s") {
		t.Errorf("attempt %q, want a retry after the client's command timeout", e.Text)
	}
}

// TestHTTP checks the HTTP listener: the conventions at "/", and a handler
// the host mounts on Mux.
func TestHTTP(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.HTTPAddr = "127.0.0.1:0" })
	h.sb.Mux.HandleFunc("/webapi/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "mounted") })
	for path, want := range map[string]string{"/": Conventions, "/webapi/x": "mounted"} {
		resp, err := http.Get("http://" + h.sb.HTTPAddr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("GET %s: %d %q %v", path, resp.StatusCode, body, err)
		}
	}
	if h.sb.Account() != DefaultAccount || !h.sb.Now().Equal(testStart) {
		t.Errorf("account %q, now %v", h.sb.Account(), h.sb.Now())
	}
}

// TestEventLines checks the live log of a delivery: one line per
// submission, attempt and webhook, each with the simulated time.
func TestEventLines(t *testing.T) {
	h := newHarness(t, nil)
	const rcpt = "bob@remote.example"
	h.submit("app@app.example", []string{rcpt}, "")
	for _, tc := range []struct {
		kind EventKind
		text string
	}{
		{EventSubmitted, "from app@app.example, queued as message 1"},
		{EventAttempt, "delivered, webhook delivered"},
		{EventWebhook, "delivered to http://127.0.0.1:"},
	} {
		e := h.waitEvent(tc.kind, rcpt)
		line := e.String()
		if !strings.HasPrefix(line, "2026-11-30 09:00:00 "+string(tc.kind)) || !strings.Contains(line, rcpt+" "+tc.text) {
			t.Errorf("line %q, want kind %s and %q", line, tc.kind, tc.text)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{}); err != ErrNoDir {
		t.Errorf("no dir: %v", err)
	}
	if _, err := New(Config{Dir: t.TempDir(), WebhookSecret: "not-a-secret", WebhookURL: "http://127.0.0.1:1/"}); err == nil {
		t.Errorf("bad secret: no error")
	}
	sb, err := New(Config{Dir: t.TempDir(), SubmissionAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if _, err := New(Config{Dir: t.TempDir(), SubmissionAddr: sb.SubmissionAddr().String()}); err == nil {
		t.Errorf("submission address in use: no error")
	}
}
