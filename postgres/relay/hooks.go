package relay

import (
	"context"
	"fmt"
	"strconv"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
)

// Hook is a webhook handed to the delivery all nodes share.
type Hook struct {
	// WebhookID is the hook's webhook-id (Standard Webhooks) and its key
	// in the shared delivery: the same whenever the relay hands the same
	// intent over again. See WebhookID.
	WebhookID string

	// Hook is the webhook; its ID, Attempts and Results are zero, the
	// delivery keeps its own.
	Hook hookqueue.Hook
}

// HookInserter hands webhooks to the delivery all nodes share (the River
// queue of package riverhook). The relay may hand a hook over more than
// once (at least once): InsertHooks must insert a hook whose WebhookID it
// already has no second time (River unique jobs), and insert all of hooks
// or none.
type HookInserter interface {
	InsertHooks(ctx context.Context, hooks []Hook) error
}

// HookInserterFunc adapts a function to HookInserter.
type HookInserterFunc func(ctx context.Context, hooks []Hook) error

// InsertHooks calls f.
func (f HookInserterFunc) InsertHooks(ctx context.Context, hooks []Hook) error { return f(ctx, hooks) }

// WebhookID returns the webhook-id of the hook with outbox ID id in the
// outbox with token (Outbox.Token) of node: "bkr_", the node's name, "_",
// the token, "_" and the ID. It is unique among all nodes (node names are
// unique, a database's outbox IDs are never reused, a new database has a
// new token), and never equal to the "bkh_" IDs of the bstore webhook
// queue.
func WebhookID(node, token string, id int64) string {
	return "bkr_" + node + "_" + token + "_" + strconv.FormatInt(id, 10)
}

// Enqueue writes hooks to the outbox in tx, as queue.HookQueue: nothing
// leaves the node before the caller commits. Run hands them to Hooks after
// commit. A zero Submitted is set to now.
func (r *Relay) Enqueue(tx *bstore.Tx, hooks ...hookqueue.Hook) error {
	if r.Hooks == nil {
		return fmt.Errorf("%w: no shared webhook delivery (Hooks)", ErrConfig)
	}
	now := r.now()
	for _, h := range hooks {
		hi := HookIntent{
			Account:       h.Account,
			URL:           h.URL,
			Authorization: h.Authorization,
			Secrets:       h.Secrets,
			Event:         h.Event,
			QueueMsgID:    h.QueueMsgID,
			Payload:       h.Payload,
			Incoming:      h.Incoming,
			KeepFor:       h.KeepFor,
			Submitted:     h.Submitted,
		}
		if hi.Submitted.IsZero() {
			hi.Submitted = now
		}
		if err := tx.Insert(&hi); err != nil {
			return fmt.Errorf("relay: writing hook intent: %w", err)
		}
	}
	return nil
}
