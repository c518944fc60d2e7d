package relay

import (
	"time"

	"github.com/bouncekit/bouncekit/postgres/pgsent"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// DBTypes returns the types of the local outbox that a host passes to
// bstore.Open, besides queue.DBTypes, e.g.
// bstore.Open(ctx, path, opts, append(queue.DBTypes(), relay.DBTypes()...)...).
func DBTypes() []any {
	return []any{Outbox{}, HookIntent{}, SuppressionIntent{}, SentIntent{}}
}

// Outbox identifies this database's outbox among all that have had the
// node's name: one record, made by the first Flush. Outbox IDs count from
// 1 in a new database, so a node whose database was replaced under the
// same name would repeat them; with Token its webhook-ids and its mark of
// applied suppression intents on PostgreSQL are new ones.
type Outbox struct {
	ID      int64
	Token   string `bstore:"nonzero"` // 16 random lower-case letters and digits.
	Created time.Time
}

// Field names of the intents, for bstore filters.
const (
	fieldAccount     = "Account"
	fieldBaseAddress = "BaseAddress"
)

// HookIntent is a webhook waiting in the local outbox to be handed to the
// shared webhook delivery (Relay.Hooks). Enqueue writes it in the caller's
// transaction; the relay inserts it and deletes it. Its fields are those
// of riverhook.Job; the delivery state (attempts, results) lives in the
// shared delivery.
type HookIntent struct {
	// ID is the outbox ID. The webhook-id is derived from it and the
	// node's name, so a replayed intent is the same webhook.
	ID int64

	Account       string `bstore:"nonzero"`
	URL           string `bstore:"nonzero"`
	Authorization string
	Secrets       []string
	Event         webhook.OutgoingEvent
	QueueMsgID    int64
	Payload       webhook.Outgoing
	Incoming      *webhook.Incoming
	Submitted     time.Time
}

// job returns the shared delivery's job of the intent, with webhookID.
func (hi HookIntent) job(webhookID string) riverhook.Job {
	return riverhook.Job{
		WebhookID:     webhookID,
		Account:       hi.Account,
		URL:           hi.URL,
		Authorization: hi.Authorization,
		Secrets:       hi.Secrets,
		Event:         hi.Event,
		QueueMsgID:    hi.QueueMsgID,
		Payload:       hi.Payload,
		Incoming:      hi.Incoming,
		Submitted:     hi.Submitted,
	}
}

// SuppressionOp is what a SuppressionIntent does to the shared list.
type SuppressionOp string

// The operations: the writes of queue.SuppressionStore.
const (
	// OpAdd adds or refreshes the entry (pgsuppression.Store.Add), as
	// ProcessTx decided.
	OpAdd SuppressionOp = "add"

	// OpDelivered records a delivery: a soft suppression is removed
	// (pgsuppression.Store.Delivered).
	OpDelivered SuppressionOp = "delivered"

	// OpHit counts a send the entry stopped (pgsuppression.Store.Stop),
	// as StopTx found it.
	OpHit SuppressionOp = "hit"
)

// SuppressionIntent is a change of the shared suppression list waiting in
// the local outbox. Intents of one account and base address are applied
// in ID order, the order they were written in.
type SuppressionIntent struct {
	ID int64

	Op SuppressionOp `bstore:"nonzero"`

	// Account and BaseAddress are the entry's key. The index serves the
	// look at pending intents of StopTx, ProcessTx and DeliveredTx.
	Account     string `bstore:"index Account+BaseAddress"`
	BaseAddress string `bstore:"nonzero"`

	// Time is when the intent was written: the "now" of the shared
	// list's decisions when it is applied (whether an entry had expired,
	// whether a hit counts), as StopTx and ProcessTx judged at that time.
	Time time.Time

	// OriginalAddress is the address as the queue gave it.
	OriginalAddress string

	// The rest of the entry to add (OpAdd), prepared with
	// suppression.Prepare.
	Reason       string
	Category     suppression.Category
	Source       suppression.Source
	Code         int64
	EnhancedCode string
	Created      time.Time
	LastSeen     time.Time
	ExpiresAt    time.Time
}

// entry returns the entry an OpAdd intent adds.
func (si SuppressionIntent) entry() suppression.Entry {
	return suppression.Entry{
		Account:         si.Account,
		BaseAddress:     si.BaseAddress,
		OriginalAddress: si.OriginalAddress,
		Reason:          si.Reason,
		Category:        si.Category,
		Source:          si.Source,
		Code:            si.Code,
		EnhancedCode:    si.EnhancedCode,
		Created:         si.Created,
		LastSeen:        si.LastSeen,
		ExpiresAt:       si.ExpiresAt,
	}
}

// addIntent returns the OpAdd intent for the prepared entry e at now.
func addIntent(e suppression.Entry, now time.Time) SuppressionIntent {
	return SuppressionIntent{
		Op:              OpAdd,
		Account:         e.Account,
		BaseAddress:     e.BaseAddress,
		Time:            now,
		OriginalAddress: e.OriginalAddress,
		Reason:          e.Reason,
		Category:        e.Category,
		Source:          e.Source,
		Code:            e.Code,
		EnhancedCode:    e.EnhancedCode,
		Created:         e.Created,
		LastSeen:        e.LastSeen,
		ExpiresAt:       e.ExpiresAt,
	}
}

// SentIntent is a record for the shared index of sent messages waiting in
// the local outbox. Sent.Node is the Relay's Node.
type SentIntent struct {
	ID   int64
	Sent pgsent.Sent
}
