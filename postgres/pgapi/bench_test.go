package pgapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/webapi"
	"github.com/bouncekit/bouncekit/webhook"
)

// benchServer serves a PostgreSQL backend to one account, "alice".
func benchServer(b *testing.B) (webapi.Client, func(ctx context.Context, hooks ...hookqueue.Hook) error) {
	b.Helper()
	be := backend(b, time.Now)
	be.Server.Auth = webapi.BasicAuth(func(ctx context.Context, username, password string) (webapi.Identity, error) {
		if username != "alice" || password != "alicepw" {
			return webapi.Identity{}, webapi.ErrBadCredentials
		}
		return webapi.Identity{Account: username}, nil
	})
	return newServer(b, be.Server)("alice"), be.AddHooks
}

// BenchmarkSuppressionPresent is webapi's benchmark of the same name on
// PostgreSQL: one mox-compatible call through the Client over loopback,
// the lookup one query on the shared list.
func BenchmarkSuppressionPresent(b *testing.B) {
	ctx := context.Background()
	alice, _ := benchServer(b)
	for i := range 1000 {
		_, err := alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: fmt.Sprintf("user%d@example.com", i), Manual: true})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := alice.SuppressionPresent(ctx, webapi.SuppressionPresentRequest{EmailAddress: "user500@example.com"})
		if err != nil || !res.Present {
			b.Fatalf("present %v, err %v", res.Present, err)
		}
	}
}

// BenchmarkHookList reads a page of 100 pending webhooks of one account
// among two, 1000 each, from River's job table.
func BenchmarkHookList(b *testing.B) {
	ctx := context.Background()
	alice, addHooks := benchServer(b)
	hooks := make([]hookqueue.Hook, 0, 2000)
	for i := range 1000 {
		for _, account := range []string{"alice", "bob"} {
			hooks = append(hooks, hookqueue.Hook{Account: account, URL: "https://app.example/hook", Payload: webhook.Outgoing{Event: webhook.EventFailed, QueueMsgID: int64(i + 1)}})
		}
	}
	if err := addHooks(ctx, hooks...); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := alice.HookList(ctx, webapi.HookListRequest{Page: webapi.Page{Limit: 100}})
		if err != nil || len(res.Hooks) != 100 {
			b.Fatalf("%d hooks, err %v", len(res.Hooks), err)
		}
	}
}
