package sandbox

import (
	"bytes"
	"net/mail"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/report"
)

// TestComposeLater reads each later report with the module's readers, as
// ProcessIncoming will: each is the kind it claims, about the recipient,
// and names the original message.
func TestComposeLater(t *testing.T) {
	o := original{
		mailFrom: "app+fromid123@app.example",
		rcpt:     "bob-asyncdsn@remote.example",
		orcpt:    "rfc822;bob-asyncdsn@remote.example",
		envID:    "env-42",
		header:   []byte("From: app@app.example\r\nTo: bob@remote.example\r\nSubject: Your order\r\nMessage-ID: <order-1@app.example>\r\n\r\n"),
		arrival:  time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
	}
	now := o.arrival.Add(5 * time.Minute)
	for _, tc := range []struct {
		kind queue.IncomingKind
		want report.Kind
	}{
		{queue.IncomingDSN, report.KindDSN},
		{queue.IncomingFeedback, report.KindFeedback},
		{queue.IncomingAutoReply, report.KindAutoReply},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			msg, err := composeLater(tc.kind, o, "mx.sandbox.localhost", "later-1@mx.sandbox.localhost", now)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := mail.ReadMessage(bytes.NewReader(msg)); err != nil {
				t.Fatalf("not a message: %v", err)
			}
			r := report.Read(msg)
			if r.Kind != tc.want {
				t.Fatalf("kind %q, want %q (format %q, dsn error %v)", r.Kind, tc.want, r.Format, r.DSNError)
			}
			if r.MessageID != "later-1@mx.sandbox.localhost" {
				t.Errorf("message-id %q", r.MessageID)
			}
			switch tc.kind {
			case queue.IncomingDSN:
				if r.EnvelopeID != o.envID || r.OriginalMessageID != "order-1@app.example" {
					t.Errorf("envelope id %q, original message-id %q", r.EnvelopeID, r.OriginalMessageID)
				}
				if len(r.Recipients) != 1 {
					t.Fatalf("recipients %+v", r.Recipients)
				}
				rc := r.Recipients[0]
				if rc.Address != o.rcpt || rc.OriginalRecipient != o.rcpt || rc.Action != dsn.ActionFailed || rc.Status != (bounce.EnhancedCode{5, 1, 1}) || rc.Code != 550 {
					t.Errorf("recipient %+v", rc)
				}
			case queue.IncomingFeedback:
				f := r.Feedback
				if f == nil || f.Type != "abuse" || len(f.OriginalRcptTo) != 1 || f.OriginalRcptTo[0] != o.rcpt || f.OriginalMailFrom != o.mailFrom {
					t.Errorf("feedback %+v", f)
				}
				if r.OriginalMessageID != "order-1@app.example" {
					t.Errorf("original message-id %q", r.OriginalMessageID)
				}
			case queue.IncomingAutoReply:
				m, _ := mail.ReadMessage(bytes.NewReader(msg))
				if got := m.Header.Get("In-Reply-To"); got != "<order-1@app.example>" {
					t.Errorf("in-reply-to %q", got)
				}
				if got := m.Header.Get("Subject"); got != "Auto: Your order" {
					t.Errorf("subject %q", got)
				}
			}
		})
	}
	if _, err := composeLater(queue.IncomingOther, o, "h", "id", now); err == nil {
		t.Errorf("no error for a kind without a report")
	}
}
