package queue_test

import (
	"context"
	"errors"
	"github.com/bouncekit/bouncekit/bounce"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
)

// TestDSNEligibility fails a message at every attempt of MoxPolicy (the
// delayed DSN due from the 5th failure on, give up after the 8th) and counts
// the DSNs FailMsgs queues: which messages may get a DSN of which kind is
// decided by the Handler, not the retry policy.
func TestDSNEligibility(t *testing.T) {
	p := queue.MoxPolicy()
	p.Jitter = -1 // No jitter.
	plan := p.Plan(t0, 0)
	cases := []struct {
		name            string
		edit            func(m *queue.Msg)
		delayed, failed int
	}{
		{"notify not given", func(m *queue.Msg) {}, 1, 1},
		{"notify delay", func(m *queue.Msg) { m.Notify = dsn.NotifyDelay }, 1, 0},
		{"notify failure,delay", func(m *queue.Msg) { m.Notify = "FAILURE,DELAY" }, 1, 1},
		{"notify success,failure", func(m *queue.Msg) { m.Notify = "SUCCESS,FAILURE" }, 0, 1},
		{"notify failure", func(m *queue.Msg) { m.Notify = dsn.NotifyFailure }, 0, 1},
		{"notify success", func(m *queue.Msg) { m.Notify = dsn.NotifySuccess }, 0, 0},
		{"notify never", func(m *queue.Msg) { m.Notify = dsn.NotifyNever }, 0, 0},
		{"delayed dsn already sent", func(m *queue.Msg) { m.DelayedDSNSent = true }, 0, 1},
		// Report failures go to the postmaster; no delay notices.
		{"dmarc report", func(m *queue.Msg) { m.IsDMARCReport = true }, 0, 1},
		{"tls report", func(m *queue.Msg) { m.IsTLSReport = true }, 0, 1},
		{"message is a dsn", func(m *queue.Msg) { m.IsDSN = true }, 0, 0},
		{"null sender", func(m *queue.Msg) { m.SenderAddress = "" }, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, p)
			m := e.add(tc.edit, "bob@example.com")[0]
			var delayed, failed int
			for i, pa := range plan {
				e.clock.Set(pa.At)
				o := e.fail([]queue.Msg{m}, tempErr())[0]
				switch o.DSN {
				case queue.DSNDelayed:
					delayed++
					tcompare(t, i, 4, "attempt of the delayed dsn")
				case queue.DSNFailed:
					failed++
					tcompare(t, o.Result, queue.ResultFailed, "result with failure dsn")
				}
			}
			tcompare(t, delayed, tc.delayed, "delayed dsns")
			tcompare(t, failed, tc.failed, "failure dsns")
			tcompare(t, len(e.outbox()), tc.delayed+tc.failed, "outbox")
		})
	}
}

// TestFailMsgsGreylistOnce checks that the Handler gives the policy the
// message's greylisting history: the short greylisting retry once, then the
// schedule.
func TestFailMsgsGreylistOnce(t *testing.T) {
	p := queue.DefaultPolicy()
	p.Jitter = -1 // No jitter.
	e := newEnv(t, p)
	m := e.add(nil, "bob@example.com")[0]
	grey := &bounce.SMTPError{Code: 450, EnhancedCode: bounce.EnhancedCode{4, 2, 0}, Stage: bounce.StageRcpt, Line: "<bob@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html"}

	o := e.fail([]queue.Msg{m}, grey)[0]
	tcompare(t, o.NextAttempt, t0.Add(5*time.Minute), "after first greylisting reply")

	e.clock.Set(o.NextAttempt)
	o = e.fail([]queue.Msg{m}, grey)[0]
	// The schedule's second delay: 15 minutes.
	tcompare(t, o.NextAttempt, t0.Add(5*time.Minute+15*time.Minute), "after second greylisting reply")
}

// TestAddNotifyRet checks that Add refuses a NOTIFY or RET that is not in
// the canonical form of package dsn, with an error naming it, and stores
// nothing.
func TestAddNotifyRet(t *testing.T) {
	cases := []struct {
		name   string
		notify dsn.Notify
		ret    dsn.Ret
		target error  // Nil: accepted.
		text   string // Part of the error.
	}{
		{name: "not given"},
		{name: "canonical", notify: "SUCCESS,FAILURE,DELAY", ret: dsn.RetFull},
		{name: "never, hdrs", notify: dsn.NotifyNever, ret: dsn.RetHeaders},
		{name: "unknown keyword", notify: "FAILURE,WARN", target: dsn.ErrNotify, text: `queue: invalid message: dsn: invalid notify "FAILURE,WARN": unknown keyword "WARN"`},
		{name: "never combined", notify: "NEVER,DELAY", target: dsn.ErrNotify, text: "NEVER combined with other keywords"},
		{name: "lower case", notify: "failure,delay", target: dsn.ErrNotify, text: `"failure,delay": not in canonical form "FAILURE,DELAY"`},
		{name: "order", notify: "DELAY,FAILURE", target: dsn.ErrNotify, text: `not in canonical form "FAILURE,DELAY"`},
		{name: "bad ret", ret: "HEADERS", target: dsn.ErrRet, text: `queue: invalid message: dsn: invalid ret "HEADERS": want "FULL", "HDRS" or empty`},
		{name: "lower case ret", ret: "full", target: dsn.ErrRet, text: `invalid ret "full"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, queue.RetryPolicy{})
			m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com", Notify: tc.notify, Ret: tc.ret}
			err := e.write(func(tx *bstore.Tx) error {
				_, err := e.h.Add(tx, m)
				return err
			})
			n, cerr := bstore.QueryDB[queue.Msg](context.Background(), e.db).Count()
			tcheck(t, cerr, "count")
			if tc.target == nil {
				tcheck(t, err, "add")
				got, ok := e.get(m.ID)
				tcompare(t, ok, true, "stored")
				tcompare(t, [2]string{string(got.Notify), string(got.Ret)}, [2]string{string(tc.notify), string(tc.ret)}, "notify and ret")
				return
			}
			if !errors.Is(err, queue.ErrBadMsg) || !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v, want error wrapping ErrBadMsg and %v containing %q", err, tc.target, tc.text)
			}
			tcompare(t, n, 0, "messages stored")
		})
	}
}
