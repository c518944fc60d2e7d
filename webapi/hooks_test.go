package webapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webapi"
	"github.com/bouncekit/bouncekit/webhook"
)

func retiredID(m queue.MsgRetired) int64    { return m.ID }
func hookQueueMsgID(h hookqueue.Hook) int64 { return h.QueueMsgID }

func TestRetiredMethods(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	a := e.add("alice", "x@example.com", "y@example.com", "z@example.com")
	b := e.add("bob", "w@example.com")[0]
	e.cancel(a[0], a[1], b)
	e.clock.Advance(time.Hour)
	_, err := e.alice.QueueFail(ctx, webapi.QueueFailRequest{QueueFilter: webapi.QueueFilter{IDs: []int64{a[2].ID}}})
	tcheck(t, err, "fail")

	list := func(c webapi.Client, req webapi.RetiredListRequest) []int64 {
		t.Helper()
		res, err := c.RetiredList(ctx, req)
		tcheck(t, err, "retired list")
		return msgIDs(res.Messages, retiredID)
	}
	tcompare(t, list(e.alice, webapi.RetiredListRequest{}), []int64{a[0].ID, a[1].ID, a[2].ID}, "alice's retired")
	tcompare(t, list(e.bob, webapi.RetiredListRequest{}), []int64{b.ID}, "bob's retired")
	tcompare(t, list(e.ops, webapi.RetiredListRequest{Page: webapi.Page{Newest: true}}), []int64{b.ID, a[2].ID, a[1].ID, a[0].ID}, "operator's, newest first (by ID)")
	tcompare(t, list(e.alice, webapi.RetiredListRequest{Event: webhook.EventFailed}), []int64{a[2].ID}, "by event")
	tcompare(t, list(e.alice, webapi.RetiredListRequest{Since: t0.Add(time.Minute)}), []int64{a[2].ID}, "since")
	tcompare(t, list(e.alice, webapi.RetiredListRequest{Before: t0.Add(time.Minute)}), []int64{a[0].ID, a[1].ID}, "before")
	tcompare(t, list(e.alice, webapi.RetiredListRequest{Recipient: "y@example.com"}), []int64{a[1].ID}, "by recipient")
	res, err := e.alice.RetiredList(ctx, webapi.RetiredListRequest{Page: webapi.Page{Limit: 1}})
	tcheck(t, err, "page")
	tcompare(t, res.Next, a[0].ID, "cursor")
	_, err = e.alice.RetiredList(ctx, webapi.RetiredListRequest{Event: "bogus"})
	tcode(t, err, webapi.CodeUser, "unknown event")

	got, err := e.alice.RetiredGet(ctx, webapi.RetiredGetRequest{ID: a[2].ID})
	tcheck(t, err, "get")
	tcompare(t, got.Message.Event, webhook.EventFailed, "event")
	tcompare(t, len(got.Message.Results), 1, "attempt history")
	tcompare(t, got.Message.Results[0].Permanent, true, "permanent result")
	tcompare(t, msgIDs(got.Hooks, hookQueueMsgID), []int64{a[2].ID}, "pending webhook about it")
	tcompare(t, got.Hooks[0].Authorization, "(redacted)", "credential hidden")
	tcompare(t, got.RetiredHooks, []hookqueue.HookRetired{}, "retired webhooks")

	_, err = e.bob.RetiredGet(ctx, webapi.RetiredGetRequest{ID: a[2].ID})
	tcode(t, err, webapi.CodeNotFound, "bob gets alice's")
	_, err = e.alice.RetiredGet(ctx, webapi.RetiredGetRequest{ID: 999})
	tcode(t, err, webapi.CodeNotFound, "unknown")
	_, err = e.ops.RetiredGet(ctx, webapi.RetiredGetRequest{ID: b.ID})
	tcheck(t, err, "operator gets bob's")
}

func TestHookMethods(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	a := e.add("alice", "x@example.com", "y@example.com")
	b := e.add("bob", "w@example.com")[0]
	e.cancel(a[0], a[1], b)

	list := func(c webapi.Client, req webapi.HookListRequest) []int64 {
		t.Helper()
		res, err := c.HookList(ctx, req)
		tcheck(t, err, "hook list")
		return msgIDs(res.Hooks, hookQueueMsgID)
	}
	tcompare(t, list(e.alice, webapi.HookListRequest{}), []int64{a[0].ID, a[1].ID}, "alice's hooks")
	tcompare(t, list(e.ops, webapi.HookListRequest{}), []int64{a[0].ID, a[1].ID, b.ID}, "operator's hooks")
	tcompare(t, list(e.ops, webapi.HookListRequest{HookFilter: webapi.HookFilter{QueueMsgID: b.ID}}), []int64{b.ID}, "by message")
	res, err := e.alice.HookList(ctx, webapi.HookListRequest{Page: webapi.Page{Limit: 1}})
	tcheck(t, err, "page")
	tcompare(t, res.Next, res.Hooks[0].ID, "cursor")
	h := res.Hooks[0]
	tcompare(t, []any{h.Authorization, h.Secrets, h.Event, h.URL}, []any{"(redacted)", []string{"(redacted)"}, webhook.EventCanceled, "https://app.example/hook"}, "listed hook")

	// Retry: due now.
	e.clock.Advance(time.Hour)
	_, err = e.alice.HookRetry(ctx, webapi.HookRetryRequest{})
	tcode(t, err, webapi.CodeUser, "retry without filter")
	rt, err := e.alice.HookRetry(ctx, webapi.HookRetryRequest{HookFilter: webapi.HookFilter{QueueMsgID: a[0].ID}})
	tcheck(t, err, "retry")
	tcompare(t, rt.Retried, 1, "retried")
	rt, err = e.alice.HookRetry(ctx, webapi.HookRetryRequest{HookFilter: webapi.HookFilter{QueueMsgID: b.ID}})
	tcheck(t, err, "retry bob's as alice")
	tcompare(t, rt.Retried, 0, "bob's not retried by alice")
	res, err = e.alice.HookList(ctx, webapi.HookListRequest{HookFilter: webapi.HookFilter{QueueMsgID: a[0].ID}})
	tcheck(t, err, "list")
	tcompare(t, res.Hooks[0].NextAttempt.Equal(t0.Add(time.Hour)), true, "next attempt now")

	// Cancel: retired as canceled.
	cn, err := e.alice.HookCancel(ctx, webapi.HookCancelRequest{All: true})
	tcheck(t, err, "cancel")
	tcompare(t, cn.Canceled, 2, "canceled")
	tcompare(t, list(e.ops, webapi.HookListRequest{}), []int64{b.ID}, "pending after alice's cancel")
	rl, err := e.alice.HookRetiredList(ctx, webapi.HookRetiredListRequest{RetireReason: hookqueue.RetiredCanceled})
	tcheck(t, err, "retired list")
	tcompare(t, len(rl.Hooks), 2, "retired hooks")
	tcompare(t, rl.Hooks[0].Authorization, true, "retired hook had an authorization")
	rl, err = e.bob.HookRetiredList(ctx, webapi.HookRetiredListRequest{})
	tcheck(t, err, "bob's retired list")
	tcompare(t, rl.Hooks, []hookqueue.HookRetired{}, "bob's retired hooks")
	_, err = e.alice.HookRetiredList(ctx, webapi.HookRetiredListRequest{RetireReason: "bogus"})
	tcode(t, err, webapi.CodeUser, "unknown retire reason")
	_, err = e.alice.HookList(ctx, webapi.HookListRequest{HookFilter: webapi.HookFilter{Event: "bogus"}})
	tcode(t, err, webapi.CodeUser, "unknown event")
}

func TestHooksWithoutQueue(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(s *webapi.Server) { s.Hooks = nil })
	e.cancel(e.add("alice", "x@example.com")...)
	res, err := e.alice.HookList(ctx, webapi.HookListRequest{})
	tcheck(t, err, "list without queue")
	tcompare(t, len(res.Hooks), 1, "listed")
	_, err = e.alice.HookRetry(ctx, webapi.HookRetryRequest{All: true})
	tcode(t, err, webapi.CodeNotConfigured, "retry")
	_, err = e.alice.HookCancel(ctx, webapi.HookCancelRequest{All: true})
	tcode(t, err, webapi.CodeNotConfigured, "cancel")
}
