package queue

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/plantest"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/webhook"
)

// The plan tests run each query on a database where one account has
// planHistory retired and queued messages, so a query that scans the
// account's index instead of the identifier's reads thousands of records.
// plantest runs each case plantest.Runs times, so a plan bstore picks by
// map order cannot pass by luck.
const planHistory = 2000

var planNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// planDB returns a database with planHistory retired messages of account
// "big" (IDs 1 to planHistory, FromID f<i>, EnvID e<i>, Message-ID
// m<i>@example.org, recipient r<i%100>@example.com), a submission to five
// recipients (IDs 5001-5005, Message-ID sub@example.org), planHistory
// queued messages of "big" due in a day and three due now, ten expired
// retired messages, and planHistory IncomingSeen records plus ten expired.
func planDB(t *testing.T) *bstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := bstore.Open(ctx, filepath.Join(t.TempDir(), "plan.db"), nil, DBTypes()...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	retired := func(id int64) MsgRetired {
		return MsgRetired{
			ID:               id,
			BaseID:           id,
			Queued:           planNow.Add(-time.Hour),
			SenderAccount:    "big",
			SenderAddress:    "big@example.org",
			FromID:           fmt.Sprintf("f%d", id),
			RecipientAddress: fmt.Sprintf("r%d@example.com", id%100),
			RecipientDomain:  "example.com",
			MessageID:        fmt.Sprintf("m%d@example.org", id),
			EnvID:            fmt.Sprintf("e%d", id),
			Event:            webhook.EventDelivered,
			Success:          true,
			LastActivity:     planNow.Add(time.Duration(id-planHistory) * time.Second),
			KeepUntil:        planNow.Add(30 * 24 * time.Hour),
		}
	}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		for i := int64(1); i <= planHistory; i++ {
			r := retired(i)
			if err := tx.Insert(&r); err != nil {
				return err
			}
		}
		for i := int64(5001); i <= 5005; i++ {
			r := retired(i)
			r.BaseID = 5001
			r.MessageID = "sub@example.org"
			r.EnvID = "subenv"
			r.RecipientAddress = fmt.Sprintf("sub%d@example.com", i)
			if err := tx.Insert(&r); err != nil {
				return err
			}
		}
		for i := int64(6001); i <= 6010; i++ {
			r := retired(i)
			r.KeepUntil = planNow.Add(-time.Minute)
			r.RecipientAddress = "expired@example.com"
			if err := tx.Insert(&r); err != nil {
				return err
			}
		}
		for i := int64(10001); i <= 10000+planHistory+3; i++ {
			next := planNow.Add(24 * time.Hour)
			if i > 10000+planHistory {
				next = planNow.Add(-time.Minute)
			}
			m := Msg{
				ID:               i,
				BaseID:           i,
				SenderAccount:    "big",
				SenderAddress:    "big@example.org",
				FromID:           fmt.Sprintf("q%d", i),
				RecipientAddress: fmt.Sprintf("r%d@example.com", i%100),
				RecipientDomain:  "example.com",
				MessageID:        fmt.Sprintf("m%d@example.org", i),
				NextAttempt:      next,
			}
			if err := tx.Insert(&m); err != nil {
				return err
			}
		}
		for i := range planHistory + 10 {
			keep := planNow.Add(time.Hour)
			if i >= planHistory {
				keep = planNow.Add(-time.Hour)
			}
			s := IncomingSeen{Key: fmt.Sprintf("k%d", i), Received: planNow, KeepUntil: keep}
			if err := tx.Insert(&s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seeding: %v", err)
	}
	return db
}

func TestQueryPlanMatching(t *testing.T) {
	db := planDB(t)
	h := &Handler{Now: func() time.Time { return planNow }}
	run := func(tx *bstore.Tx) *incomingRun {
		return &incomingRun{h: h, tx: tx, account: "big", now: planNow}
	}
	// want checks a lookup found n candidates; a query that used a wrong
	// filter would find others.
	want := func(l []*candidate, n int, err error) error {
		if err == nil && len(l) != n {
			err = fmt.Errorf("found %d candidates, want %d", len(l), n)
		}
		return err
	}
	cases := []plantest.Case{
		{Name: "loadBy FromID", Run: func(tx *bstore.Tx) error {
			l, err := run(tx).loadBy("big", MsgRetired{FromID: "f1234"}, Msg{FromID: "f1234"})
			return want(l, 1, err)
		}, Type: "Msg", Index: "FromID", Plan: plantest.Index, MaxReads: 8},
		{Name: "loadBy FromID other account", Run: func(tx *bstore.Tx) error {
			l, err := run(tx).loadBy("other", MsgRetired{FromID: "f1234"}, Msg{FromID: "f1234"})
			return want(l, 0, err)
		}, Type: "Msg", Index: "FromID", Plan: plantest.Index, MaxReads: 8},
		{Name: "loadBy EnvID", Run: func(tx *bstore.Tx) error {
			l, err := run(tx).loadBy("big", MsgRetired{EnvID: "e77"}, Msg{EnvID: "e77"})
			return want(l, 1, err)
		}, Type: "Msg", Index: "EnvID", Plan: plantest.Index, MaxReads: 8},
		{Name: "loadBy MessageID", Run: func(tx *bstore.Tx) error {
			l, err := run(tx).loadBy("big", MsgRetired{MessageID: "sub@example.org"}, Msg{MessageID: "sub@example.org"})
			return want(l, 5, err)
		}, Type: "Msg", Index: "MessageID", Plan: plantest.Index, MaxReads: 20},
		{Name: "loadSubmission BaseID", Run: func(tx *bstore.Tx) error {
			p := run(tx)
			l, err := p.loadBy("big", MsgRetired{FromID: "f5003"}, Msg{FromID: "f5003"})
			if err != nil {
				return err
			}
			p.byFromID = l
			if err := p.loadSubmission(); err != nil {
				return err
			}
			return want(p.byFromID, 5, nil)
		}, Type: "Msg", Index: "BaseID", Plan: plantest.Index, MaxReads: 30},
		{Name: "soleRecipient", Run: func(tx *bstore.Tx) error {
			r := MsgRetired{ID: 5001, BaseID: 5001, SenderAccount: "big", Queued: planNow.Add(-time.Hour)}
			alone, err := run(tx).soleRecipient(r)
			if err == nil && alone {
				err = fmt.Errorf("submission of five taken as alone")
			}
			return err
		}, Type: "MsgRetired", Index: "BaseID", Plan: plantest.Index, MaxReads: 8},
		{Name: "complaint recipient lookup", Run: func(tx *bstore.Tx) error {
			c, m, err := run(tx).matchFeedback("r7@example.com")
			if err == nil && (c == nil || m != MatchRecipient || c.r.ID != planHistory-93) {
				err = fmt.Errorf("match %v %v, want the newest message to r7", c, m)
			}
			return err
		}, Type: "MsgRetired", Index: "RecipientAddress", Plan: plantest.Index, MaxReads: 8},
		{Name: "fromIDUsed retired", Run: func(tx *bstore.Tx) error {
			used, err := fromIDUsed(tx, "f42")
			if err == nil && !used {
				err = fmt.Errorf("fromid f42 not found")
			}
			return err
		}, Type: "MsgRetired", Index: "FromID", Plan: plantest.Index, MaxReads: 8},
		{Name: "fromIDUsed new", Run: func(tx *bstore.Tx) error {
			used, err := fromIDUsed(tx, "nothere")
			if err == nil && used {
				err = fmt.Errorf("unused fromid found")
			}
			return err
		}, Type: "MsgRetired", Index: "FromID", Plan: plantest.Index, MaxReads: 8},
		{Name: "loadHistory", Run: func(tx *bstore.Tx) error {
			hist, err := loadHistory(tx, "big", "r7@example.com", 0)
			if err == nil && len(hist) != min(historyLimit, planHistory/100) {
				err = fmt.Errorf("history of %d, want %d", len(hist), min(historyLimit, planHistory/100))
			}
			return err
		}, Type: "MsgRetired", Index: "RecipientAddress", Plan: plantest.Index, MaxReads: 2*historyLimit + 8},
		{Name: "seen", Run: func(tx *bstore.Tx) error {
			ok, err := seen(tx, "k5")
			if err == nil && !ok {
				err = fmt.Errorf("key not seen")
			}
			return err
		}, Plan: plantest.Any, MaxReads: 4},
		{Name: "cleanupSeen", Run: func(tx *bstore.Tx) error {
			_, err := cleanupSeen(tx, planNow)
			return err
		}, Type: "IncomingSeen", Index: "KeepUntil", Plan: plantest.Index, MaxReads: 40},
	}
	plantest.Check(t, db, cases)
}

func TestQueryPlanProcessIncoming(t *testing.T) {
	db := planDB(t)
	h := &Handler{Now: func() time.Time { return planNow }}
	report := func(id, envID string, orig string, rcpt string) []byte {
		m := dsn.Message{
			From:               "MAILER-DAEMON@mx.example.com",
			To:                 "big@example.org",
			Subject:            "Undelivered Mail Returned to Sender",
			MessageID:          id,
			Date:               planNow,
			TextBody:           "Your message could not be delivered.\n",
			OriginalEnvelopeID: envID,
			ReportingMTA:       "mx.example.com",
			Recipients:         []dsn.Recipient{{FinalRecipient: rcpt, Action: dsn.ActionFailed, Status: "5.1.1", DiagnosticCode: "550 5.1.1 user unknown"}},
			Ret:                dsn.RetHeaders,
		}
		if orig != "" {
			m.Original = []byte("From: big@example.org\r\nTo: " + rcpt + "\r\nSubject: hi\r\nMessage-ID: <" + orig + ">\r\n\r\n")
		}
		var b bytes.Buffer
		if err := m.Compose(&b); err != nil {
			t.Fatalf("compose: %v", err)
		}
		return b.Bytes()
	}
	incoming := func(rcptTo string, msg []byte, want Match) func(tx *bstore.Tx) error {
		return func(tx *bstore.Tx) error {
			res, err := h.ProcessIncoming(tx, "big", rcptTo, msg)
			if err != nil {
				return err
			}
			if len(res.Recipients) != 1 || res.Recipients[0].Match != want {
				return fmt.Errorf("result %+v, want one recipient matched by %v", res.Recipients, want)
			}
			return nil
		}
	}
	// A call runs many queries (their plans are checked one by one
	// above); the reads bound the whole call.
	cases := []plantest.Case{
		{Name: "by FromID", Run: incoming("big+f1234@example.org", report("<d1@mx>", "", "", "r34@example.com"), MatchFromID), Plan: plantest.Any, MaxReads: 40},
		{Name: "by FromID, recipient of a submission", Run: incoming("big+f5001@example.org", report("<d2@mx>", "", "", "sub5004@example.com"), MatchFromID), Plan: plantest.Any, MaxReads: 60},
		{Name: "by ENVID", Run: incoming("big@example.org", report("<d3@mx>", "e1500", "", "r0@example.com"), MatchEnvID), Plan: plantest.Any, MaxReads: 40},
		{Name: "by Message-ID", Run: incoming("big@example.org", report("<d4@mx>", "", "m1500@example.org", "r0@example.com"), MatchMessageID), Plan: plantest.Any, MaxReads: 40},
		{Name: "unmatched", Run: incoming("big@example.org", report("<d5@mx>", "nothere", "nothere@example.org", "x@example.com"), MatchNone), Plan: plantest.Any, MaxReads: 40},
	}
	plantest.Check(t, db, cases)
}

func TestQueryPlanQueue(t *testing.T) {
	db := planDB(t)
	cases := []plantest.Case{
		{Name: "due", Run: func(tx *bstore.Tx) error {
			b, err := due(tx, planNow, 100)
			if err == nil && len(b) != 3 {
				err = fmt.Errorf("%d batches due, want 3", len(b))
			}
			return err
		}, Type: "Msg", Index: "NextAttempt+ID", Plan: plantest.Index, MaxReads: 10},
		{Name: "NextDue", Run: func(tx *bstore.Tx) error {
			_, ok, err := NextDue(tx)
			if err == nil && !ok {
				err = fmt.Errorf("nothing due")
			}
			return err
		}, Type: "Msg", Index: "NextAttempt+ID", Plan: plantest.Index, MaxReads: 4},
		{Name: "CleanupRetired", Run: func(tx *bstore.Tx) error {
			n, err := CleanupRetired(tx, planNow)
			if err == nil && n != 10 {
				err = fmt.Errorf("removed %d, want 10", n)
			}
			return err
		}, Type: "MsgRetired", Index: "KeepUntil", Plan: plantest.Index, MaxReads: 40},
		{Name: "ListRetired account", Run: func(tx *bstore.Tx) error {
			l, next, err := ListRetired(tx, RetiredFilter{Account: "big"}, paging.Page{Limit: 20, Newest: true})
			if err == nil && (len(l) != 20 || next == 0) {
				err = fmt.Errorf("page of %d, next %d", len(l), next)
			}
			return err
		}, Type: "MsgRetired", Index: "SenderAccount", Plan: plantest.Index, MaxReads: 50},
		// A later page steps over the newer messages (see ListRetired).
		{Name: "ListRetired account, second page", Run: func(tx *bstore.Tx) error {
			l, _, err := ListRetired(tx, RetiredFilter{Account: "big"}, paging.Page{After: planHistory - 20, Limit: 20, Newest: true})
			if err == nil && (len(l) != 20 || l[0].ID != planHistory-21) {
				err = fmt.Errorf("page of %d from the cursor wrong", len(l))
			}
			return err
		}, Type: "MsgRetired", Index: "SenderAccount", Plan: plantest.Index, MaxReads: 130},
		{Name: "ListRetired account and recipient", Run: func(tx *bstore.Tx) error {
			l, _, err := ListRetired(tx, RetiredFilter{Account: "big", Recipient: "r7@example.com"}, paging.Page{Limit: 5, Newest: true})
			if err == nil && (len(l) != 5 || l[0].ID != planHistory-93) {
				err = fmt.Errorf("page of %d wrong", len(l))
			}
			return err
		}, Type: "MsgRetired", Index: "RecipientAddress", Plan: plantest.Index, MaxReads: 2*planHistory/100 + 8},
		{Name: "ListRetired no filter, cursor", Run: func(tx *bstore.Tx) error {
			l, _, err := ListRetired(tx, RetiredFilter{}, paging.Page{After: 1000, Limit: 20, Newest: true})
			if err == nil && (len(l) != 20 || l[0].ID != 999) {
				err = fmt.Errorf("page of %d from the cursor 1000 wrong", len(l))
			}
			return err
		}, Type: "MsgRetired", Plan: plantest.PKScan, MaxReads: 30},
		{Name: "MsgFilter account and recipient", Run: func(tx *bstore.Tx) error {
			n, err := MsgFilter{Account: "big", Recipient: "r7@example.com"}.query(tx).Count()
			if err == nil && n != planHistory/100 {
				err = fmt.Errorf("%d messages, want %d", n, planHistory/100)
			}
			return err
		}, Type: "Msg", Index: "RecipientAddress", Plan: plantest.Index, MaxReads: 2*planHistory/100 + 8},
		{Name: "MsgFilter base and account", Run: func(tx *bstore.Tx) error {
			n, err := MsgFilter{Account: "big", BaseID: 10007}.query(tx).Count()
			if err == nil && n != 1 {
				err = fmt.Errorf("%d messages, want 1", n)
			}
			return err
		}, Type: "Msg", Index: "BaseID", Plan: plantest.Index, MaxReads: 8},
	}
	plantest.Check(t, db, cases)
}

// TestQueryPlanFromIDStops checks that a FromID match reads the rest of
// the FromID's submission only when the report is about another recipient
// of it.
func TestQueryPlanFromIDStops(t *testing.T) {
	db := planDB(t)
	h := &Handler{Now: func() time.Time { return planNow }}
	for _, c := range []struct {
		rcpt     string
		wantID   int64
		wantRead bool
	}{
		{"sub5001@example.com", 5001, false},
		{"sub5004@example.com", 5004, true},
	} {
		err := db.Read(context.Background(), func(tx *bstore.Tx) error {
			p := &incomingRun{h: h, tx: tx, account: "big", now: planNow, rep: &incomingReport{}}
			if err := p.loadFromID("big+f5001@example.org"); err != nil {
				return err
			}
			cand, m, _, err := p.match(reportRcpt{address: c.rcpt})
			if err != nil {
				return err
			}
			if cand == nil || m != MatchFromID || cand.r.ID != c.wantID || p.submissionLoaded != c.wantRead {
				return fmt.Errorf("match %v by %v, submission read %v; want message %d by fromid, submission read %v", cand, m, p.submissionLoaded, c.wantID, c.wantRead)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", c.rcpt, err)
		}
	}
}
