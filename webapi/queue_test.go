package webapi_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webapi"
	"github.com/bouncekit/bouncekit/webhook"
)

func msgID(m queue.Msg) int64 { return m.ID }

func TestQueueMethods(t *testing.T) {
	ctx := context.Background()
	var changed atomic.Int32
	e := newEnv(t, func(s *webapi.Server) { s.QueueChanged = func() { changed.Add(1) } })
	a := e.add("alice", "x@example.com", "y@example.com")
	a3 := e.add("alice", "z@example.org")[0]
	b := e.add("bob", "w@example.com")[0]

	list := func(c webapi.Client, req webapi.QueueListRequest) []int64 {
		t.Helper()
		res, err := c.QueueList(ctx, req)
		tcheck(t, err, "queue list")
		return msgIDs(res.Messages, msgID)
	}
	tcompare(t, list(e.alice, webapi.QueueListRequest{}), []int64{a[0].ID, a[1].ID, a3.ID}, "alice's queue")
	tcompare(t, list(e.bob, webapi.QueueListRequest{}), []int64{b.ID}, "bob's queue")
	tcompare(t, list(e.ops, webapi.QueueListRequest{}), []int64{a[0].ID, a[1].ID, a3.ID, b.ID}, "operator's queue")
	tcompare(t, list(e.ops, webapi.QueueListRequest{Account: "bob"}), []int64{b.ID}, "operator's queue of bob")
	tcompare(t, list(e.ops, webapi.QueueListRequest{QueueFilter: webapi.QueueFilter{RecipientDomain: "example.com"}}), []int64{a[0].ID, a[1].ID, b.ID}, "by domain")
	tcompare(t, list(e.alice, webapi.QueueListRequest{QueueFilter: webapi.QueueFilter{IDs: []int64{b.ID, a3.ID}}}), []int64{a3.ID}, "by ids, scoped")
	res, err := e.alice.QueueList(ctx, webapi.QueueListRequest{Page: webapi.Page{Limit: 2}})
	tcheck(t, err, "page")
	tcompare(t, msgIDs(res.Messages, msgID), []int64{a[0].ID, a[1].ID}, "page 1")
	tcompare(t, res.Next, a[1].ID, "cursor")
	tcompare(t, res.Messages[0].RecipientAddress, "x@example.com", "message fields")

	// Changing needs a filter or All.
	before := e.dump()
	_, err = e.alice.QueueHold(ctx, webapi.QueueHoldRequest{})
	tcode(t, err, webapi.CodeUser, "hold without filter")
	_, err = e.alice.QueueFail(ctx, webapi.QueueFailRequest{})
	tcode(t, err, webapi.CodeUser, "fail without filter")
	_, err = e.alice.QueueCancel(ctx, webapi.QueueCancelRequest{})
	tcode(t, err, webapi.CodeUser, "cancel without filter")
	_, err = e.alice.QueueReschedule(ctx, webapi.QueueRescheduleRequest{})
	tcode(t, err, webapi.CodeUser, "reschedule without filter")
	_, err = e.alice.QueueRelease(ctx, webapi.QueueReleaseRequest{})
	tcode(t, err, webapi.CodeUser, "release without filter")
	tcompare(t, e.dump(), before, "database after refused changes")

	held, err := e.alice.QueueHold(ctx, webapi.QueueHoldRequest{QueueFilter: webapi.QueueFilter{RecipientDomain: "EXAMPLE.com"}})
	tcheck(t, err, "hold")
	tcompare(t, held, webapi.QueueCountResult{Matched: 2, Changed: 2, IDs: []int64{a[0].ID, a[1].ID}}, "hold")
	held, err = e.alice.QueueHold(ctx, webapi.QueueHoldRequest{QueueFilter: webapi.QueueFilter{RecipientDomain: "example.com"}})
	tcheck(t, err, "hold again")
	tcompare(t, held, webapi.QueueCountResult{Matched: 2, Changed: 0, IDs: []int64{a[0].ID, a[1].ID}}, "hold again")
	tcompare(t, list(e.ops, webapi.QueueListRequest{QueueFilter: webapi.QueueFilter{Held: true}}), []int64{a[0].ID, a[1].ID}, "held")
	tcompare(t, changed.Load(), int32(0), "queue changed calls after hold")

	rel, err := e.alice.QueueRelease(ctx, webapi.QueueReleaseRequest{QueueFilter: webapi.QueueFilter{IDs: []int64{a[1].ID}}})
	tcheck(t, err, "release")
	tcompare(t, rel, webapi.QueueCountResult{Matched: 1, Changed: 1, IDs: []int64{a[1].ID}}, "release")
	tcompare(t, changed.Load(), int32(1), "queue changed calls after release")

	// Nothing matches: nothing changes, and no filter turns into "all".
	none, err := e.alice.QueueRelease(ctx, webapi.QueueReleaseRequest{QueueFilter: webapi.QueueFilter{Recipient: "nobody@example.com"}})
	tcheck(t, err, "release none")
	tcompare(t, none, webapi.QueueCountResult{IDs: []int64{}}, "release none")
	tcompare(t, list(e.ops, webapi.QueueListRequest{QueueFilter: webapi.QueueFilter{Held: true}}), []int64{a[0].ID}, "still held")

	later := t0.Add(2 * time.Hour)
	rs, err := e.alice.QueueReschedule(ctx, webapi.QueueRescheduleRequest{QueueFilter: webapi.QueueFilter{IDs: []int64{a3.ID}}, NextAttempt: later})
	tcheck(t, err, "reschedule")
	tcompare(t, rs.Changed, 1, "rescheduled")
	tcompare(t, list(e.alice, webapi.QueueListRequest{QueueFilter: webapi.QueueFilter{DueAfter: t0.Add(time.Hour)}}), []int64{a3.ID}, "due after")
	e.clock.Advance(time.Minute)
	rs, err = e.alice.QueueReschedule(ctx, webapi.QueueRescheduleRequest{QueueFilter: webapi.QueueFilter{DueAfter: t0.Add(time.Hour)}})
	tcheck(t, err, "reschedule to now")
	tcompare(t, rs.Changed, 1, "rescheduled to now")
	res, err = e.alice.QueueList(ctx, webapi.QueueListRequest{QueueFilter: webapi.QueueFilter{IDs: []int64{a3.ID}}})
	tcheck(t, err, "list")
	tcompare(t, res.Messages[0].NextAttempt.Equal(t0.Add(time.Minute)), true, "next attempt is now")
	tcompare(t, changed.Load(), int32(3), "queue changed calls after reschedules")

	// Fail: a failure DSN, the failed webhook, retired.
	out, err := e.alice.QueueFail(ctx, webapi.QueueFailRequest{QueueFilter: webapi.QueueFilter{IDs: []int64{a[0].ID}}, Reason: "recipient asked"})
	tcheck(t, err, "fail")
	tcompare(t, out, webapi.QueueOutcomeResult{Outcomes: []webapi.Outcome{{MsgID: a[0].ID, Recipient: "x@example.com", Result: queue.ResultFailed, DSN: queue.DSNFailed, Hook: webhook.EventFailed, Retired: true}}}, "fail outcome")
	r := queue.MsgRetired{ID: a[0].ID}
	tcheck(t, e.db.Get(ctx, &r), "get retired")
	tcompare(t, r.Results[len(r.Results)-1].Error != "", true, "failure recorded")
	n, err := bstore.QueryDB[queue.OutboxDSN](ctx, e.db).Count()
	tcheck(t, err, "count outbox")
	tcompare(t, n, 1, "DSNs in the outbox")

	// Bob cancels all of his: alice's stay.
	out, err = e.bob.QueueCancel(ctx, webapi.QueueCancelRequest{All: true})
	tcheck(t, err, "cancel")
	tcompare(t, out, webapi.QueueOutcomeResult{Outcomes: []webapi.Outcome{{MsgID: b.ID, Recipient: "w@example.com", Result: queue.ResultCanceled, Hook: webhook.EventCanceled, Retired: true}}}, "cancel outcome")
	tcompare(t, list(e.ops, webapi.QueueListRequest{}), []int64{a[1].ID, a3.ID}, "queue after fail and cancel")
	tcompare(t, changed.Load(), int32(5), "queue changed calls after fail and cancel")

	// The operator holds everything.
	held, err = e.ops.QueueHold(ctx, webapi.QueueHoldRequest{All: true})
	tcheck(t, err, "operator hold all")
	tcompare(t, held.Changed, 2, "operator held")
}

func TestQueueWithoutHandler(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(s *webapi.Server) { s.Handler = nil })
	m := e.add("alice", "x@example.com")[0]
	before := e.dump()
	_, err := e.alice.QueueFail(ctx, webapi.QueueFailRequest{QueueFilter: webapi.QueueFilter{IDs: []int64{m.ID}}})
	tcode(t, err, webapi.CodeNotConfigured, "fail")
	_, err = e.alice.QueueCancel(ctx, webapi.QueueCancelRequest{QueueFilter: webapi.QueueFilter{IDs: []int64{m.ID}}})
	tcode(t, err, webapi.CodeNotConfigured, "cancel")
	tcompare(t, e.dump(), before, "database")
	// The others need no Handler.
	res, err := e.alice.QueueHold(ctx, webapi.QueueHoldRequest{QueueFilter: webapi.QueueFilter{IDs: []int64{m.ID}}})
	tcheck(t, err, "hold")
	tcompare(t, res.Changed, 1, "held")
}

func TestHoldRuleMethods(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	a := e.add("alice", "x@example.com", "y@example.org")
	b := e.add("bob", "w@example.com")[0]

	add, err := e.alice.HoldRuleAdd(ctx, webapi.HoldRuleAddRequest{RecipientDomain: "Example.COM"})
	tcheck(t, err, "add")
	tcompare(t, add, webapi.HoldRuleAddResult{Rule: queue.HoldRule{ID: 1, Account: "alice", RecipientDomain: "example.com"}, Held: 1}, "alice's rule")
	res, err := e.ops.QueueList(ctx, webapi.QueueListRequest{QueueFilter: webapi.QueueFilter{Held: true}})
	tcheck(t, err, "list held")
	tcompare(t, msgIDs(res.Messages, msgID), []int64{a[0].ID}, "held by alice's rule")

	_, err = e.bob.HoldRuleAdd(ctx, webapi.HoldRuleAddRequest{Account: "alice", RecipientDomain: "example.org"})
	tcode(t, err, webapi.CodeForbidden, "bob adds for alice")
	rules, err := e.bob.HoldRuleList(ctx, webapi.HoldRuleListRequest{})
	tcheck(t, err, "bob's rules")
	tcompare(t, rules, webapi.HoldRuleListResult{Rules: []queue.HoldRule{}}, "bob's rules")
	_, err = e.bob.HoldRuleRemove(ctx, webapi.HoldRuleRemoveRequest{ID: add.Rule.ID})
	tcode(t, err, webapi.CodeNotFound, "bob removes alice's rule")
	_, err = e.alice.HoldRuleRemove(ctx, webapi.HoldRuleRemoveRequest{ID: 99})
	tcode(t, err, webapi.CodeNotFound, "remove unknown")

	// The operator's rule without an account holds every account's mail.
	all, err := e.ops.HoldRuleAdd(ctx, webapi.HoldRuleAddRequest{RecipientDomain: "example.com"})
	tcheck(t, err, "operator's rule")
	tcompare(t, all.Held, 1, "held by the operator's rule")
	rules, err = e.ops.HoldRuleList(ctx, webapi.HoldRuleListRequest{})
	tcheck(t, err, "operator's list")
	tcompare(t, rules.Rules, []queue.HoldRule{add.Rule, all.Rule}, "all rules")
	rules, err = e.alice.HoldRuleList(ctx, webapi.HoldRuleListRequest{})
	tcheck(t, err, "alice's list")
	tcompare(t, rules.Rules, []queue.HoldRule{add.Rule}, "alice's rules")

	_, err = e.alice.HoldRuleRemove(ctx, webapi.HoldRuleRemoveRequest{ID: add.Rule.ID})
	tcheck(t, err, "remove")
	rules, err = e.ops.HoldRuleList(ctx, webapi.HoldRuleListRequest{})
	tcheck(t, err, "list after remove")
	tcompare(t, rules.Rules, []queue.HoldRule{all.Rule}, "rules after remove")
	// Removing a rule leaves its messages held.
	res, err = e.ops.QueueList(ctx, webapi.QueueListRequest{QueueFilter: webapi.QueueFilter{Held: true}})
	tcheck(t, err, "list held")
	tcompare(t, msgIDs(res.Messages, msgID), []int64{a[0].ID, b.ID}, "still held")

	everything, err := e.ops.HoldRuleAdd(ctx, webapi.HoldRuleAddRequest{})
	tcheck(t, err, "rule holding everything")
	tcompare(t, everything.Held, 1, "held by the rule for everything")
}
