package queue_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

var updateDoc = flag.Bool("update-doc", false, "rewrite the example payloads in ../webhook/doc.go from the Handler's output")

// counterReader is a deterministic source of "random" bytes for FromIDs.
type counterReader struct{ n byte }

func (r *counterReader) Read(p []byte) (int, error) {
	for i := range p {
		r.n++
		p[i] = r.n
	}
	return len(p), nil
}

// docPayloads runs one scenario per event through a Handler with the real
// webhook queue and returns the payloads it queued, first of each event, in
// the order of the package documentation.
func docPayloads(t *testing.T) map[webhook.OutgoingEvent]webhook.Outgoing {
	e := newInEnv(t)
	e.h.Rand = &counterReader{}
	ctx := context.Background()
	send := func(mod func(m *queue.Msg), rcpt string) queue.Msg {
		t.Helper()
		return e.send("alice", func(m *queue.Msg) {
			m.Subject = "Your receipt"
			m.Extra = map[string]string{"order": "1234"}
			if mod != nil {
				mod(m)
			}
		}, rcpt)[0]
	}
	write := func(fn func(tx *bstore.Tx) error) {
		t.Helper()
		icheck(t, e.db.Write(ctx, fn), "write")
	}

	// delivered: send does Add and DeliveredMsgs.
	send(func(m *queue.Msg) { m.MessageID = "k3q9x@app.example" }, "alice@example.net")

	// suppressed: Add of a listed recipient.
	store := e.h.Suppressions.(*suppression.Store)
	write(func(tx *bstore.Tx) error {
		_, _, err := store.AddTx(tx, suppression.Entry{Account: "alice", OriginalAddress: "gone@example.org", Category: suppression.CategoryManual}, e.clock.Now())
		if err != nil {
			return err
		}
		_, err = e.h.Add(tx, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "gone@example.org", MessageID: "r7t2m@app.example", Subject: "Newsletter"})
		return err
	})

	// delayed and canceled.
	e.clock.Advance(15 * time.Minute)
	write(func(tx *bstore.Tx) error {
		m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "bob@example.net", MessageID: "a1b2@app.example", Subject: "Welcome"}
		if _, err := e.h.Add(tx, m); err != nil {
			return err
		}
		_, err := e.h.FailMsgs(tx, []queue.Msg{*m}, &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 7, 1}, Line: "Greylisted, please try again later"})
		if err != nil {
			return err
		}
		_, err = e.h.CancelMsgs(tx, queue.MsgFilter{IDs: []int64{m.ID}})
		return err
	})

	// failed, from a DSN that suppresses; relayed and expanded from DSNs.
	e.clock.Advance(45 * time.Minute)
	failed := send(func(m *queue.Msg) { m.MessageID = "QnxzgulZK51utga6agH_rg@app.example"; m.Subject = "Invoice" }, "nobody@example.com")
	report := composeDSN(t, "<dsn1@mx.example.com>", "", nil, failedRcpt("nobody@example.com", "5.1.1", "smtp; 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"))
	e.incoming("alice", failed.MailFrom("+"), report)
	relayed := send(func(m *queue.Msg) { m.MessageID = "x9@app.example"; m.Subject = "Report" }, "fax@legacy.example")
	report = composeDSN(t, "<dsn2@mx.example.com>", "", nil, dsn.Recipient{FinalRecipient: "fax@legacy.example", Action: dsn.ActionRelayed, Status: "2.0.0"})
	e.incoming("alice", relayed.MailFrom("+"), report)
	expanded := send(func(m *queue.Msg) { m.MessageID = "y8@app.example"; m.Subject = "Team update" }, "team@example.org")
	report = composeDSN(t, "<dsn3@mx.example.com>", "", nil, dsn.Recipient{FinalRecipient: "team@example.org", Action: dsn.ActionExpanded, Status: "2.0.0"})
	e.incoming("alice", expanded.MailFrom("+"), report)

	// unrecognized: an auto-reply to a FromID address.
	hello := send(func(m *queue.Msg) { m.MessageID = "w6@app.example"; m.Subject = "Hello" }, "erin@example.com")
	autoReply := "From: erin@example.com\r\nTo: alice@example.org\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo1@example.com>\r\n\r\nI am away until Monday.\r\n"
	e.incoming("alice", hello.MailFrom("+"), []byte(autoReply))

	// complained: a feedback report.
	e.clock.Advance(24 * time.Hour)
	send(func(m *queue.Msg) { m.MessageID = "v5@app.example"; m.Subject = "Weekly deals" }, "dave@example.com")
	e.incoming("", "abuse@example.org", arfReport("<fbl1@example.com>", "abuse", "dave@example.com", "v5@app.example"))

	first := map[webhook.OutgoingEvent]webhook.Outgoing{}
	for _, h := range e.hooks() {
		if _, ok := first[h.Event]; !ok {
			first[h.Event] = h.Payload
		}
	}
	return first
}

// docEvents are the events in the order of the documentation, with the
// text above each example.
var docEvents = []struct {
	event webhook.OutgoingEvent
	title string
}{
	{webhook.EventDelivered, "delivered"},
	{webhook.EventSuppressed, "suppressed"},
	{webhook.EventDelayed, "delayed"},
	{webhook.EventFailed, "failed (from an incoming DSN, address suppressed)"},
	{webhook.EventRelayed, "relayed (from an incoming DSN)"},
	{webhook.EventExpanded, "expanded (from an incoming DSN)"},
	{webhook.EventCanceled, "canceled"},
	{webhook.EventUnrecognized, "unrecognized (an auto-reply)"},
	{webhook.EventComplained, "complained (addition)"},
}

// TestWebhookDocExamples checks that the example payloads in package
// webhook's documentation are what the Handler sends; -update-doc rewrites
// them.
func TestWebhookDocExamples(t *testing.T) {
	payloads := docPayloads(t)
	for ev, p := range payloads {
		for _, bad := range []string{"SMTP error", "queue:", "smtp;"} {
			if strings.Contains(p.Error, bad) {
				t.Errorf("%s payload error %q contains %q: not the reply as sent", ev, p.Error, bad)
			}
		}
	}
	var b strings.Builder
	b.WriteString("# Example payloads\n\nProduced by the Handler, as queued; the hookqueue worker adds Attempt\n(from 1) to each delivery. Package queue's TestWebhookDocExamples checks\nthem.\n")
	for _, ev := range docEvents {
		p, ok := payloads[ev.event]
		if !ok {
			t.Fatalf("no %s webhook from the scenario", ev.event)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("\t", "  ")
		enc.SetEscapeHTML(false)
		icheck(t, enc.Encode(p), "encode")
		b.WriteString("\n" + ev.title + ":\n\n\t" + strings.TrimRight(buf.String(), "\n") + "\n")
	}
	want := b.String()

	const path = "../webhook/doc.go"
	buf, err := os.ReadFile(path)
	icheck(t, err, "read doc")
	doc := string(buf)
	start := strings.Index(doc, "# Example payloads\n")
	if start < 0 {
		t.Fatalf("no example payloads section in %s", path)
	}
	end := strings.Index(doc[start+1:], "\n# ")
	if end < 0 {
		end = strings.Index(doc[start:], "*/")
	} else {
		end++
	}
	end += start
	got := doc[start:end]
	if *updateDoc {
		icheck(t, os.WriteFile(path, []byte(doc[:start]+want+doc[end:]), 0o644), "write doc")
		return
	}
	if got != want {
		t.Fatalf("%s example payloads differ from the Handler's (go test ./queue -run TestWebhookDocExamples -update-doc):\n%s", path, want)
	}
}
