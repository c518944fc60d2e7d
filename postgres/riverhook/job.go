package riverhook

import (
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/webhook"
)

// Kind is the River job kind of a webhook.
const Kind = "bouncekit_webhook"

// DefaultQueue is the River queue webhooks go to when Config.Queue is empty.
const DefaultQueue = "bouncekit_webhook"

// maxWebhookID bounds Job.WebhookID: it is sent in two header fields.
const maxWebhookID = 255

// ErrBadJob is returned (wrapped) by Insert for a job that could never be
// delivered; nothing of the call is inserted.
var ErrBadJob = errors.New("riverhook: invalid job")

// Job is one webhook to deliver: the River job's arguments, stored as JSON
// in river_job.args. The fields are those of hookqueue.Hook that describe
// the event; attempts and results are River's and ours (see History).
type Job struct {
	// WebhookID is sent as webhook-id and Idempotency-Key on every attempt,
	// and is the job's unique key: inserting a Job whose WebhookID is
	// already in the table (in any state, until River removes the old job
	// after the retention period) inserts nothing. It must be unique among
	// all nodes, e.g. "<node>-<outbox id>". Required.
	WebhookID string `json:"webhook_id" river:"unique"`

	Account       string   `json:"account"`                 // Required.
	URL           string   `json:"url"`                     // http or https; required.
	Authorization string   `json:"authorization,omitempty"` // Optional Authorization header value.
	Secrets       []string `json:"secrets,omitempty"`       // Optional Standard Webhooks secrets, "whsec_" + base64; each signs.

	Event      webhook.OutgoingEvent `json:"event,omitempty"`        // Copy of Payload.Event; Insert fills it.
	QueueMsgID int64                 `json:"queue_msg_id,omitempty"` // Copy of Payload.QueueMsgID; Insert fills it.
	Payload    webhook.Outgoing      `json:"payload"`                // Sent with Attempt set per attempt, unless Incoming is set.
	Incoming   *webhook.Incoming     `json:"incoming,omitempty"`     // If set, sent instead of Payload.

	// Submitted is when the event was queued at its node. Zero: Insert
	// sets the current time.
	Submitted time.Time `json:"submitted"`
}

// Kind is River's job kind.
func (Job) Kind() string { return Kind }

var _ river.JobArgs = Job{}

// hook returns the hookqueue.Hook of j for the Sender and for listings.
func (j Job) hook(id int64) hookqueue.Hook {
	return hookqueue.Hook{
		ID:            id,
		Account:       j.Account,
		URL:           j.URL,
		Authorization: j.Authorization,
		Secrets:       j.Secrets,
		Event:         j.Event,
		QueueMsgID:    j.QueueMsgID,
		Payload:       j.Payload,
		Incoming:      j.Incoming,
		Submitted:     j.Submitted,
	}
}

// prepare checks j with hookqueue.Prepare, so this queue accepts exactly
// the hooks the bstore queue accepts, and fills the same fields.
func (j *Job) prepare(now time.Time) error {
	if j.WebhookID == "" {
		return fmt.Errorf("%w: empty webhook id", ErrBadJob)
	}
	if len(j.WebhookID) > maxWebhookID {
		return fmt.Errorf("%w: webhook id longer than %d bytes", ErrBadJob, maxWebhookID)
	}
	// RFC 9110 section 5.5: a field value has visible characters and
	// spaces; net/http would refuse the request on every attempt.
	for _, c := range []byte(j.WebhookID) {
		if c < 0x21 || c == 0x7f {
			return fmt.Errorf("%w: webhook id has byte 0x%02x", ErrBadJob, c)
		}
	}
	h := j.hook(0)
	if err := hookqueue.Prepare(&h, now); err != nil {
		return fmt.Errorf("%w: %w", ErrBadJob, err)
	}
	j.Event, j.QueueMsgID, j.Payload = h.Event, h.QueueMsgID, h.Payload
	if j.Submitted.IsZero() {
		j.Submitted = now
	}
	return nil
}

// allStates makes the unique key hold in every state: a webhook-id that
// was delivered, given up or canceled is not delivered again when a relay
// repeats its insert.
var allStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStateCancelled,
	rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}
