package crashtest

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/internal/workload"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/suppression"
)

// TestIncomingSiblingBug is the regression test for what the crash
// workload found: a submission to two recipients; the first is delivered
// and then bounces later, the second is still queued. The DSN names the
// first recipient and returns the original's Message-ID. It must never be
// recorded on the second recipient's message or suppress its address.
//
// With KeepRetired negative the delivered message is gone, so the
// Message-ID lookup finds only the queued sibling; the sole-recipient
// fallback (for aliases and forwards) must not take it, as its submission
// had another recipient.
func TestIncomingSiblingBug(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep time.Duration
		bug  string
	}{
		{"keep retired", 24 * time.Hour, ""},
		{"keep none", -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bug != "" {
				t.Skip(tc.bug)
			}
			ctx := context.Background()
			db, err := workload.OpenDB(ctx, filepath.Join(t.TempDir(), "q.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			clock := queuetest.NewClock(workload.ClockStart())
			h := workload.Handler(db, clock, hostname, map[string]queue.AccountSettings{"acc": {KeepRetired: tc.keep}}, "")
			supp := h.Suppressions.(*suppression.Store)
			const bounced, sibling = "late-1@a.example", "temp2-6@b.example"
			var msgs []*queue.Msg
			err = db.Write(ctx, func(tx *bstore.Tx) error {
				for _, rcpt := range []string{bounced, sibling} {
					msgs = append(msgs, &queue.Msg{SenderAccount: "acc", SenderAddress: "acc@sender.example", RecipientAddress: rcpt, MessageID: "sub1@sender.example"})
				}
				if _, err := h.Add(tx, msgs...); err != nil {
					return err
				}
				_, err := h.DeliveredMsgs(tx, []queue.Msg{*msgs[0]}, queue.Delivery{Code: 250})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			report := &dsn.Message{
				From:         "MAILER-DAEMON@mx.remote.example",
				To:           "acc@sender.example",
				MessageID:    "bounce-1@mx.remote.example",
				Date:         clock.Now(),
				ReportingMTA: "mx.remote.example",
				Recipients: []dsn.Recipient{{
					FinalRecipient: bounced,
					Action:         dsn.ActionFailed,
					Status:         "5.1.1",
					DiagnosticType: "smtp",
					DiagnosticCode: "550 5.1.1 mailbox does not exist",
				}},
				Original: []byte(workload.Header("acc@sender.example", bounced, "", "sub1@sender.example")),
				Ret:      dsn.RetHeaders,
			}
			var buf bytes.Buffer
			if err := report.Compose(&buf); err != nil {
				t.Fatal(err)
			}
			var res queue.IncomingResult
			err = db.Write(ctx, func(tx *bstore.Tx) (err error) {
				res, err = h.ProcessIncoming(tx, "acc", "acc@sender.example", buf.Bytes())
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range res.Recipients {
				if o.MsgID == msgs[1].ID {
					t.Errorf("dsn about %s matched message %d to %s (%s)", bounced, o.MsgID, sibling, o.Match)
				}
			}
			err = db.Read(ctx, func(tx *bstore.Tx) error {
				m := queue.Msg{ID: msgs[1].ID}
				if err := tx.Get(&m); err != nil {
					return err
				}
				if len(m.Results) != 0 {
					t.Errorf("queued sibling got results %+v", m.Results)
				}
				if _, ok, err := supp.LookupTx(tx, "acc", sibling, clock.Now()); err != nil {
					return err
				} else if ok {
					t.Errorf("sibling %s was suppressed", sibling)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
