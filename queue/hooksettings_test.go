package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mjl-/bstore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

func TestAccountSettingsValidate(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const url = "https://app.example.org/hook"
	type testCase struct {
		name     string
		settings queue.AccountSettings
		want     []error // Nil: valid.
	}
	cases := []testCase{
		{"zero", queue.AccountSettings{}, nil},
		{"no url, bad secret ignored", queue.AccountSettings{WebhookSecrets: []string{"x"}}, nil},
		{"valid", queue.AccountSettings{WebhookURL: url, WebhookSecrets: []string{secret}, WebhookEvents: []webhook.OutgoingEvent{webhook.EventFailed, webhook.EventComplained}}, nil},
		{"every event", queue.AccountSettings{WebhookURL: url, WebhookEvents: webhook.Events()}, nil},
		{"url without scheme", queue.AccountSettings{WebhookURL: "app.example.org/hook"}, []error{queue.ErrWebhookURL, hookqueue.ErrInvalidURL}},
		{"url unparsable", queue.AccountSettings{WebhookURL: "https://[::1"}, []error{queue.ErrWebhookURL, hookqueue.ErrInvalidURL}},
		{"secret", queue.AccountSettings{WebhookURL: "https://app.example.org/hook", WebhookSecrets: []string{secret, "whsec_!!"}}, []error{queue.ErrWebhookSecret, webhook.ErrInvalidSecret}},
		{"unknown event", queue.AccountSettings{WebhookURL: url, WebhookEvents: []webhook.OutgoingEvent{webhook.EventFailed, "bounced"}}, []error{queue.ErrWebhookEvent}},
		{"empty event", queue.AccountSettings{WebhookURL: url, WebhookEvents: []webhook.OutgoingEvent{""}}, []error{queue.ErrWebhookEvent}},
		{"event in other case", queue.AccountSettings{WebhookURL: url, WebhookEvents: []webhook.OutgoingEvent{"Failed"}}, []error{queue.ErrWebhookEvent}},
	}
	for _, e := range webhook.Events() {
		cases = append(cases, testCase{"event " + string(e), queue.AccountSettings{WebhookURL: url, WebhookEvents: []webhook.OutgoingEvent{e}}, nil})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.settings.Validate()
			if tc.want == nil {
				tcheck(t, err, "validate")
				return
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Fatalf("got %v, want %v", err, w)
				}
			}
		})
	}
}

// TestInvalidHookSettingsNeverBlock checks that an account's malformed
// webhook URL or secret never makes Add, FailMsgs, DeliveredMsgs or
// ProcessIncoming fail: the bookkeeping commits, the hook is skipped and
// counted.
func TestInvalidHookSettingsNeverBlock(t *testing.T) {
	for _, settings := range []queue.AccountSettings{
		{WebhookURL: "not a url", KeepRetired: 30 * 24 * time.Hour},
		{WebhookURL: "https://app.example.org/hook", WebhookSecrets: []string{"whsec_not base64"}, KeepRetired: 30 * 24 * time.Hour},
	} {
		t.Run(settings.WebhookURL, func(t *testing.T) {
			e := newInEnv(t)
			reg := prometheus.NewRegistry()
			metrics, err := queue.NewMetrics(reg)
			tcheck(t, err, "metrics")
			e.h.Metrics = metrics
			e.h.Accounts = queue.AccountsFunc(func(string) (queue.AccountSettings, bool) { return settings, true })
			store := e.h.Suppressions.(*suppression.Store)
			ctx := context.Background()

			// Delivered: the message leaves the queue.
			delivered := e.send("alice", nil, "bob@example.com")[0]
			if _, ok := getMsg(t, e.db, delivered.ID); ok {
				t.Fatalf("delivered message still queued")
			}
			icompare(t, e.retired(delivered.ID).Event, webhook.EventDelivered, "delivered event")

			// Failed for good: retired and suppressed.
			var gone queue.Msg
			err = e.db.Write(ctx, func(tx *bstore.Tx) error {
				gone = queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "gone@example.com", MessageID: "m2@example.org"}
				if _, err := e.h.Add(tx, &gone); err != nil {
					return err
				}
				_, err := e.h.FailMsgs(tx, []queue.Msg{gone}, &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Line: "user unknown"})
				return err
			})
			tcheck(t, err, "fail")
			icompare(t, e.retired(gone.ID).Event, webhook.EventFailed, "failed event")

			// Add of a suppressed recipient: retired as suppressed.
			err = e.db.Write(ctx, func(tx *bstore.Tx) error {
				_, err := e.h.Add(tx, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "gone@example.com"})
				return err
			})
			tcheck(t, err, "add suppressed")

			// A DSN about the delivered message: recorded.
			report := composeDSN(t, "<dsn1@mx.example.com>", "", []byte(origHeader), failedRcpt("bob@example.com", "5.2.2", "smtp; 552 5.2.2 mailbox full"))
			res := e.incoming("alice", "alice@example.org", report)
			icompare(t, res.Recipients[0].MsgID, delivered.ID, "report matched")
			icompare(t, e.retired(delivered.ID).Event, webhook.EventFailed, "event after the report")

			icompare(t, len(e.hooks()), 0, "hooks queued")
			// delivered, failed, suppressed at Add, failed by the report.
			icompare(t, plainCounter(t, reg, "bouncekit_queue_hooks_skipped_total"), 4.0, "hooks skipped")
			_, found, err := store.Lookup(ctx, "alice", "gone@example.com")
			tcheck(t, err, "lookup")
			icompare(t, found, true, "suppressed")
		})
	}
}

// getMsg reads a queued message.
func getMsg(t *testing.T, db *bstore.DB, id int64) (queue.Msg, bool) {
	m := queue.Msg{ID: id}
	err := db.Get(context.Background(), &m)
	if errors.Is(err, bstore.ErrAbsent) {
		return m, false
	}
	tcheck(t, err, "get")
	return m, true
}

// plainCounter returns the value of a counter without labels.
func plainCounter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	tcheck(t, err, "gather")
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
