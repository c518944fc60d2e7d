package queue

import "time"

// OutboxDSN is a composed DSN waiting to be handed to the DSNDeliverer. The
// Handler inserts it in the caller's transaction, so it exists exactly when
// the failure that caused it was committed; Handler.Run delivers it after
// commit and removes it.
type OutboxDSN struct {
	ID      int64
	Created time.Time `bstore:"default now"`

	Kind  DSNKind
	MsgID int64 // ID of the (first) queue message the DSN is about.

	// Account is the local account that receives the DSN: the sender's, or
	// the postmaster's for unknown accounts and DMARC/TLS reports.
	Account string

	// Mailbox is where in Account the DSN goes; empty means the host's
	// default (the inbox). "dmarc" for failed DMARC/TLS reports.
	Mailbox string

	// Seen asks the deliverer to mark the message as read (failed DMARC/TLS
	// reports, so they do not take the postmaster's attention).
	Seen bool

	From      string // Address the DSN is from (the postmaster).
	To        string // The original sender's address.
	MessageID string // Message-ID of the DSN, without <>; stable across redelivery.
	Data      []byte // The complete message, CRLF line endings.

	Attempts    int64
	NextAttempt time.Time `bstore:"nonzero,index"`
	LastError   string
}

// Outbox retry schedule: 1m doubling to 1h; given up (logged, counted, and
// removed) after outboxMaxAttempts attempts.
const (
	outboxFirstRetry  = time.Minute
	outboxMaxBackoff  = time.Hour
	outboxMaxAttempts = 12
)

func outboxBackoff(attempts int64) time.Duration {
	d := outboxFirstRetry
	for i := int64(1); i < attempts && d < outboxMaxBackoff; i++ {
		d *= 2
	}
	return min(d, outboxMaxBackoff)
}
