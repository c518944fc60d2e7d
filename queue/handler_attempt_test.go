package queue_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/webhook"
)

// attempted runs Handler.Attempted in a transaction of its own.
func (e *env) attempted(results ...queue.AttemptResult) []queue.Outcome {
	e.t.Helper()
	var out []queue.Outcome
	err := e.write(func(tx *bstore.Tx) error {
		var err error
		out, err = e.h.Attempted(tx, results)
		return err
	})
	tcheck(e.t, err, "attempted")
	return out
}

func failedAt(m queue.Msg, err error) queue.AttemptResult {
	return queue.AttemptResult{Msg: m, Status: queue.AttemptFailed, Err: err}
}

func deliveredOK(m queue.Msg) queue.AttemptResult {
	return queue.AttemptResult{Msg: m, Status: queue.AttemptDelivered, Delivery: queue.Delivery{Code: 250, EnhancedCode: bounce.EnhancedCode{2, 0, 0}, Line: "ok queued"}}
}

func notTried(m queue.Msg) queue.AttemptResult {
	return queue.AttemptResult{Msg: m, Status: queue.AttemptNotTried}
}

func rcptRefused(addr string) error {
	return &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "<" + addr + ">: Recipient address rejected: User unknown"}
}

// dsnRecipients returns, per composed DSN, its kind and recipients.
func (e *env) dsnRecipients() []string {
	var l []string
	for _, r := range e.composer.Requests {
		s := string(r.Kind) + ":"
		for i, rc := range r.Recipients {
			if i > 0 {
				s += ","
			}
			s += rc.Msg.RecipientAddress
		}
		l = append(l, s)
	}
	return l
}

// TestAttemptedMixed applies one transaction of one submission: two
// recipients refused at RCPT TO, one delivered, one not tried. The sender
// gets one failure DSN naming both refused recipients, the webhooks go out
// in one Enqueue, and the message not tried is left as it was.
func TestAttemptedMixed(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	msgs := e.add(nil, "a@example.com", "b@example.com", "c@example.com", "d@example.com")
	e.clock.Advance(time.Minute)
	before, _ := e.get(msgs[3].ID)

	out := e.attempted(
		failedAt(msgs[0], rcptRefused("a@example.com")),
		deliveredOK(msgs[2]),
		failedAt(msgs[1], rcptRefused("b@example.com")),
		notTried(msgs[3]),
	)

	type got struct {
		id     int64
		result queue.Result
		dsn    queue.DSNKind
		hook   webhook.OutgoingEvent
		reason bounce.Reason
	}
	var l []got
	for _, o := range out {
		l = append(l, got{o.MsgID, o.Result, o.DSN, o.Hook, o.Failure.Reason})
	}
	tcompare(t, l, []got{
		{msgs[0].ID, queue.ResultFailed, queue.DSNFailed, webhook.EventFailed, bounce.ReasonUserUnknown},
		{msgs[2].ID, queue.ResultDelivered, "", webhook.EventDelivered, ""},
		{msgs[1].ID, queue.ResultFailed, queue.DSNFailed, webhook.EventFailed, bounce.ReasonUserUnknown},
		{msgs[3].ID, queue.ResultQueued, "", "", ""},
	}, "outcomes")
	tcompare(t, out[3].NextAttempt, before.NextAttempt, "not tried: next attempt unchanged")

	tcompare(t, e.dsnRecipients(), []string{"failed:a@example.com,b@example.com"}, "one failure dsn for both refused recipients")
	tcompare(t, len(e.outbox()), 1, "dsns in outbox")
	tcompare(t, e.hooks.Calls, 1, "hook queue calls")
	// In the order of the results, as the transaction answered.
	tcompare(t, e.hooks.Events(), []string{"failed:a@example.com", "delivered:c@example.com", "failed:b@example.com"}, "webhooks")

	r, ok := e.retired(msgs[2].ID)
	if !ok || !r.Success {
		t.Fatalf("delivered message: retired %v, success %v", ok, r.Success)
	}
	for _, m := range msgs[:2] {
		if r, ok := e.retired(m.ID); !ok || r.Success {
			t.Fatalf("refused message %d: retired %v, success %v", m.ID, ok, r.Success)
		}
	}
	after, ok := e.get(msgs[3].ID)
	tcompare(t, ok, true, "not tried: still queued")
	tcompare(t, after, before, "not tried: message untouched")
	tcompare(t, after.Attempts, int64(0), "not tried: no attempt counted")
}

// TestAttemptedOneDSNPerKind checks the grouping of DSNs by submission and
// kind: a failure after DATA for three accepted recipients, temporary
// failures with the delayed DSN due, both kinds in one call, and two
// submissions in one call.
func TestAttemptedOneDSNPerKind(t *testing.T) {
	dataErr := &bounce.SMTPError{Code: 554, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Stage: bounce.StageDataEnd, Line: "message content rejected as spam"}
	for _, tc := range []struct {
		name     string
		age      time.Duration // Of the messages at the attempt.
		results  func(a, b []queue.Msg) []queue.AttemptResult
		want     []string
		outcomes []queue.Result
	}{
		{"data failure, all accepted", time.Minute, func(a, b []queue.Msg) []queue.AttemptResult {
			return []queue.AttemptResult{failedAt(a[0], dataErr), failedAt(a[1], dataErr), failedAt(a[2], dataErr)}
		}, []string{"failed:a1@example.com,a2@example.com,a3@example.com"}, []queue.Result{queue.ResultFailed, queue.ResultFailed, queue.ResultFailed}},
		{"temporary, delayed dsn due", 5 * time.Hour, func(a, b []queue.Msg) []queue.AttemptResult {
			return []queue.AttemptResult{failedAt(a[0], tempErr()), failedAt(a[1], tempErr()), failedAt(a[2], tempErr())}
		}, []string{"delayed:a1@example.com,a2@example.com,a3@example.com"}, []queue.Result{queue.ResultRetry, queue.ResultRetry, queue.ResultRetry}},
		{"temporary, delayed dsn not due", time.Minute, func(a, b []queue.Msg) []queue.AttemptResult {
			return []queue.AttemptResult{failedAt(a[0], tempErr()), failedAt(a[1], tempErr())}
		}, nil, []queue.Result{queue.ResultRetry, queue.ResultRetry}},
		{"both kinds", 5 * time.Hour, func(a, b []queue.Msg) []queue.AttemptResult {
			return []queue.AttemptResult{failedAt(a[0], tempErr()), failedAt(a[1], rcptRefused("a2@example.com")), failedAt(a[2], tempErr())}
		}, []string{"delayed:a1@example.com,a3@example.com", "failed:a2@example.com"}, []queue.Result{queue.ResultRetry, queue.ResultFailed, queue.ResultRetry}},
		{"two submissions", time.Minute, func(a, b []queue.Msg) []queue.AttemptResult {
			return []queue.AttemptResult{failedAt(a[0], dataErr), failedAt(b[0], dataErr), failedAt(a[1], dataErr), failedAt(b[1], dataErr)}
		}, []string{"failed:a1@example.com,a2@example.com", "failed:b1@example.com,b2@example.com"}, []queue.Result{queue.ResultFailed, queue.ResultFailed, queue.ResultFailed, queue.ResultFailed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, queue.RetryPolicy{})
			a := e.add(nil, "a1@example.com", "a2@example.com", "a3@example.com")
			b := e.add(nil, "b1@example.com", "b2@example.com")
			e.clock.Advance(tc.age)
			out := e.attempted(tc.results(a, b)...)
			var results []queue.Result
			for _, o := range out {
				results = append(results, o.Result)
			}
			tcompare(t, results, tc.outcomes, "results")
			tcompare(t, e.dsnRecipients(), tc.want, "dsns")
			tcompare(t, len(e.outbox()), len(tc.want), "dsns in outbox")
			tcompare(t, e.hooks.Calls, 1, "hook queue calls")
		})
	}

	// The delayed DSN goes once per message: a second temporary failure of
	// the same submission adds none.
	e := newEnv(t, queue.RetryPolicy{})
	a := e.add(nil, "a1@example.com", "a2@example.com")
	e.clock.Advance(5 * time.Hour)
	e.attempted(failedAt(a[0], tempErr()), failedAt(a[1], tempErr()))
	e.clock.Advance(24 * time.Hour)
	e.attempted(failedAt(a[0], tempErr()), failedAt(a[1], tempErr()))
	tcompare(t, e.dsnRecipients(), []string{"delayed:a1@example.com,a2@example.com"}, "dsns after two temporary failures")
}

// TestAttemptedNotify checks that each message's NOTIFY decides whether it
// is in its submission's DSN (RFC 3461 section 4.1).
func TestAttemptedNotify(t *testing.T) {
	notify := map[string]dsn.Notify{
		"never@example.com":   dsn.NotifyNever,
		"failure@example.com": dsn.NotifyFailure,
		"delay@example.com":   dsn.NotifyDelay,
		"default@example.com": "",
	}
	rcpts := []string{"never@example.com", "failure@example.com", "delay@example.com", "default@example.com"}
	for _, tc := range []struct {
		name  string
		err   error
		want  []string
		kinds []queue.DSNKind // Per message, in the order of rcpts.
	}{
		{"failed", permErr(), []string{"failed:failure@example.com,default@example.com"}, []queue.DSNKind{"", queue.DSNFailed, "", queue.DSNFailed}},
		{"delayed", tempErr(), []string{"delayed:delay@example.com,default@example.com"}, []queue.DSNKind{"", "", queue.DSNDelayed, queue.DSNDelayed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, queue.RetryPolicy{})
			msgs := e.add(func(m *queue.Msg) { m.Notify = notify[m.RecipientAddress] }, rcpts...)
			e.clock.Advance(5 * time.Hour)
			var results []queue.AttemptResult
			for _, m := range msgs {
				results = append(results, failedAt(m, tc.err))
			}
			out := e.attempted(results...)
			tcompare(t, e.dsnRecipients(), tc.want, "dsns")
			var kinds []queue.DSNKind
			for _, o := range out {
				kinds = append(kinds, o.DSN)
			}
			tcompare(t, kinds, tc.kinds, "outcome dsn kinds")
		})
	}
}

// TestAttemptedBadInput checks that bad input returns an error and changes
// nothing.
func TestAttemptedBadInput(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	msgs := e.add(nil, "a@example.com", "b@example.com")
	other := e.add(func(m *queue.Msg) { m.SenderAccount = "defaults" }, "c@example.com")[0]
	gone := msgs[0]
	gone.ID = 1000
	for _, tc := range []struct {
		name    string
		results []queue.AttemptResult
		want    error
	}{
		{"empty", nil, queue.ErrEmptyBatch},
		{"unknown status", []queue.AttemptResult{failedAt(msgs[0], permErr()), {Msg: msgs[1], Status: "bounced"}}, queue.ErrAttemptStatus},
		{"failed without error", []queue.AttemptResult{deliveredOK(msgs[0]), failedAt(msgs[1], nil)}, queue.ErrNilError},
		{"not in queue", []queue.AttemptResult{failedAt(msgs[0], permErr()), deliveredOK(gone)}, queue.ErrMsgNotFound},
		{"twice", []queue.AttemptResult{failedAt(msgs[0], permErr()), deliveredOK(msgs[0])}, nil},
		{"mixed accounts", []queue.AttemptResult{failedAt(msgs[0], permErr()), failedAt(other, permErr())}, queue.ErrMixedAccounts},
		{"unknown delivery event", []queue.AttemptResult{failedAt(msgs[0], permErr()), {Msg: msgs[1], Status: queue.AttemptDelivered, Delivery: queue.Delivery{Event: webhook.EventFailed}}}, nil},
		{"invalid retry policy", []queue.AttemptResult{failedAt(msgs[0], permErr())}, queue.ErrInvalidRetryPolicy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.h.RetryPolicy = queue.RetryPolicy{}
			if tc.want == queue.ErrInvalidRetryPolicy {
				e.h.RetryPolicy = queue.RetryPolicy{MaxAttempts: -1}
			}
			before := e.dump()
			calls := e.hooks.Calls
			err := e.write(func(tx *bstore.Tx) error {
				_, err := e.h.Attempted(tx, tc.results)
				return err
			})
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			tcompare(t, e.dump(), before, "database")
			tcompare(t, e.hooks.Calls, calls, "hook queue calls")
			tcompare(t, len(e.composer.Requests), 0, "dsns composed")
		})
	}
}

// TestAttemptedFaults injects a store error mid-way through a mixed call
// (delivered, refused and temporarily failed messages): the call returns
// the error and the rolled-back transaction leaves every table as it was.
func TestAttemptedFaults(t *testing.T) {
	late := func(skip int) *queuetest.Fault { return &queuetest.Fault{Skip: skip, Late: true} }
	for _, tc := range []struct {
		name   string
		faults faults
	}{
		{"suppression lookup of the second failure", faults{stop: late(1)}},
		{"suppression process of the second refused", faults{process: late(1)}},
		{"clearing suppression of the delivered", faults{delivered: late(0)}},
		{"composer", faults{compose: &queuetest.Fault{}}},
		{"hook queue", faults{hooks: late(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, queue.RetryPolicy{})
			s := e.faultState()
			extra := e.add(nil, "x@example.com")[0]
			e.clock.Advance(5 * time.Hour)
			before := e.dumpAll()
			h := e.faultHandler(tc.faults)
			err := e.write(func(tx *bstore.Tx) error {
				_, err := h.Attempted(tx, []queue.AttemptResult{
					failedAt(s.queued[0], rcptRefused("a@example.com")),
					deliveredOK(s.queued[1]),
					failedAt(s.queued[2], rcptRefused("c@example.com")),
					failedAt(extra, tempErr()),
				})
				return err
			})
			if !errors.Is(err, queuetest.ErrInjected) {
				t.Fatalf("got error %v, want one wrapping the injected error", err)
			}
			tcompare(t, e.dumpAll(), before, "database after rollback")

			// Without the fault, the same call changes the database.
			h = e.faultHandler(faults{})
			err = e.write(func(tx *bstore.Tx) error {
				_, err := h.Attempted(tx, []queue.AttemptResult{failedAt(s.queued[0], rcptRefused("a@example.com"))})
				return err
			})
			tcheck(t, err, "attempted without fault")
			if fmt.Sprint(e.dumpAll()) == fmt.Sprint(before) {
				t.Fatalf("attempted without fault changed nothing")
			}
		})
	}
}

// TestAttemptedStageSuppression checks with the real suppression store
// that a 550 5.1.1 to MAIL FROM (about our sender) does not suppress the
// recipient, while the same reply to RCPT TO does.
func TestAttemptedStageSuppression(t *testing.T) {
	for _, tc := range []struct {
		stage    bounce.Stage
		suppress bool
	}{
		{bounce.StageConnect, false},
		{bounce.StageEHLO, false},
		{bounce.StageMail, false},
		{bounce.StageRcpt, true},
		{bounce.StageDataEnd, true},
	} {
		t.Run(string(tc.stage), func(t *testing.T) {
			e := newHBEnv(t)
			m1, _ := e.add("bob@example.com")
			m2, _ := e.add("carol@example.com")
			reply := &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: tc.stage, Line: "user unknown"}
			var out []queue.Outcome
			e.write(func(tx *bstore.Tx) error {
				var err error
				out, err = e.h.Attempted(tx, []queue.AttemptResult{failedAt(m1, reply), failedAt(m2, reply)})
				return err
			})
			for _, o := range out {
				tcompare(t, o.Result, queue.ResultFailed, "result")
				tcompare(t, o.Suppressing, tc.suppress, "suppressing "+o.Recipient)
			}
			n := 0
			if tc.suppress {
				n = 2
			}
			tcompare(t, len(e.entries()), n, "suppression entries")
		})
	}
}

// TestAttemptedSuccessDSN checks the success DSN for NOTIFY=SUCCESS: one
// per submission when the delivery was relayed to a system without DSNs or
// expanded, none for a plain delivery (the next hop got NOTIFY and reports
// itself) or without SUCCESS in NOTIFY. The default composer writes the
// RFC 3464 Action and a 2.x.x Status.
func TestAttemptedSuccessDSN(t *testing.T) {
	success, _ := dsn.NewNotify(dsn.NotifySuccess, dsn.NotifyFailure)
	for _, tc := range []struct {
		name   string
		event  webhook.OutgoingEvent
		notify dsn.Notify
		kind   queue.DSNKind
		action dsn.Action
	}{
		{"relayed", webhook.EventRelayed, success, queue.DSNRelayed, dsn.ActionRelayed},
		{"expanded", webhook.EventExpanded, success, queue.DSNExpanded, dsn.ActionExpanded},
		{"delivered", webhook.EventDelivered, success, "", ""},
		{"relayed, no success asked", webhook.EventRelayed, dsn.NotifyFailure, "", ""},
		{"relayed, notify not given", webhook.EventRelayed, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, queue.RetryPolicy{})
			e.h.DSNComposer = nil // The default composer.
			msgs := e.add(func(m *queue.Msg) { m.Notify = tc.notify }, "a@example.com", "b@example.com")
			d := queue.Delivery{Event: tc.event, Code: 250, EnhancedCode: bounce.EnhancedCode{2, 0, 0}, Line: "ok"}
			for i := range msgs {
				msgs[i].Attempt.RemoteMTA = "mx.example.com"
			}
			out := e.attempted(
				queue.AttemptResult{Msg: msgs[0], Status: queue.AttemptDelivered, Delivery: d},
				queue.AttemptResult{Msg: msgs[1], Status: queue.AttemptDelivered, Delivery: d},
			)
			for _, o := range out {
				tcompare(t, o.DSN, tc.kind, "outcome dsn")
			}
			ob := e.outbox()
			if tc.kind == "" {
				tcompare(t, len(ob), 0, "dsns")
				return
			}
			tcompare(t, len(ob), 1, "dsns")
			tcompare(t, ob[0].Kind, tc.kind, "outbox kind")
			m, _, err := dsn.Parse(bytes.NewReader(ob[0].Data))
			tcheck(t, err, "parse dsn")
			var got []string
			for _, r := range m.Recipients {
				got = append(got, fmt.Sprintf("%s %s %s %s", r.FinalRecipient, r.Action, r.Status, r.RemoteMTA))
			}
			tcompare(t, got, []string{
				fmt.Sprintf("a@example.com %s 2.0.0 mx.example.com", tc.action),
				fmt.Sprintf("b@example.com %s 2.0.0 mx.example.com", tc.action),
			}, "dsn recipients")
		})
	}
}

// TestAttemptedAllNotTried checks that a call in which no message was
// tried changes nothing and queues nothing.
func TestAttemptedAllNotTried(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	msgs := e.add(nil, "a@example.com", "b@example.com")
	e.clock.Advance(time.Hour)
	before := e.dump()
	out := e.attempted(notTried(msgs[0]), notTried(msgs[1]))
	for i, o := range out {
		tcompare(t, o, queue.Outcome{MsgID: msgs[i].ID, Recipient: msgs[i].RecipientAddress, Result: queue.ResultQueued, NextAttempt: msgs[i].NextAttempt}, "outcome")
	}
	tcompare(t, e.dump(), before, "database")
	tcompare(t, e.hooks.Calls, 0, "hook queue calls")
	tcompare(t, len(e.composer.Requests), 0, "dsns composed")
}

// TestAttemptedRemoteMTA checks that the remote MTA a client records in
// Msg.Attempt reaches the webhooks of the attempt: the name that answered
// and the IP dialed, for a failure and for a delivery.
func TestAttemptedRemoteMTA(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	msgs := e.add(nil, "a@example.com", "c@example.com")
	at := queue.Attempt{Start: e.clock.Now(), RemoteMTA: "mx.example.com", RemoteIP: netip.MustParseAddr("192.0.2.25")}
	failed, delivered := msgs[0], msgs[1]
	failed.Attempt, delivered.Attempt = at, at
	e.attempted(failedAt(failed, rcptRefused("a@example.com")), deliveredOK(delivered))

	tcompare(t, len(e.hooks.Queued), 2, "hooks")
	for _, h := range e.hooks.Queued {
		tcompare(t, h.Payload.RemoteMTA, "mx.example.com", string(h.Event)+" remote MTA")
		tcompare(t, h.Payload.RemoteIP, "192.0.2.25", string(h.Event)+" remote IP")
	}
}
