package relay

import (
	"context"
	"fmt"
	"strconv"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
)

// HookInserter hands webhooks to the delivery all nodes share:
// *riverhook.Queue is one. The relay may hand a job over more than once
// (at least once): Insert must insert a job whose WebhookID it already has
// no second time (River unique jobs), insert all of jobs or none, and
// refuse a job that can never be delivered with an error wrapping
// riverhook.ErrBadJob.
type HookInserter interface {
	Insert(ctx context.Context, jobs ...riverhook.Job) (inserted int, err error)
}

var _ HookInserter = (*riverhook.Queue)(nil)

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
// commit. A zero Submitted is set to now. A hook's KeepFor is not kept:
// the shared delivery keeps all hooks for its own period
// (riverhook.Config.KeepRetired).
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
