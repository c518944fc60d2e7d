package queue

import (
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/webhook"
)

// Result is what happened to one message in a Handler call.
type Result string

// Results of Handler calls.
const (
	ResultQueued     Result = "queued"     // Add, or AttemptNotTried in Attempted: waiting for delivery.
	ResultRetry      Result = "retry"      // FailMsgs, Attempted: to be retried at NextAttempt.
	ResultFailed     Result = "failed"     // Given up; retired or removed.
	ResultSuppressed Result = "suppressed" // Not (or no longer) attempted: the recipient is suppressed.
	ResultDelivered  Result = "delivered"  // DeliveredMsgs, Attempted.
	ResultCanceled   Result = "canceled"   // CancelMsgs.
)

// GiveUpSuppressed is the GiveUpReason of FailMsgs for a recipient on the
// account's suppression list.
const GiveUpSuppressed GiveUpReason = "suppressed"

// DSNKind is the kind of DSN a Handler queued.
type DSNKind string

// Kinds of DSN.
const (
	DSNDelayed DSNKind = "delayed" // RFC 3464 Action: delayed.
	DSNFailed  DSNKind = "failed"  // RFC 3464 Action: failed.

	// The success DSNs, for NOTIFY=SUCCESS (RFC 3461 section 4.1), of a
	// delivery whose next hop will send none: handed to a system without
	// DSNs (Delivery.Event relayed), or to an alias or list's members
	// (expanded). A plain "delivered" gets none from the queue: an SMTP
	// server that accepted the NOTIFY parameter reports success itself.
	DSNRelayed  DSNKind = "relayed"  // RFC 3464 Action: relayed.
	DSNExpanded DSNKind = "expanded" // RFC 3464 Action: expanded.
)

// Outcome tells the caller what a Handler call did with one message, so it
// can log and schedule.
type Outcome struct {
	MsgID     int64
	Recipient string
	Result    Result

	// NextAttempt is when the message is due again, for ResultRetry and
	// ResultQueued.
	NextAttempt time.Time

	// GiveUp says why FailMsgs stopped; empty unless Result is ResultFailed
	// or ResultSuppressed.
	GiveUp GiveUpReason

	// Failure is the classified error (FailMsgs, and Attempted for a
	// failed attempt).
	Failure bounce.Failure

	// DSN is the kind of DSN queued in the outbox for this message; empty
	// when none was.
	DSN DSNKind

	// Hook is the webhook event queued for this message; empty when none
	// was.
	Hook webhook.OutgoingEvent

	// Suppressing is true when this failure added the recipient to the
	// suppression list.
	Suppressing bool

	// Retired is true when the message was kept as MsgRetired; false when it
	// was removed without history (the account keeps none) or is still
	// queued.
	Retired bool
}
