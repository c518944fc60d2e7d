package webapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/webapi"
	"github.com/bouncekit/bouncekit/webhook"
)

// BenchmarkSuppressionPresent is one mox-compatible call through the Client
// over loopback: form encoding, basic auth, a read transaction, the JSON
// answer.
func BenchmarkSuppressionPresent(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, nil)
	for i := range 1000 {
		_, err := e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: fmt.Sprintf("user%d@example.com", i), Manual: true})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := e.alice.SuppressionPresent(ctx, webapi.SuppressionPresentRequest{EmailAddress: "user500@example.com"})
		if err != nil || !res.Present {
			b.Fatalf("present %v, err %v", res.Present, err)
		}
	}
}

// BenchmarkQueueList reads a page of 100 queued messages of one account
// among two.
func BenchmarkQueueList(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, nil)
	for i := range 10 {
		rcpts := make([]string, 50)
		for j := range rcpts {
			rcpts[j] = fmt.Sprintf("r%d-%d@example.com", i, j)
		}
		e.add("alice", rcpts...)
		e.add("bob", rcpts...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := e.alice.QueueList(ctx, webapi.QueueListRequest{Page: webapi.Page{Limit: 100}})
		if err != nil || len(res.Messages) != 100 {
			b.Fatalf("%d messages, err %v", len(res.Messages), err)
		}
	}
}

// BenchmarkHookList reads a page of 100 pending webhooks of one account
// among two, 1000 each (as pgapi's benchmark of the same name on River).
func BenchmarkHookList(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, nil)
	hooks := make([]hookqueue.Hook, 0, 2000)
	for i := range 1000 {
		for _, account := range []string{"alice", "bob"} {
			hooks = append(hooks, hookqueue.Hook{Account: account, URL: "https://app.example/hook", Payload: webhook.Outgoing{Event: webhook.EventFailed, QueueMsgID: int64(i + 1)}})
		}
	}
	err := e.db.Write(ctx, func(tx *bstore.Tx) error { return e.hooks.Enqueue(tx, hooks...) })
	tcheck(b, err, "enqueue")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := e.alice.HookList(ctx, webapi.HookListRequest{Page: webapi.Page{Limit: 100}})
		if err != nil || len(res.Hooks) != 100 {
			b.Fatalf("%d hooks, err %v", len(res.Hooks), err)
		}
	}
}
