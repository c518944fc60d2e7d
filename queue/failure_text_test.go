package queue_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/queue"
)

// TestFailMsgsWords checks the words FailMsgs stores, sends in webhooks and
// writes in DSNs: the reply as the remote sent it.
func TestFailMsgsWords(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	e.h.DSNComposer = nil // The default composer.
	m := e.add(nil, "x@example.com")[0]
	err := fmt.Errorf("delivering: %w", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<x@example.com>: Recipient address rejected:\nUser unknown in local recipient table"})
	e.fail([]queue.Msg{m}, err)
	const want = "550-5.1.1 <x@example.com>: Recipient address rejected:\n550 5.1.1 User unknown in local recipient table"

	r, ok := e.retired(m.ID)
	if !ok {
		t.Fatalf("not retired")
	}
	tcompare(t, r.Results[len(r.Results)-1].Error, want, "result error")
	tcompare(t, e.hooks.Queued[0].Payload.Error, want, "webhook error")
	ob := e.outbox()
	tcompare(t, len(ob), 1, "dsns")
	text := string(ob[0].Data)
	for _, bad := range []string{"SMTP error", "queue:", "delivering:"} {
		if strings.Contains(text, bad) {
			t.Errorf("dsn contains %q:\n%s", bad, text)
		}
	}
	for _, good := range []string{"\t550-5.1.1 <x@example.com>: Recipient address rejected:\r\n\t550 5.1.1 User unknown in local recipient table", "Diagnostic-Code: smtp; 550-5.1.1"} {
		if !strings.Contains(text, good) {
			t.Errorf("dsn lacks %q:\n%s", good, text)
		}
	}
}
