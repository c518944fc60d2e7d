package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

type want struct {
	outcome  string
	reason   bounce.Reason
	attempts int
	dsns     string
}

// TestDemo runs the whole demo, the library end to end, and checks its
// summary: outcomes, DSNs, webhooks in order, suppressions.
func TestDemo(t *testing.T) {
	for _, tc := range []struct {
		policy         string
		dropAttempts   int
		delayedForDrop int // delayed webhooks for drop@ (one per temporary failure but the last).
	}{
		{"default", 21, 20},
		{"mox", 8, 7},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			dir := t.TempDir()
			var progress bytes.Buffer
			s, err := run(context.Background(), config{Dir: dir, Policy: tc.policy, Progress: &progress})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			checkRecipients(t, s, tc.dropAttempts)
			checkDSNs(t, s, dir)
			checkWebhooks(t, s, tc.delayedForDrop)
			checkSuppressions(t, s)

			if len(s.Incoming.Recipients) != 1 || s.Incoming.Recipients[0].Match != queue.MatchFromID || s.Incoming.Recipients[0].Event != "failed" {
				t.Errorf("incoming DSN: got %+v, want one failed recipient matched by fromid", s.Incoming.Recipients)
			}
			var out bytes.Buffer
			s.Print(&out)
			for _, w := range []string{"drop@remote.example", "delayed+failed", "Suppression list", "hardbounce", filepath.Join(dir, "Maildir")} {
				if !strings.Contains(out.String(), w) {
					t.Errorf("printed summary lacks %q:\n%s", w, out.String())
				}
			}
			if !strings.Contains(progress.String(), "failed via fromid") {
				t.Errorf("progress lacks the incoming DSN match:\n%s", progress.String())
			}
		})
	}
}

func checkRecipients(t *testing.T, s *Summary, dropAttempts int) {
	t.Helper()
	expect := map[string]want{
		rcptOK:      {"delivered", "", 1, ""},
		rcptUnknown: {"failed", bounce.ReasonUserUnknown, 1, "failed"},
		rcptFull:    {"delivered", bounce.ReasonMailboxFull, 4, ""},
		rcptListed:  {"failed", bounce.ReasonBlocked, 1, ""}, // NOTIFY=NEVER: no DSN.
		rcptDMARC:   {"failed", bounce.ReasonAuthFailure, 1, "failed"},
		rcptDrop:    {"failed", "", dropAttempts, "delayed+failed"},
		rcptPlain:   {"failed", bounce.ReasonUserUnknown, 1, "failed"},
		rcptLater:   {"failed", bounce.ReasonUserUnknown, 2, ""}, // Accepted, then a DSN.
		rcptReports: {"failed", bounce.ReasonUserUnknown, 1, "failed"},
	}
	seen := map[string]bool{}
	for _, r := range s.Recipients {
		if r.Recipient == rcptUnknown && seen[rcptUnknown] {
			// The second message to a hard-bounced address is stopped at Add.
			if r.Outcome != "suppressed" || len(r.Attempts) != 1 || len(r.DSNs) != 0 {
				t.Errorf("second message to %s: got %+v, want suppressed without DSN", r.Recipient, r)
			}
			continue
		}
		seen[r.Recipient] = true
		if r.Recipient == rcptGrey {
			// Greylisted once: retried after the short greylist delay, delivered.
			if r.Outcome != "delivered" || len(r.Attempts) != 2 {
				t.Errorf("%s: got %+v, want delivered on the second attempt", r.Recipient, r)
			}
			continue
		}
		w, ok := expect[r.Recipient]
		if !ok {
			t.Errorf("unexpected recipient %q", r.Recipient)
			continue
		}
		got := want{string(r.Outcome), r.Reason, len(r.Attempts), strings.Join(r.DSNs, "+")}
		if w.reason == "" {
			got.reason = ""
		}
		if got != w {
			t.Errorf("%s: got %+v, want %+v (attempts %v)", r.Recipient, got, w, r.Attempts)
		}
	}
	if len(s.Recipients) != len(expect)+2 {
		t.Errorf("got %d retired messages, want %d", len(s.Recipients), len(expect)+2)
	}
}

func checkDSNs(t *testing.T, s *Summary, dir string) {
	t.Helper()
	if len(s.DSNs) != 6 {
		t.Errorf("got %d DSNs, want 6: %+v", len(s.DSNs), s.DSNs)
	}
	var report *DSNSummary
	for i, d := range s.DSNs {
		if d.Account == "postmaster" {
			report = &s.DSNs[i]
		}
	}
	if report == nil || report.Mailbox != "dmarc" || !report.Seen || report.Kind != queue.DSNFailed {
		t.Errorf("DMARC report DSN: got %+v, want a seen failure DSN in postmaster's dmarc mailbox", report)
	}
	inbox, err := os.ReadDir(filepath.Join(dir, "Maildir", "alice", "new"))
	if err != nil || len(inbox) != 5 {
		t.Fatalf("alice's Maildir new/: %d files, err %v; want 5", len(inbox), err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "Maildir", "alice", "new", inbox[0].Name()))
	if err != nil || !bytes.Contains(data, []byte("multipart/report")) || !bytes.Contains(data, []byte("Final-Recipient:")) {
		t.Errorf("first DSN in Maildir is not a delivery status report (err %v):\n%s", err, data)
	}
	seen, err := os.ReadDir(filepath.Join(dir, "Maildir", "postmaster", ".dmarc", "cur"))
	if err != nil || len(seen) != 1 || !strings.HasSuffix(seen[0].Name(), ":2,S") {
		t.Errorf("postmaster's dmarc mailbox: %v, err %v; want one seen message", seen, err)
	}
}

func checkWebhooks(t *testing.T, s *Summary, delayedForDrop int) {
	t.Helper()
	if len(s.Rejected) != 0 {
		t.Errorf("receiver refused requests: %v", s.Rejected)
	}
	if s.WebhookRequests != len(s.Webhooks)+1 {
		t.Errorf("got %d requests for %d hooks, want exactly one retried request", s.WebhookRequests, len(s.Webhooks))
	}
	type ev struct {
		event webhook.OutgoingEvent
		rcpt  string
	}
	var got []ev
	ids := map[string]bool{}
	for _, h := range s.Webhooks {
		got = append(got, ev{h.Event, h.Payload.Recipient})
		if ids[h.ID] {
			t.Errorf("webhook-id %s received twice", h.ID)
		}
		ids[h.ID] = true
	}
	// Per recipient, the order of its events.
	perRcpt := map[string][]webhook.OutgoingEvent{}
	for _, e := range got {
		perRcpt[e.rcpt] = append(perRcpt[e.rcpt], e.event)
	}
	drop := make([]webhook.OutgoingEvent, 0, delayedForDrop+1)
	for i := 0; i < delayedForDrop; i++ {
		drop = append(drop, webhook.EventDelayed)
	}
	drop = append(drop, webhook.EventFailed)
	expect := map[string][]webhook.OutgoingEvent{
		rcptOK:      {webhook.EventDelivered},
		rcptUnknown: {webhook.EventFailed, webhook.EventSuppressed},
		rcptFull:    {webhook.EventDelayed, webhook.EventDelayed, webhook.EventDelayed, webhook.EventDelivered},
		rcptGrey:    {webhook.EventDelayed, webhook.EventDelivered},
		rcptListed:  {webhook.EventFailed},
		rcptDMARC:   {webhook.EventFailed},
		rcptDrop:    drop,
		rcptPlain:   {webhook.EventFailed},
		rcptLater:   {webhook.EventDelivered, webhook.EventFailed},
	}
	if !reflect.DeepEqual(perRcpt, expect) {
		t.Errorf("webhook events per recipient:\ngot  %v\nwant %v", perRcpt, expect)
	}
	// The application's first request failed with 503: delivered@ok was
	// the first event and arrives after the retry; everything else keeps
	// its order.
	if len(got) < 2 || got[0] != (ev{webhook.EventFailed, rcptUnknown}) {
		t.Errorf("first webhook received: got %v, want failed for %s", got[:1], rcptUnknown)
	}
	for _, h := range s.Webhooks {
		p := h.Payload
		if p.Event == webhook.EventFailed && p.Recipient == rcptLater && (!p.DSN || !p.Suppressing) {
			t.Errorf("failed webhook from the incoming DSN: DSN %v, Suppressing %v; want both", p.DSN, p.Suppressing)
		}
		if p.Event == webhook.EventFailed && p.Recipient == rcptListed && p.Suppressing {
			t.Errorf("a blocklist rejection must not suppress the recipient")
		}
	}
}

func checkSuppressions(t *testing.T, s *Summary) {
	t.Helper()
	type entry struct {
		account, address string
		category         suppression.Category
		source           suppression.Source
	}
	got := map[entry]bool{}
	for _, e := range s.Suppressions {
		got[entry{e.Account, e.BaseAddress, e.Category, e.Source}] = true
	}
	expect := map[entry]bool{
		{"alice", rcptUnknown, suppression.CategoryHardBounce, suppression.SourceQueue}:      true,
		{"alice", rcptPlain, suppression.CategoryHardBounce, suppression.SourceQueue}:        true,
		{"alice", rcptLater, suppression.CategoryHardBounce, suppression.SourceDSN}:          true,
		{"postmaster", rcptReports, suppression.CategoryHardBounce, suppression.SourceQueue}: true,
	}
	if !reflect.DeepEqual(got, expect) {
		t.Errorf("suppression list:\ngot  %v\nwant %v", got, expect)
	}
}
