package pgsent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// ErrInvalid is returned for a record without a node or message ID.
var ErrInvalid = errors.New("pgsent: invalid record")

// Sent is one message to one recipient that a node sent (queued), as the
// index knows it. The fields are those of queue.Msg and queue.MsgRetired
// that a bounce is matched on, and a summary for people.
type Sent struct {
	// Node names the node whose local queue has the message; MsgID is the
	// message's ID there (queue.Msg.ID, the same in queue.MsgRetired).
	// Together they are the record's key.
	Node  string
	MsgID int64

	// BaseID is the message's submission on its node: the messages of one
	// submission to several recipients share it (queue.Msg.BaseID).
	BaseID int64

	Account          string // queue.Msg.SenderAccount.
	SenderAddress    string
	RecipientAddress string
	ORcpt            string // RFC 3461 section 4.2 ORCPT, as given.

	FromID    string // The unique part of the MAIL FROM; empty when none.
	EnvID     string // RFC 3461 section 4.4 ENVID; empty when none.
	MessageID string // RFC 5322 Message-ID, as queue.Msg stores it.
	Subject   string

	Queued time.Time

	// KeepUntil is when the record may go (Cleanup); zero is not known
	// yet: the record stays until a Put gives a time, or Remove. A Put
	// never makes it earlier: a repeated or late Put of an older version
	// of the record cannot shorten it.
	KeepUntil time.Time
}

// DB is where the index is kept: a *pgxpool.Pool (the usual), a *pgx.Conn,
// or a pgx.Tx (the methods then work in the caller's transaction, Put in
// a savepoint).
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// DefaultLimit is the number of records a lookup returns when
// Index.Limit is zero: the bound of the local queue's matching.
const DefaultLimit = 1000

// Index is the shared index of sent messages. Its exported fields are
// configuration; the zero value of each is the documented default. An
// Index is safe for concurrent use when DB is (a pool is), from any
// number of processes.
type Index struct {
	// DB holds the table; Open creates it.
	DB DB

	// Limit is the most records a lookup returns, the newest; 0 means
	// DefaultLimit.
	Limit int
}

// Open creates or upgrades the table in db (see the package doc, Schema)
// and returns an Index on it. Nodes may open at the same moment.
func Open(ctx context.Context, db DB) (*Index, error) {
	if db == nil {
		return nil, errors.New("pgsent: no database")
	}
	if err := migrateSchema(ctx, db); err != nil {
		return nil, fmt.Errorf("pgsent: %w", err)
	}
	return &Index{DB: db}, nil
}

func (x *Index) limit() int {
	if x.Limit <= 0 {
		return DefaultLimit
	}
	return x.Limit
}

// clean makes s storable as text; see the package doc, Text.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func timestamp(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

func fromTimestamp(ts pgtype.Timestamptz) time.Time {
	if !ts.Valid {
		return time.Time{}
	}
	return ts.Time.UTC()
}

// upsert inserts a record or updates the one with its key. keep_until
// only grows: GREATEST ignores NULL.
const upsert = `INSERT INTO bouncekit_sent (node, msg_id, base_id, account, sender_address, recipient_address, orcpt, from_id, env_id, message_id, subject, queued, keep_until)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
	ON CONFLICT (node, msg_id) DO UPDATE SET base_id = EXCLUDED.base_id, account = EXCLUDED.account,
		sender_address = EXCLUDED.sender_address, recipient_address = EXCLUDED.recipient_address, orcpt = EXCLUDED.orcpt,
		from_id = EXCLUDED.from_id, env_id = EXCLUDED.env_id, message_id = EXCLUDED.message_id, subject = EXCLUDED.subject,
		queued = EXCLUDED.queued, keep_until = GREATEST(bouncekit_sent.keep_until, EXCLUDED.keep_until)`

// Put adds records, or updates those with the same key, in one
// transaction: all or none. Repeating a Put is harmless; see the package
// doc. Records are written in key order, so concurrent Puts of
// overlapping records wait for each other instead of deadlocking.
func (x *Index) Put(ctx context.Context, records ...Sent) error {
	if len(records) == 0 {
		return nil
	}
	for _, r := range records {
		if r.Node == "" || r.MsgID <= 0 {
			return fmt.Errorf("%w: node %q, message ID %d", ErrInvalid, r.Node, r.MsgID)
		}
	}
	records = slices.Clone(records)
	slices.SortStableFunc(records, func(a, b Sent) int {
		return cmp.Or(strings.Compare(clean(a.Node), clean(b.Node)), cmp.Compare(a.MsgID, b.MsgID))
	})
	batch := &pgx.Batch{}
	for _, r := range records {
		batch.Queue(upsert, clean(r.Node), r.MsgID, r.BaseID, clean(r.Account), clean(r.SenderAddress), clean(r.RecipientAddress),
			clean(r.ORcpt), clean(r.FromID), clean(r.EnvID), clean(r.MessageID), clean(r.Subject), timestamp(r.Queued), timestamp(r.KeepUntil))
	}
	err := pgx.BeginFunc(ctx, x.DB, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return fmt.Errorf("pgsent: put: %w", err)
	}
	return nil
}

// Remove removes the records of node's messages msgIDs and returns how
// many there were.
func (x *Index) Remove(ctx context.Context, node string, msgIDs ...int64) (int, error) {
	tag, err := x.DB.Exec(ctx, `DELETE FROM bouncekit_sent WHERE node = $1 AND msg_id = ANY($2)`, clean(node), msgIDs)
	if err != nil {
		return 0, fmt.Errorf("pgsent: remove: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// cleanupQuery is the statement of Cleanup: $1 the time.
const cleanupQuery = `DELETE FROM bouncekit_sent WHERE keep_until <= $1`

// Cleanup removes the records whose KeepUntil is at or before now and
// returns how many.
func (x *Index) Cleanup(ctx context.Context, now time.Time) (int, error) {
	tag, err := x.DB.Exec(ctx, cleanupQuery, timestamp(now))
	if err != nil {
		return 0, fmt.Errorf("pgsent: cleanup: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
