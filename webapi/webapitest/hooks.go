package webapitest

import (
	"context"
	"testing"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/webapi"
	"github.com/bouncekit/bouncekit/webhook"
)

// Credentials of the suite's webhooks: never shown by a listing.
const (
	hookAuthorization = "Bearer secret-token"
	hookSecret        = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

func hookMsgID(h hookqueue.Hook) int64               { return h.QueueMsgID }
func retiredHookMsgID(h hookqueue.HookRetired) int64 { return h.QueueMsgID }

// hook returns a webhook about message msgID of account.
func hook(account string, event webhook.OutgoingEvent, msgID int64) hookqueue.Hook {
	return hookqueue.Hook{
		Account:       account,
		URL:           "https://app.example/hook",
		Authorization: hookAuthorization,
		Secrets:       []string{hookSecret},
		Payload:       webhook.Outgoing{Version: 0, Event: event, QueueMsgID: msgID, FromID: "from", MessageID: "<m@example>", Recipient: "rcpt@example.org"},
	}
}

// addHooks queues two webhooks of alice (messages 11 and 12) and one of
// bob (21), or skips the test.
func (e *env) addHooks(t *testing.T) {
	t.Helper()
	if e.b.AddHooks == nil {
		t.Skip("webapitest: Backend without AddHooks")
	}
	err := e.b.AddHooks(context.Background(),
		hook("alice", webhook.EventCanceled, 11),
		hook("alice", webhook.EventFailed, 12),
		hook("bob", webhook.EventCanceled, 21))
	tcheck(t, err, "add hooks")
}

// hookList returns the messages of the pending webhooks c lists.
func hookList(t *testing.T, c webapi.Client, req webapi.HookListRequest) []int64 {
	t.Helper()
	res, err := c.HookList(context.Background(), req)
	tcheck(t, err, "hook list")
	for _, h := range res.Hooks {
		if h.Authorization != "" && h.Authorization != "(redacted)" {
			t.Fatalf("hook %d listed with Authorization %q", h.ID, h.Authorization)
		}
		for _, s := range h.Secrets {
			if s != "(redacted)" {
				t.Fatalf("hook %d listed with secret %q", h.ID, s)
			}
		}
	}
	return ids(res.Hooks, hookMsgID)
}

// hookRetiredList returns the messages of the retired webhooks c lists.
func hookRetiredList(t *testing.T, c webapi.Client, req webapi.HookRetiredListRequest) []int64 {
	t.Helper()
	res, err := c.HookRetiredList(context.Background(), req)
	tcheck(t, err, "hook retired list")
	return ids(res.Hooks, retiredHookMsgID)
}

// Listing with filters and pages, retrying and canceling.
func testHooks(t *testing.T, open Open) {
	ctx := context.Background()
	e := newEnv(t, open, nil)
	e.addHooks(t)

	tests := []struct {
		name string
		c    webapi.Client
		req  webapi.HookListRequest
		want []int64
	}{
		{"alice's", e.alice, webapi.HookListRequest{}, []int64{11, 12}},
		{"operator's", e.ops, webapi.HookListRequest{}, []int64{11, 12, 21}},
		{"newest first", e.ops, webapi.HookListRequest{Page: webapi.Page{Newest: true}}, []int64{21, 12, 11}},
		{"by message", e.ops, webapi.HookListRequest{HookFilter: webapi.HookFilter{QueueMsgID: 21}}, []int64{21}},
		{"by event", e.alice, webapi.HookListRequest{HookFilter: webapi.HookFilter{Event: webhook.EventFailed}}, []int64{12}},
		{"by url", e.alice, webapi.HookListRequest{HookFilter: webapi.HookFilter{URL: "https://elsewhere.example/"}}, []int64{}},
		{"operator by account", e.ops, webapi.HookListRequest{Account: "bob"}, []int64{21}},
	}
	for _, tc := range tests {
		tcompare(t, hookList(t, tc.c, tc.req), tc.want, tc.name)
	}

	res, err := e.alice.HookList(ctx, webapi.HookListRequest{Page: webapi.Page{Limit: 1}})
	tcheck(t, err, "page")
	tcompare(t, ids(res.Hooks, hookMsgID), []int64{11}, "first page")
	tcompare(t, res.Next, res.Hooks[0].ID, "cursor")
	h := res.Hooks[0]
	tcompare(t, []any{h.Account, h.Event, h.URL, h.Payload.Recipient}, []any{"alice", webhook.EventCanceled, "https://app.example/hook", "rcpt@example.org"}, "listed hook")
	res, err = e.alice.HookList(ctx, webapi.HookListRequest{Page: webapi.Page{Limit: 1, After: res.Next}})
	tcheck(t, err, "page")
	tcompare(t, []any{ids(res.Hooks, hookMsgID), res.Next}, []any{[]int64{12}, int64(0)}, "second and last page")

	_, err = e.alice.HookRetry(ctx, webapi.HookRetryRequest{})
	tcode(t, err, webapi.CodeUser, "retry without filter")
	rt, err := e.alice.HookRetry(ctx, webapi.HookRetryRequest{HookFilter: webapi.HookFilter{QueueMsgID: 11}})
	tcheck(t, err, "retry")
	tcompare(t, rt.Retried, 1, "retried")
	rt, err = e.alice.HookRetry(ctx, webapi.HookRetryRequest{HookFilter: webapi.HookFilter{QueueMsgID: 21}})
	tcheck(t, err, "retry bob's as alice")
	tcompare(t, rt.Retried, 0, "bob's retried by alice")
	tcompare(t, hookList(t, e.ops, webapi.HookListRequest{}), []int64{11, 12, 21}, "pending after retry")

	_, err = e.alice.HookCancel(ctx, webapi.HookCancelRequest{})
	tcode(t, err, webapi.CodeUser, "cancel without filter")
	cn, err := e.alice.HookCancel(ctx, webapi.HookCancelRequest{All: true})
	tcheck(t, err, "cancel")
	tcompare(t, cn.Canceled, 2, "canceled")
	tcompare(t, hookList(t, e.ops, webapi.HookListRequest{}), []int64{21}, "pending after alice's cancel")

	rl, err := e.alice.HookRetiredList(ctx, webapi.HookRetiredListRequest{RetireReason: hookqueue.RetiredCanceled})
	tcheck(t, err, "retired list")
	tcompare(t, ids(rl.Hooks, retiredHookMsgID), []int64{11, 12}, "retired as canceled")
	r := rl.Hooks[1]
	tcompare(t, []any{r.Account, r.Event, r.RetireReason, r.Success, r.Authorization, r.Signed}, []any{"alice", webhook.EventFailed, hookqueue.RetiredCanceled, false, true, true}, "retired hook")
	tcompare(t, hookRetiredList(t, e.alice, webapi.HookRetiredListRequest{RetireReason: hookqueue.RetiredDelivered}), []int64{}, "delivered")
	tcompare(t, hookRetiredList(t, e.alice, webapi.HookRetiredListRequest{HookFilter: webapi.HookFilter{Event: webhook.EventCanceled}}), []int64{11}, "retired by event")
	tcompare(t, hookRetiredList(t, e.alice, webapi.HookRetiredListRequest{Page: webapi.Page{Newest: true, Limit: 1}}), []int64{12}, "retired, newest first")
	tcompare(t, hookRetiredList(t, e.bob, webapi.HookRetiredListRequest{}), []int64{}, "bob's retired")

	// Retry is of pending webhooks: canceled ones stay retired.
	rt, err = e.alice.HookRetry(ctx, webapi.HookRetryRequest{All: true})
	tcheck(t, err, "retry after cancel")
	tcompare(t, rt.Retried, 0, "retried after cancel")
	tcompare(t, hookList(t, e.alice, webapi.HookListRequest{}), []int64{}, "alice's pending after retry")
	tcompare(t, hookRetiredList(t, e.alice, webapi.HookRetiredListRequest{}), []int64{11, 12}, "alice's retired after retry")

	_, err = e.alice.HookRetiredList(ctx, webapi.HookRetiredListRequest{RetireReason: "bogus"})
	tcode(t, err, webapi.CodeUser, "unknown retire reason")
	_, err = e.alice.HookList(ctx, webapi.HookListRequest{HookFilter: webapi.HookFilter{Event: "bogus"}})
	tcode(t, err, webapi.CodeUser, "unknown event")
}

// An account sees and changes only its own webhooks; the operator all.
func testHookScope(t *testing.T, open Open) {
	ctx := context.Background()
	e := newEnv(t, open, nil)
	e.addHooks(t)

	_, err := e.alice.HookList(ctx, webapi.HookListRequest{Account: "bob"})
	tcode(t, err, webapi.CodeForbidden, "list naming bob")
	_, err = e.alice.HookRetiredList(ctx, webapi.HookRetiredListRequest{Account: "bob"})
	tcode(t, err, webapi.CodeForbidden, "retired list naming bob")
	_, err = e.alice.HookRetry(ctx, webapi.HookRetryRequest{Account: "bob"})
	tcode(t, err, webapi.CodeForbidden, "retry naming bob")
	_, err = e.alice.HookCancel(ctx, webapi.HookCancelRequest{Account: "bob"})
	tcode(t, err, webapi.CodeForbidden, "cancel naming bob")

	// Filters, IDs included, never reach another account's webhooks.
	res, err := e.bob.HookList(ctx, webapi.HookListRequest{})
	tcheck(t, err, "bob's list")
	tcompare(t, ids(res.Hooks, hookMsgID), []int64{21}, "bob's hooks")
	bobs := res.Hooks[0].ID
	tcompare(t, hookList(t, e.alice, webapi.HookListRequest{HookFilter: webapi.HookFilter{IDs: []int64{bobs}}}), []int64{}, "bob's hook by ID for alice")
	cn, err := e.alice.HookCancel(ctx, webapi.HookCancelRequest{HookFilter: webapi.HookFilter{IDs: []int64{bobs}}})
	tcheck(t, err, "cancel bob's by ID as alice")
	tcompare(t, cn.Canceled, 0, "bob's canceled by alice")
	cn, err = e.alice.HookCancel(ctx, webapi.HookCancelRequest{All: true})
	tcheck(t, err, "cancel all of alice's")
	tcompare(t, cn.Canceled, 2, "alice's canceled")
	tcompare(t, hookList(t, e.bob, webapi.HookListRequest{}), []int64{21}, "bob's after alice canceled all")
	tcompare(t, hookRetiredList(t, e.bob, webapi.HookRetiredListRequest{}), []int64{}, "bob's retired after alice canceled all")

	cn, err = e.ops.HookCancel(ctx, webapi.HookCancelRequest{Account: "bob"})
	tcheck(t, err, "operator cancels bob's")
	tcompare(t, cn.Canceled, 1, "bob's canceled by the operator")
	tcompare(t, hookRetiredList(t, e.ops, webapi.HookRetiredListRequest{}), []int64{11, 12, 21}, "operator's retired")
}
