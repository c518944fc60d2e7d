package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/delivery"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/webhook"
)

var testStart = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// wait bounds every wait for the sandbox in real time: a safety net that
// fails the test, never reached when things work.
const wait = 30 * time.Second

// testTimeouts are the delivery client's timeouts in the tests, on the
// manual clock.
var testTimeouts = delivery.Timeouts{Command: time.Minute, DataEnd: 2 * time.Minute}

// harness is a Sandbox on a manual clock, with an application that
// receives its webhooks.
type harness struct {
	t      *testing.T
	sb     *Sandbox
	clock  *queuetest.Clock
	hooks  chan webhook.Outgoing
	events chan Event

	mu      sync.Mutex
	pending []webhook.Outgoing // Received, not yet taken by nextHook.
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: queuetest.NewClock(testStart), hooks: make(chan webhook.Outgoing, 100), events: make(chan Event, 1000)}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var out webhook.Outgoing
		if err == nil {
			err = json.Unmarshal(body, &out)
		}
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		h.hooks <- out
		w.WriteHeader(http.StatusNoContent)
	}))
	cfg := Config{
		Dir:        t.TempDir(),
		WebhookURL: app.URL + "/hooks",
		Clock:      h.clock,
		Timeouts:   testTimeouts,
		// No jitter: exact retry times.
		RetryPolicy: queue.RetryPolicy{Jitter: -1},
		OnEvent: func(e Event) {
			select {
			case h.events <- e:
			default:
				t.Errorf("event channel full, dropped %s", e)
			}
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	sb, err := New(cfg)
	if err != nil {
		app.Close()
		t.Fatal(err)
	}
	h.sb = sb
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sb.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if err := sb.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		app.Close()
	})
	return h
}

// submit sends one message through the submission listener.
func (h *harness) submit(from string, rcpts []string, envID string) {
	h.t.Helper()
	c, err := smtp.Dial(h.sb.SubmissionAddr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("app.example"); err != nil {
		h.t.Fatal(err)
	}
	if err := c.Mail(from, &smtp.MailOptions{EnvelopeID: envID}); err != nil {
		h.t.Fatal(err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			h.t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		h.t.Fatal(err)
	}
	msg := "From: <" + from + ">\r\nTo: <" + rcpts[0] + ">\r\nSubject: Order shipped\r\nMessage-ID: <order-1@app.example>\r\n\r\nYour order is on its way.\r\n"
	if _, err := io.WriteString(w, msg); err != nil {
		h.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		h.t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		h.t.Fatal(err)
	}
}

// nextHook returns the next webhook about rcpt, in the order received.
func (h *harness) nextHook(rcpt string) webhook.Outgoing {
	h.t.Helper()
	timeout := time.After(wait)
	for {
		h.mu.Lock()
		for i, o := range h.pending {
			if strings.EqualFold(o.Recipient, rcpt) {
				h.pending = append(h.pending[:i], h.pending[i+1:]...)
				h.mu.Unlock()
				return o
			}
		}
		h.mu.Unlock()
		select {
		case o := <-h.hooks:
			h.mu.Lock()
			h.pending = append(h.pending, o)
			h.mu.Unlock()
		case <-timeout:
			h.t.Fatalf("no webhook for %s within %v", rcpt, wait)
		}
	}
}

// waitEvent returns the next event of kind about rcpt (empty: any).
func (h *harness) waitEvent(kind EventKind, rcpt string) Event {
	h.t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case e := <-h.events:
			if e.Kind == kind && (rcpt == "" || strings.EqualFold(e.Recipient, rcpt)) {
				return e
			}
		case <-timeout:
			h.t.Fatalf("no %s event for %s within %v", kind, rcpt, wait)
		}
	}
}

// toDue moves the clock to the next due message and wakes the sandbox; it
// returns how far the clock moved.
func (h *harness) toDue() time.Duration {
	h.t.Helper()
	var next time.Time
	var ok bool
	err := h.sb.DB.Read(context.Background(), func(tx *bstore.Tx) (err error) {
		next, ok, err = queue.NextDue(tx)
		return err
	})
	if err != nil || !ok {
		h.t.Fatalf("no due message: %v", err)
	}
	d := max(next.Sub(h.clock.Now()), 0)
	h.clock.Set(h.clock.Now().Add(d))
	h.sb.Kick()
	return d
}

// advance moves the clock by d and wakes the sandbox.
func (h *harness) advance(d time.Duration) {
	h.clock.Advance(d)
	h.sb.Kick()
}

// hookWant is what a webhook must say.
type hookWant struct {
	event  webhook.OutgoingEvent
	code   int64
	ec     string
	reason string
	dsn    bool

	suppressing bool   // The event added the recipient to the suppression list.
	errorHas    string // Text the Error field contains.
}

func (h *harness) checkHook(o webhook.Outgoing, w hookWant) {
	h.t.Helper()
	if o.Event != w.event || o.SMTPCode != w.code || o.SMTPEnhancedCode != w.ec || o.Reason != w.reason || o.DSN != w.dsn || o.Suppressing != w.suppressing || !strings.Contains(o.Error, w.errorHas) {
		h.t.Errorf("webhook %s %d %q %q dsn=%v suppressing=%v error %q, want %s %d %q %q dsn=%v suppressing=%v error with %q", o.Event, o.SMTPCode, o.SMTPEnhancedCode, o.Reason, o.DSN, o.Suppressing, o.Error, w.event, w.code, w.ec, w.reason, w.dsn, w.suppressing, w.errorHas)
	}
	if o.MessageID != "<order-1@app.example>" || o.Subject != "Order shipped" || o.FromID == "" {
		h.t.Errorf("webhook message-id %q, subject %q, fromid %q", o.MessageID, o.Subject, o.FromID)
	}
}
