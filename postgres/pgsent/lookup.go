package pgsent

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// columns of a record, in the order of scan.
const columns = `node, msg_id, base_id, account, sender_address, recipient_address, orcpt, from_id, env_id, message_id, subject, queued, keep_until`

func scan(row pgx.Row) (Sent, error) {
	var r Sent
	var queued, keepUntil pgtype.Timestamptz
	err := row.Scan(&r.Node, &r.MsgID, &r.BaseID, &r.Account, &r.SenderAddress, &r.RecipientAddress, &r.ORcpt,
		&r.FromID, &r.EnvID, &r.MessageID, &r.Subject, &queued, &keepUntil)
	if err != nil {
		return Sent{}, err
	}
	r.Queued = fromTimestamp(queued)
	r.KeepUntil = fromTimestamp(keepUntil)
	return r, nil
}

// by returns the newest records whose column equals value, of account
// when not empty. An empty value matches nothing: it is not a key.
func (x *Index) by(ctx context.Context, column, account, value string) ([]Sent, error) {
	if value == "" {
		return nil, nil
	}
	return x.list(ctx, byQuery(column), clean(value), clean(account), x.limit())
}

// byQuery is the query of by: $1 the value, $2 the account or empty, $3
// the limit. The condition that the column is not empty lets the planner use the partial index
// in a generic plan, where it cannot see $1 (plan_test.go).
func byQuery(column string) string {
	return `SELECT ` + columns + ` FROM bouncekit_sent WHERE ` + column + ` = $1 AND ` + column + ` <> '' AND ($2 = '' OR account = $2)
		ORDER BY queued DESC NULLS LAST, node, msg_id DESC LIMIT $3`
}

// submissionQuery is the query of Submission: $1 the node, $2 the base
// ID, $3 the limit.
const submissionQuery = `SELECT ` + columns + ` FROM bouncekit_sent WHERE node = $1 AND base_id = $2
	ORDER BY queued DESC NULLS LAST, msg_id DESC LIMIT $3`

func (x *Index) list(ctx context.Context, q string, args ...any) ([]Sent, error) {
	rows, err := x.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgsent: lookup: %w", err)
	}
	l, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Sent, error) { return scan(row) })
	if err != nil {
		return nil, fmt.Errorf("pgsent: lookup: %w", err)
	}
	return l, nil
}

// ByFromID returns the messages sent with fromID (normally one, whose
// submission Submission then gives), of account when not empty, newest
// first.
func (x *Index) ByFromID(ctx context.Context, account, fromID string) ([]Sent, error) {
	return x.by(ctx, "from_id", account, fromID)
}

// ByEnvID returns the messages sent with ENVID envID (RFC 3461 section
// 4.4), of account when not empty, newest first, at most Limit.
func (x *Index) ByEnvID(ctx context.Context, account, envID string) ([]Sent, error) {
	return x.by(ctx, "env_id", account, envID)
}

// ByMessageID returns the messages sent with Message-ID messageID, of
// account when not empty, newest first, at most Limit: one per recipient.
// The caller picks the recipient the report names, by RecipientAddress or
// ORcpt, as the local queue's matching does.
func (x *Index) ByMessageID(ctx context.Context, account, messageID string) ([]Sent, error) {
	return x.by(ctx, "message_id", account, messageID)
}

// Submission returns the messages of node's submission baseID, newest
// first, at most Limit: a FromID names its whole submission.
func (x *Index) Submission(ctx context.Context, node string, baseID int64) ([]Sent, error) {
	return x.list(ctx, submissionQuery, clean(node), baseID, x.limit())
}
