package pgapi_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webapi"
	"github.com/bouncekit/bouncekit/webhook"
)

// RetiredGet reads the message from the node's bstore database and its
// webhooks from River: pending and retired, of the message's account
// only.
func TestRetiredGetRiver(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }
	b := open(t, now)
	db, err := bstore.Open(ctx, filepath.Join(t.TempDir(), "node.db"), &bstore.Options{Timeout: time.Second}, queue.DBTypes()...)
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	m := queue.MsgRetired{ID: 7, SenderAccount: "alice", SenderAddress: "alice@example.com", RecipientAddress: "rcpt@example.org", Queued: now(), LastActivity: now()}
	err = db.Write(ctx, func(tx *bstore.Tx) error { return tx.Insert(&m) })
	if err != nil {
		t.Fatalf("insert retired message: %v", err)
	}

	hook := func(account string, event webhook.OutgoingEvent, msgID int64) hookqueue.Hook {
		return hookqueue.Hook{Account: account, URL: "https://app.example/hook", Authorization: "Bearer secret", Payload: webhook.Outgoing{Event: event, QueueMsgID: msgID}}
	}
	err = b.AddHooks(ctx,
		hook("alice", webhook.EventDelayed, m.ID),
		hook("alice", webhook.EventFailed, m.ID),
		hook("alice", webhook.EventFailed, m.ID+1), // Another message.
		hook("bob", webhook.EventFailed, m.ID),     // Another account's message of the same ID.
	)
	if err != nil {
		t.Fatalf("add hooks: %v", err)
	}

	srv := b.Server
	srv.DB = db
	srv.Now = now
	srv.Auth = webapi.BasicAuth(func(ctx context.Context, username, password string) (webapi.Identity, error) {
		if password != username+"pw" {
			return webapi.Identity{}, webapi.ErrBadCredentials
		}
		return webapi.Identity{Account: username}, nil
	})
	e := newServer(t, srv)
	alice, bob := e("alice"), e("bob")

	// The delayed one is canceled: retired.
	cn, err := alice.HookCancel(ctx, webapi.HookCancelRequest{HookFilter: webapi.HookFilter{Event: webhook.EventDelayed}})
	if err != nil || cn.Canceled != 1 {
		t.Fatalf("cancel: %v, %d canceled, want 1", err, cn.Canceled)
	}

	got, err := alice.RetiredGet(ctx, webapi.RetiredGetRequest{ID: m.ID})
	if err != nil {
		t.Fatalf("retired get: %v", err)
	}
	if got.Message.ID != m.ID || got.Message.RecipientAddress != m.RecipientAddress {
		t.Fatalf("message %d to %q, want %d to %q", got.Message.ID, got.Message.RecipientAddress, m.ID, m.RecipientAddress)
	}
	if len(got.Hooks) != 1 || got.Hooks[0].Event != webhook.EventFailed || got.Hooks[0].Account != "alice" || got.Hooks[0].Authorization == "Bearer secret" {
		t.Fatalf("pending hooks %+v, want alice's failed one without its credential", got.Hooks)
	}
	if len(got.RetiredHooks) != 1 || got.RetiredHooks[0].Event != webhook.EventDelayed || got.RetiredHooks[0].RetireReason != hookqueue.RetiredCanceled {
		t.Fatalf("retired hooks %+v, want alice's canceled delayed one", got.RetiredHooks)
	}

	_, err = bob.RetiredGet(ctx, webapi.RetiredGetRequest{ID: m.ID})
	var werr *webapi.Error
	if !errors.As(err, &werr) || werr.Code != webapi.CodeNotFound {
		t.Fatalf("bob gets alice's message: %v, want code notFound", err)
	}
}
