package riverhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/internal/randsrc"
)

// worker delivers Jobs with the Queue's Sender.
type worker struct {
	river.WorkerDefaults[Job]
	q *Queue
}

var _ river.Worker[Job] = (*worker)(nil)

// Timeout bounds one attempt: the Sender's request timeout plus the time
// to record the result. Open checks that RescueAfter is longer.
func (w *worker) Timeout(*river.Job[Job]) time.Duration { return w.q.jobTimeout() }

// NextRetry is the schedule, not River's exponential default: after failed
// attempt n, Schedule[n-1] with +-10% jitter, as in hookqueue. River also
// asks it for a job rescued from a dead node.
func (w *worker) NextRetry(job *river.Job[Job]) time.Time {
	q := w.q
	n := max(job.Attempt, 1)
	d := q.schedule[min(n, len(q.schedule))-1]
	d = time.Duration(float64(d) * (0.9 + 0.2*randsrc.Float64(q.cfg.Rand)))
	return q.now().Add(d)
}

// Work makes one attempt. Its return value is River's decision, from the
// Sender's verdict:
//
//   - delivered: nil, the job completes;
//   - 410 Gone, invalid URL or forbidden address: river.JobCancel, no
//     retry can help (hookqueue retires these as gone and refused);
//   - 429 or 503 with Retry-After: river.JobSnooze for that long, which
//     River does not count as an attempt; the request is still recorded;
//   - canceled at shutdown, or no connection before the timeout (the
//     endpoint saw nothing): river.JobSnooze(0), due again at once, not
//     counted; the second is not recorded, as in hookqueue;
//   - any other failure: an error, and River retries at NextRetry until
//     MaxAttempts, then discards the job (given up).
func (w *worker) Work(ctx context.Context, job *river.Job[Job]) error {
	q := w.q
	// River does not count snoozes as attempts; the endpoint saw them,
	// and a hook asked to wait on every attempt must still end.
	tries := job.Attempt + snoozes(job.Metadata)
	h := job.Args.hook(job.ID)
	h.Attempts = int64(tries - 1)
	r, v := q.sender.Send(ctx, h, job.Args.WebhookID)
	outcome := outcomeOf(v, r, tries >= q.maxAttempts())
	if v != hookqueue.VerdictNoConn {
		q.cfg.Metrics.ObserveAttempt(r, v)
		q.record(ctx, job.ID, r, outcome)
	}
	attrs := []any{
		slog.Int64("jobid", job.ID),
		slog.String("webhookid", job.Args.WebhookID),
		slog.String("account", job.Args.Account),
		slog.Int("attempt", tries),
		slog.Int64("code", r.Code),
		slog.String("error", r.Error),
	}
	switch outcome {
	case outcomeDelivered:
		q.log.Debug("riverhook: delivered", attrs...)
		return nil
	case outcomeGone, outcomeRefused, outcomeFailed:
		q.log.Warn("riverhook: giving up", append(attrs, slog.String("outcome", outcome))...)
		return river.JobCancel(fmt.Errorf("riverhook: giving up: %s", outcome))
	case outcomeAbandoned:
		return river.JobSnooze(0)
	case outcomeRetryAfter:
		q.log.Debug("riverhook: endpoint asked to retry later", append(attrs, slog.Duration("retryafter", r.RetryAfter))...)
		return river.JobSnooze(r.RetryAfter)
	}
	q.log.Debug("riverhook: attempt failed, will retry", attrs...)
	return fmt.Errorf("riverhook: %s", r.Error)
}

// Outcomes of an attempt, stored with its record. Those that end the job
// are the hookqueue.RetireReason of the listings.
const (
	outcomeDelivered  = string(hookqueue.RetiredDelivered)
	outcomeGone       = string(hookqueue.RetiredGone)
	outcomeRefused    = string(hookqueue.RetiredRefused)
	outcomeFailed     = string(hookqueue.RetiredFailed) // The last attempt of the schedule failed.
	outcomeRetry      = "retry"
	outcomeRetryAfter = "retryafter"
	outcomeAbandoned  = "abandoned" // Canceled at shutdown: not an attempt.
)

// outcomeOf decides what an attempt means for the job; last says no
// attempt is left after it.
func outcomeOf(v hookqueue.Verdict, r hookqueue.HookResult, last bool) string {
	switch v {
	case hookqueue.VerdictDelivered:
		return outcomeDelivered
	case hookqueue.VerdictGone:
		return outcomeGone
	case hookqueue.VerdictRefused:
		return outcomeRefused
	case hookqueue.VerdictAbandoned, hookqueue.VerdictNoConn:
		return outcomeAbandoned
	}
	switch {
	case last:
		// Decided here, not by River's MaxAttempts: River does not count
		// the snoozes of Retry-After, the endpoint did.
		return outcomeFailed
	case r.RetryAfter > 0:
		return outcomeRetryAfter
	default:
		return outcomeRetry
	}
}

// snoozes reads how often River snoozed the job from its metadata.
func snoozes(metadata []byte) int {
	var m struct {
		Snoozes int `json:"snoozes"`
	}
	if json.Unmarshal(metadata, &m) != nil {
		return 0
	}
	return m.Snoozes
}

// record stores the attempt's result. It runs after the request, also
// when ctx was canceled at shutdown. A failure is logged, not returned:
// the job's state in River is the record that matters, and failing a
// delivered job for its history would send it again.
func (q *Queue) record(ctx context.Context, jobID int64, r hookqueue.HookResult, outcome string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordSlack)
	defer cancel()
	buf, err := json.Marshal(r)
	if err == nil {
		_, err = q.pool.Exec(ctx, `INSERT INTO bouncekit_hook_attempt (job_id, node, outcome, result) VALUES ($1, $2, $3, $4)`,
			jobID, q.node, outcome, buf)
	}
	if err != nil {
		q.log.Error("riverhook: recording an attempt", slog.Int64("jobid", jobID), slog.Any("err", err))
	}
}
