package hookqueue

import (
	"time"

	"github.com/bouncekit/bouncekit/webhook"
)

// DBTypes lists the types a host passes to bstore.Open (or DB.Register)
// for the webhook queue.
func DBTypes() []any { return []any{Hook{}, HookRetired{}, HookBody{}} }

// Field names used in bstore queries.
const (
	fieldNextAttempt = "NextAttempt"
	fieldSubmitted   = "Submitted"
	fieldID          = "ID"
	fieldKeepUntil   = "KeepUntil"
)

// Hook is a pending webhook: an event waiting for (another) delivery
// attempt. Enqueue inserts it; the worker deletes it and inserts a
// HookRetired once it is delivered or given up.
type Hook struct {
	ID int64 // Assigned by Enqueue. The webhook-id sent is derived from it, so it is stable across retries.

	Account       string                `bstore:"nonzero,index Account+QueueMsgID"` // Account whose mail the event is about.
	URL           string                `bstore:"nonzero"`                          // http or https URL to POST to.
	Authorization string                // Optional Authorization header value, e.g. "Basic ...". Not kept in HookRetired.
	Secrets       []string              // Optional Standard Webhooks signing secrets, "whsec_" + base64; each signs. Not kept in HookRetired.
	Event         webhook.OutgoingEvent // Copy of Payload.Event, for filtering (checked per record: no index to write).
	QueueMsgID    int64                 // Copy of Payload.QueueMsgID, for filtering and supersession.
	Payload       webhook.Outgoing      // Sent as JSON, with Attempt set per attempt. Unused when Incoming is set.

	// Incoming, if set, is sent instead of Payload: a hook about a message
	// that arrived for the account (mox's incoming webhook). Such a hook
	// has no Event and no QueueMsgID. Enqueue stores its Text and HTML
	// apart, in a HookBody, and the request reads them back: hooks read
	// from the queue (List, ListTx, Queue.OnResult) have an Incoming
	// without Text and HTML.
	Incoming *webhook.Incoming

	KeepFor time.Duration // How long to keep the HookRetired record; 0: Queue.KeepRetired; negative: not kept.

	Submitted   time.Time    // Set by Enqueue. Not indexed: IDs are assigned in the same order, so the oldest hook is the one with the lowest ID.
	Attempts    int64        // Completed delivery attempts.
	NextAttempt time.Time    `bstore:"nonzero,index"` // When the next attempt is due. Enqueue sets it to now if zero.
	Results     []HookResult // One per attempt, oldest first.

	// incomingDeferred marks a hook in Run's buffer whose Incoming was
	// left out: it can be megabytes, and is read when the request starts.
	incomingDeferred bool
}

// HookResult is the outcome of one delivery attempt.
type HookResult struct {
	Start       time.Time
	Duration    time.Duration
	URL         string
	Success     bool          // Response status was 2xx.
	Code        int64         // HTTP status code, 0 if no response was received.
	Error       string        // Why the attempt failed, empty on success.
	Response    string        // First 512 bytes of the response body.
	RetryAfter  time.Duration `json:",omitempty"` // From a Retry-After header on 429 or 503.
	Interrupted bool          `json:",omitempty"` // Abandoned at shutdown; not counted in Attempts.
}

// HookBody holds the Text and HTML of a pending hook's Incoming payload,
// which can be a mebibyte each (report.MaxIncomingText). They are kept
// apart from the Hook record, so that listing pending hooks and
// recording each attempt's result do not read and rewrite them. Enqueue
// inserts one only for an incoming payload with a Text or HTML; it is
// removed with its hook, in the transaction that retires it.
type HookBody struct {
	ID   int64 // Same as the Hook's ID.
	Text string
	HTML string
}

// RetireReason says why a hook was retired: how its delivery ended, not
// what happened to the mail (that is the event, webhook.OutgoingEvent). It
// is named apart from queue.Outcome, the result of a Handler call.
type RetireReason string

// Reasons a hook is retired.
const (
	RetiredDelivered  RetireReason = "delivered"  // A 2xx response.
	RetiredFailed     RetireReason = "failed"     // Every attempt of the schedule failed.
	RetiredGone       RetireReason = "gone"       // 410 Gone: the endpoint asked us to stop.
	RetiredRefused    RetireReason = "refused"    // The URL is invalid or points to a forbidden address.
	RetiredCanceled   RetireReason = "canceled"   // Removed by Queue.Cancel.
	RetiredSuperseded RetireReason = "superseded" // Replaced by a newer event for the same message (Queue.Supersede).
)

// HookRetired is the history record of a hook that was delivered, given up
// or canceled. It keeps everything but the credentials, until KeepUntil.
type HookRetired struct {
	ID int64 // Same as the Hook's ID.

	Account       string                `bstore:"nonzero,index"` // Its keys end in the ID: ListRetired reads an account in ID order without sorting.
	URL           string                `bstore:"nonzero"`
	Authorization bool                  // Whether an Authorization header was sent.
	Signed        bool                  // Whether requests were signed.
	Event         webhook.OutgoingEvent // Not indexed: no query uses it alone, ListRetired checks it per record of the account.
	QueueMsgID    int64
	Payload       webhook.Outgoing
	Incoming      *webhook.Incoming // Set for a hook about an incoming message; without its Text and HTML (see retire).

	Submitted      time.Time
	Attempts       int64
	Results        []HookResult
	RetireReason   RetireReason
	Success        bool  // RetireReason is RetiredDelivered.
	SupersededByID int64 // For RetiredSuperseded: ID of the newer Hook.

	LastActivity time.Time // Not indexed: listings go by ID, cleanup by KeepUntil.
	KeepUntil    time.Time `bstore:"index"`
}

// LastResult returns the result of the most recent attempt, or a zero
// HookResult if there was none.
func (h Hook) LastResult() HookResult {
	if len(h.Results) == 0 {
		return HookResult{}
	}
	return h.Results[len(h.Results)-1]
}

// LastResult returns the result of the most recent attempt, or a zero
// HookResult if there was none.
func (h HookRetired) LastResult() HookResult {
	if len(h.Results) == 0 {
		return HookResult{}
	}
	return h.Results[len(h.Results)-1]
}

// retire returns the history record for h.
func (h Hook) retire(outcome RetireReason, now time.Time, keep time.Duration) HookRetired {
	return HookRetired{
		ID:            h.ID,
		Account:       h.Account,
		URL:           h.URL,
		Authorization: h.Authorization != "",
		Signed:        len(h.Secrets) > 0,
		Event:         h.Event,
		QueueMsgID:    h.QueueMsgID,
		Payload:       h.Payload,
		Incoming:      withoutBody(h.Incoming),
		Submitted:     h.Submitted,
		Attempts:      h.Attempts,
		Results:       h.Results,
		RetireReason:  outcome,
		Success:       outcome == RetiredDelivered,
		LastActivity:  now,
		KeepUntil:     now.Add(keep),
	}
}

// withoutBody returns a copy of an incoming payload without its Text and
// HTML parts, which can be a mebibyte each (report.MaxIncomingText): what
// the Hook record holds (the parts are in its HookBody), and what a
// HookRetired keeps, so that a page of history stays small. The
// application received them; the host keeps the message itself.
func withoutBody(in *webhook.Incoming) *webhook.Incoming {
	if in == nil {
		return nil
	}
	kept := *in
	kept.Text, kept.HTML = "", ""
	return &kept
}

// splitBody returns the Hook record to store for h and the HookBody that
// holds its Incoming's Text and HTML, nil without either. h's Incoming is
// not changed: the caller's payload stays whole.
func splitBody(h Hook) (Hook, *HookBody) {
	if h.Incoming == nil || h.Incoming.Text == "" && h.Incoming.HTML == "" {
		return h, nil
	}
	body := &HookBody{ID: h.ID, Text: h.Incoming.Text, HTML: h.Incoming.HTML}
	h.Incoming = withoutBody(h.Incoming)
	return h, body
}
