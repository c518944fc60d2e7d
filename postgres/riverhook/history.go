package riverhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
)

// Hook is a pending webhook as listed: the hookqueue.Hook the bstore queue
// would list, with ID the River job ID, Results this package's attempt
// records, NextAttempt River's scheduled time, and no credentials
// (Authorization and Secrets are left empty).
type Hook struct {
	hookqueue.Hook
	WebhookID string
	State     rivertype.JobState // River's state: available, scheduled, retryable, running or pending.
}

// HookRetired is a delivered, given-up or canceled webhook as listed, in
// the form of hookqueue.HookRetired. KeepUntil is when River's cleaner
// removes the job (Config.KeepRetired after it finished).
type HookRetired struct {
	hookqueue.HookRetired
	WebhookID string
}

// States of pending and retired jobs.
var (
	pendingStates = []rivertype.JobState{
		rivertype.JobStateAvailable,
		rivertype.JobStatePending,
		rivertype.JobStateRetryable,
		rivertype.JobStateRunning,
		rivertype.JobStateScheduled,
	}
	retiredStates = []rivertype.JobState{
		rivertype.JobStateCancelled,
		rivertype.JobStateCompleted,
		rivertype.JobStateDiscarded,
	}
)

// errPendingReason is returned for a Filter with a RetireReason given to a
// listing of pending hooks, as hookqueue does.
var errPendingReason = errors.New("riverhook: retire reason in a filter of pending hooks")

// lastOutcome is the outcome of a job's last attempt record.
const lastOutcome = `(SELECT a.outcome FROM bouncekit_hook_attempt a WHERE a.job_id = river_job.id ORDER BY a.id DESC LIMIT 1)`

// listParams returns River list parameters for the jobs of f in states,
// one page of p.
func listParams(f hookqueue.Filter, p paging.Page, states []rivertype.JobState) *river.JobListParams {
	lp := river.NewJobListParams().Kinds(Kind).States(states...).First(p.Size() + 1)
	if p.Newest {
		lp = lp.OrderBy(river.JobListOrderByID, river.SortOrderDesc)
		if p.After > 0 {
			lp = lp.Where("id < @after", river.NamedArgs{"after": p.After})
		}
	} else {
		lp = lp.OrderBy(river.JobListOrderByID, river.SortOrderAsc)
		if p.After > 0 {
			lp = lp.Where("id > @after", river.NamedArgs{"after": p.After})
		}
	}
	return filterParams(lp, f)
}

// filterParams adds f to lp. Account uses the index on (args->>'account',
// id); the rest is checked per job.
func filterParams(lp *river.JobListParams, f hookqueue.Filter) *river.JobListParams {
	if len(f.IDs) > 0 {
		lp = lp.IDs(f.IDs...)
	}
	if f.Account != "" {
		lp = lp.Where("args->>'account' = @account", river.NamedArgs{"account": f.Account})
	}
	if f.URL != "" {
		lp = lp.Where("args->>'url' = @url", river.NamedArgs{"url": f.URL})
	}
	if f.Event != "" {
		lp = lp.Where("args->>'event' = @event", river.NamedArgs{"event": string(f.Event)})
	}
	if f.QueueMsgID != 0 {
		lp = lp.Where("(args->>'queue_msg_id')::bigint = @queue_msg_id", river.NamedArgs{"queue_msg_id": f.QueueMsgID})
	}
	if !f.SubmittedAfter.IsZero() {
		lp = lp.Where("(args->>'submitted')::timestamptz >= @submitted_after", river.NamedArgs{"submitted_after": f.SubmittedAfter})
	}
	if !f.SubmittedBefore.IsZero() {
		lp = lp.Where("(args->>'submitted')::timestamptz < @submitted_before", river.NamedArgs{"submitted_before": f.SubmittedBefore})
	}
	switch f.RetireReason {
	case "":
	case hookqueue.RetiredDelivered:
		lp = lp.Where("state = 'completed'")
	case hookqueue.RetiredFailed:
		lp = lp.Where("(state = 'discarded' OR state = 'cancelled' AND " + lastOutcome + " = 'failed')")
	case hookqueue.RetiredGone, hookqueue.RetiredRefused:
		lp = lp.Where("state = 'cancelled' AND "+lastOutcome+" = @reason", river.NamedArgs{"reason": string(f.RetireReason)})
	case hookqueue.RetiredCanceled:
		lp = lp.Where("state = 'cancelled' AND coalesce(" + lastOutcome + ", '') NOT IN ('failed', 'gone', 'refused')")
	default:
		// Superseded and unknown reasons: this queue retires none so.
		lp = lp.Where("false")
	}
	return lp
}

// list reads one page of jobs and their attempt records.
func (q *Queue) list(ctx context.Context, lp *river.JobListParams, p paging.Page) ([]*rivertype.JobRow, map[int64][]attemptRecord, int64, error) {
	res, err := q.client.JobList(ctx, lp)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("riverhook: listing jobs: %w", err)
	}
	jobs := res.Jobs
	var next int64
	if size := p.Size(); len(jobs) > size {
		jobs = jobs[:size]
		next = jobs[size-1].ID
	}
	attempts, err := q.attempts(ctx, jobs)
	if err != nil {
		return nil, nil, 0, err
	}
	return jobs, attempts, next, nil
}

// attemptRecord is one row of bouncekit_hook_attempt.
type attemptRecord struct {
	result  hookqueue.HookResult
	outcome string
}

// attempts reads the attempt records of jobs, oldest first.
func (q *Queue) attempts(ctx context.Context, jobs []*rivertype.JobRow) (map[int64][]attemptRecord, error) {
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	m := map[int64][]attemptRecord{}
	if len(ids) == 0 {
		return m, nil
	}
	rows, err := q.pool.Query(ctx, `SELECT job_id, outcome, result FROM bouncekit_hook_attempt WHERE job_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("riverhook: reading attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a attemptRecord
		var buf []byte
		if err := rows.Scan(&id, &a.outcome, &buf); err != nil {
			return nil, fmt.Errorf("riverhook: reading attempts: %w", err)
		}
		if err := json.Unmarshal(buf, &a.result); err != nil {
			return nil, fmt.Errorf("riverhook: decoding attempt of job %d: %w", id, err)
		}
		m[id] = append(m[id], a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("riverhook: reading attempts: %w", err)
	}
	return m, nil
}

// decode returns a job's arguments.
func decode(j *rivertype.JobRow) (Job, error) {
	var args Job
	if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
		return Job{}, fmt.Errorf("riverhook: decoding job %d: %w", j.ID, err)
	}
	return args, nil
}

// results returns the attempt results and how many count as attempts (an
// interrupted one does not, as in hookqueue).
func results(records []attemptRecord) ([]hookqueue.HookResult, int64) {
	var rs []hookqueue.HookResult
	var n int64
	for _, a := range records {
		rs = append(rs, a.result)
		if !a.result.Interrupted {
			n++
		}
	}
	return rs, n
}

// List returns a page of pending hooks matching f, ordered by job ID, and
// the cursor of the next page (0 after the last); see package paging.
func (q *Queue) List(ctx context.Context, f hookqueue.Filter, p paging.Page) ([]Hook, int64, error) {
	if f.RetireReason != "" {
		return nil, 0, errPendingReason
	}
	jobs, attempts, next, err := q.list(ctx, listParams(f, p, pendingStates), p)
	if err != nil {
		return nil, 0, err
	}
	hooks := make([]Hook, 0, len(jobs))
	for _, j := range jobs {
		args, err := decode(j)
		if err != nil {
			return nil, 0, err
		}
		h := Hook{Hook: args.hook(j.ID), WebhookID: args.WebhookID, State: j.State}
		h.Authorization, h.Secrets = "", nil
		h.Results, h.Attempts = results(attempts[j.ID])
		h.NextAttempt = j.ScheduledAt
		hooks = append(hooks, h)
	}
	return hooks, next, nil
}

// ListRetired returns a page of retired hooks matching f, ordered by job
// ID, and the cursor of the next page (0 after the last).
func (q *Queue) ListRetired(ctx context.Context, f hookqueue.Filter, p paging.Page) ([]HookRetired, int64, error) {
	jobs, attempts, next, err := q.list(ctx, listParams(f, p, retiredStates), p)
	if err != nil {
		return nil, 0, err
	}
	hooks := make([]HookRetired, 0, len(jobs))
	for _, j := range jobs {
		args, err := decode(j)
		if err != nil {
			return nil, 0, err
		}
		recs := attempts[j.ID]
		rs, n := results(recs)
		reason := retireReason(j.State, recs)
		var finalized time.Time
		if j.FinalizedAt != nil {
			finalized = *j.FinalizedAt
		}
		hooks = append(hooks, HookRetired{
			WebhookID: args.WebhookID,
			HookRetired: hookqueue.HookRetired{
				ID:            j.ID,
				Account:       args.Account,
				URL:           args.URL,
				Authorization: args.Authorization != "",
				Signed:        len(args.Secrets) > 0,
				Event:         args.Event,
				QueueMsgID:    args.QueueMsgID,
				Payload:       args.Payload,
				Incoming:      args.Incoming,
				Submitted:     args.Submitted,
				Attempts:      n,
				Results:       rs,
				RetireReason:  reason,
				Success:       reason == hookqueue.RetiredDelivered,
				LastActivity:  finalized,
				KeepUntil:     finalized.Add(q.keepRetired()),
			},
		})
	}
	return hooks, next, nil
}

// retireReason names why a finished job retired, from its state and its
// last attempt's outcome.
func retireReason(state rivertype.JobState, recs []attemptRecord) hookqueue.RetireReason {
	switch state {
	case rivertype.JobStateCompleted:
		return hookqueue.RetiredDelivered
	case rivertype.JobStateDiscarded:
		// River gave up: the schedule ran out (a rescued job's last try).
		return hookqueue.RetiredFailed
	}
	if len(recs) > 0 {
		switch o := recs[len(recs)-1].outcome; o {
		case outcomeGone, outcomeRefused, outcomeFailed:
			return hookqueue.RetireReason(o)
		}
	}
	return hookqueue.RetiredCanceled // By an operator (Cancel, or River's JobCancel).
}

func (q *Queue) keepRetired() time.Duration {
	if q.cfg.KeepRetired > 0 {
		return q.cfg.KeepRetired
	}
	return DefaultKeepRetired
}

// each calls fn for the ID of every job matching f in states, page by
// page.
func (q *Queue) each(ctx context.Context, f hookqueue.Filter, states []rivertype.JobState, fn func(id int64) error) error {
	p := paging.Page{Limit: paging.MaxLimit}
	for {
		res, err := q.client.JobList(ctx, listParams(f, p, states))
		if err != nil {
			return fmt.Errorf("riverhook: listing jobs: %w", err)
		}
		jobs := res.Jobs
		if len(jobs) > p.Size() {
			jobs = jobs[:p.Size()]
		}
		for _, j := range jobs {
			if err := fn(j.ID); err != nil {
				return err
			}
		}
		if len(res.Jobs) <= p.Size() {
			return nil
		}
		p.After = jobs[len(jobs)-1].ID
	}
}

// Cancel cancels the pending hooks matching f and returns how many. A
// hook whose request is in flight may still reach the endpoint; River
// cancels it when the attempt returns. Canceled hooks are listed as
// retired with RetiredCanceled.
func (q *Queue) Cancel(ctx context.Context, f hookqueue.Filter) (int, error) {
	if f.RetireReason != "" {
		return 0, errPendingReason
	}
	n := 0
	err := q.each(ctx, f, pendingStates, func(id int64) error {
		if _, err := q.client.JobCancel(ctx, id); err != nil {
			if errors.Is(err, river.ErrNotFound) {
				return nil // Removed meanwhile.
			}
			return fmt.Errorf("riverhook: canceling job %d: %w", id, err)
		}
		n++
		return nil
	})
	return n, err
}

// Retry makes the hooks matching f due now and returns how many: an
// operator's "send it again now" after fixing an endpoint. Pending hooks
// (not running) are retried, as hookqueue.Queue.Retry does; unlike there,
// hooks given up or canceled (not delivered ones) are also sent again,
// since River keeps them: with f.RetireReason set, only those. Attempts
// made so far still count toward the schedule.
func (q *Queue) Retry(ctx context.Context, f hookqueue.Filter) (int, error) {
	states := append(waitingStates(), rivertype.JobStateCancelled, rivertype.JobStateDiscarded)
	if f.RetireReason != "" {
		states = []rivertype.JobState{rivertype.JobStateCancelled, rivertype.JobStateDiscarded}
	}
	return q.retry(ctx, f, states)
}

// RetryPending is Retry of pending hooks only, as hookqueue.Queue.Retry:
// hooks given up or canceled stay retired. webapi's HookRetry uses it
// (package pgapi), so the API retries the same hooks on both queues.
func (q *Queue) RetryPending(ctx context.Context, f hookqueue.Filter) (int, error) {
	if f.RetireReason != "" {
		return 0, errPendingReason
	}
	return q.retry(ctx, f, waitingStates())
}

// waitingStates are the pending states of a job not running.
func waitingStates() []rivertype.JobState {
	return []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateScheduled}
}

// retry makes the jobs matching f in states available now.
func (q *Queue) retry(ctx context.Context, f hookqueue.Filter, states []rivertype.JobState) (int, error) {
	n := 0
	err := q.each(ctx, f, states, func(id int64) error {
		if _, err := q.client.JobRetry(ctx, id); err != nil {
			if errors.Is(err, river.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("riverhook: retrying job %d: %w", id, err)
		}
		n++
		return nil
	})
	return n, err
}
