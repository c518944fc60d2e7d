package queue

import (
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/suppression"
)

// DBTypes returns the bstore types a host passes to bstore.Open (or
// Register) on its database for a Handler with the bstore-backed
// suppression.Store and hookqueue.Queue: those of package queue (Msg,
// MsgRetired, HoldRule, OutboxDSN, and the reports seen, stored as
// SeenReport, and IncomingSeen as an earlier version stored them),
// suppression.DBTypes
// and hookqueue.DBTypes.
func DBTypes() []any {
	l := append([]any{Msg{}, MsgRetired{}, HoldRule{}, OutboxDSN{}}, incomingDBTypes()...)
	l = append(l, suppression.DBTypes()...)
	return append(l, hookqueue.DBTypes()...)
}
