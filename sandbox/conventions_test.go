package sandbox

import (
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/webhook"
)

// TestConventionWebhooks submits a message to each convention through the
// submission listener and checks the webhooks the application receives.
func TestConventionWebhooks(t *testing.T) {
	type step struct {
		stall bool // Wait for the stall, then move the clock past the client's timeout.
		later bool // Move the clock by the later-report delay.
		due   bool // Move the clock to the next due attempt.

		wantDelay time.Duration // With due: how far the clock moved.
		want      hookWant
	}
	delivered := hookWant{event: webhook.EventDelivered, code: 250, ec: "2.0.0", reason: "delivered"}
	for _, tc := range []struct {
		name  string
		from  string
		rcpt  string
		steps []step
	}{
		{"accept", "", "bob@remote.example", []step{{want: delivered}}},
		{"temperror", "", "bob-temperror@remote.example", []step{
			{want: hookWant{event: webhook.EventDelayed, code: 451, ec: "4.0.0", reason: "systemerror"}},
		}},
		{"permerror", "", "bob-permerror@remote.example", []step{
			{want: hookWant{event: webhook.EventFailed, code: 550, ec: "5.0.0", reason: "undefined"}},
		}},
		{"code", "", "bob550@remote.example", []step{
			{want: hookWant{event: webhook.EventFailed, code: 550, ec: "5.0.0", reason: "undefined"}},
		}},
		{"code and enhanced code at rcpt", "", "rcpttobob550-5.1.1@remote.example", []step{
			{want: hookWant{event: webhook.EventFailed, code: 550, ec: "5.1.1", reason: "userunknown", suppressing: true}},
		}},
		{"temporary code", "", "bob452-4.2.2@remote.example", []step{
			{want: hookWant{event: webhook.EventDelayed, code: 452, ec: "4.2.2", reason: "mailboxfull"}},
		}},
		{"mailbox full", "", "bob-mailboxfull@remote.example", []step{
			{want: hookWant{event: webhook.EventFailed, code: 552, ec: "5.2.2", reason: "mailboxfull"}},
		}},
		// The sender's localpart chooses a refusal of MAIL FROM: about the
		// sender, so the recipient is not suppressed.
		{"sender at mail from", "mailfrom550@app.example", "bob@remote.example", []step{
			{want: hookWant{event: webhook.EventFailed, code: 550, ec: "5.0.0", reason: "undefined"}},
		}},
		{"timeout after data", "", "bob-timeout@remote.example", []step{
			{stall: true, want: hookWant{event: webhook.EventDelayed, reason: "networkerror", errorHas: "timeout"}},
		}},
		{"timeout at rcpt", "", "rcpttobob-timeout@remote.example", []step{
			{stall: true, want: hookWant{event: webhook.EventDelayed, reason: "networkerror", errorHas: "timeout"}},
		}},
		{"timeout at mail from", "mailfromtimeout@app.example", "bob@remote.example", []step{
			{stall: true, want: hookWant{event: webhook.EventDelayed, reason: "networkerror", errorHas: "timeout"}},
		}},
		{"greylist", "", "rcpttobob-greylist@remote.example", []step{
			{want: hookWant{event: webhook.EventDelayed, code: 451, ec: "4.7.1", reason: "onhold"}},
			// The policy's short retry after greylisting.
			{due: true, wantDelay: 5 * time.Minute, want: delivered},
		}},
		{"async dsn", "", "bob-asyncdsn@remote.example", []step{
			{want: delivered},
			{later: true, want: hookWant{event: webhook.EventFailed, code: 550, ec: "5.1.1", reason: "userunknown", dsn: true, suppressing: true}},
		}},
		{"complaint", "", "bob-complaint@remote.example", []step{
			{want: delivered},
			{later: true, want: hookWant{event: webhook.EventComplained, reason: "feedback", suppressing: true}},
		}},
		{"auto-reply", "", "bob-autoreply@remote.example", []step{
			{want: delivered},
			{later: true, want: hookWant{event: webhook.EventUnrecognized, reason: "vacation"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			from := tc.from
			if from == "" {
				from = "app@app.example"
			}
			h.submit(from, []string{tc.rcpt}, "env-1")
			for i, s := range tc.steps {
				switch {
				case s.stall:
					h.waitEvent(EventStall, "")
					h.advance(testTimeouts.DataEnd)
				case s.later:
					h.advance(DefaultLaterDelay)
				case s.due:
					if d := h.toDue(); s.wantDelay != 0 && d != s.wantDelay {
						t.Errorf("retry after %v, want %v", d, s.wantDelay)
					}
				}
				o := h.nextHook(tc.rcpt)
				t.Logf("step %d: %s %d %s %s dsn=%v: %s", i, o.Event, o.SMTPCode, o.SMTPEnhancedCode, o.Reason, o.DSN, o.Error)
				h.checkHook(o, s.want)
			}
		})
	}
}
