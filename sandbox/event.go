package sandbox

import (
	"fmt"
	"time"
)

// EventKind says what an Event is about.
type EventKind string

// Kinds of Event: one line each in the command's live log.
const (
	EventSubmitted EventKind = "submitted" // A message was queued for a recipient (or suppressed at once).
	EventAttempt   EventKind = "attempt"   // A delivery attempt's result for one recipient.
	EventStall     EventKind = "stall"     // The simulator gives no answer; the client will give up.
	EventReport    EventKind = "report"    // The simulator sends a later report (DSN, complaint, auto-reply).
	EventIncoming  EventKind = "incoming"  // ProcessIncoming's outcome for one recipient of a report.
	EventDSN       EventKind = "dsn"       // A DSN to the sender, saved as a file.
	EventWebhook   EventKind = "webhook"   // One webhook request and its result.
	EventError     EventKind = "error"     // Something failed; the sandbox carries on.
)

// Event is one thing that happened in the sandbox, for the live log.
type Event struct {
	Time      time.Time // On the sandbox's clock.
	Kind      EventKind
	Recipient string // The address the event is about, if any.
	Text      string
}

// String formats the event as one log line.
func (e Event) String() string {
	return fmt.Sprintf("%s %-9s %s %s", e.Time.UTC().Format("2006-01-02 15:04:05"), e.Kind, e.Recipient, e.Text)
}
