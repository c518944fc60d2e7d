package queue

import (
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// DBTypes returns the bstore types a host passes to bstore.Open (or
// Register) on its database for a Handler with the bstore-backed
// suppression.Store and webhook.Queue: those of package queue (Msg,
// MsgRetired, HoldRule, OutboxDSN, IncomingSeen), suppression.DBTypes
// and webhook.DBTypes.
func DBTypes() []any {
	l := append([]any{Msg{}, MsgRetired{}, HoldRule{}, OutboxDSN{}}, incomingDBTypes()...)
	l = append(l, suppression.DBTypes()...)
	return append(l, webhook.DBTypes()...)
}
