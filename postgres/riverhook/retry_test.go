package riverhook_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
)

// Each kind of answer leads to River's matching decision, recorded in the
// history with the same HookResult as hookqueue records.
func TestOutcomes(t *testing.T) {
	// The injected clock runs a day ahead of the real one: River's
	// executor refuses a next retry before the real current time (it
	// then falls back to its own policy), so a fixed date here would
	// stop working once the real clock passed it. Whole seconds: the
	// schedule is compared exactly with what PostgreSQL stores.
	now := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)
	schedule := []time.Duration{time.Hour, 2 * time.Hour}
	tests := []struct {
		name    string
		code    int
		header  http.Header
		url     string // Instead of the receiver's.
		event   river.EventKind
		state   rivertype.JobState
		reason  hookqueue.RetireReason // For a retired job.
		next    time.Duration          // For a retryable job: from Now (injected) exactly; for a snoozed one: from the real clock, at least.
		resCode int64
	}{
		{name: "2xx completes", code: http.StatusAccepted, event: river.EventKindJobCompleted, state: rivertype.JobStateCompleted, reason: hookqueue.RetiredDelivered, resCode: 202},
		{name: "410 cancels", code: http.StatusGone, event: river.EventKindJobCancelled, state: rivertype.JobStateCancelled, reason: hookqueue.RetiredGone, resCode: 410},
		{name: "500 retries on the schedule", code: http.StatusInternalServerError, event: river.EventKindJobFailed, state: rivertype.JobStateRetryable, next: schedule[0] * 9 / 10, resCode: 500},
		{name: "redirect is not followed", code: http.StatusFound, header: http.Header{"Location": {"http://127.0.0.1:1/"}}, event: river.EventKindJobFailed, state: rivertype.JobStateRetryable, next: schedule[0] * 9 / 10, resCode: 302},
		{name: "429 with Retry-After snoozes", code: http.StatusTooManyRequests, header: http.Header{"Retry-After": {"3600"}}, event: river.EventKindJobSnoozed, state: rivertype.JobStateScheduled, next: time.Hour, resCode: 429},
		{name: "forbidden address cancels", url: "http://10.0.0.1/", event: river.EventKindJobCancelled, state: rivertype.JobStateCancelled, reason: hookqueue.RetiredRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, func(request, int) (int, http.Header) { return tc.code, tc.header })
			q := openQueue(t, riverhook.Config{Schedule: schedule, Rand: zeros{}, Now: func() time.Time { return now }})
			ev := events(t, q)
			url := rc.srv.URL
			if tc.url != "" {
				// Guarded, not allowed: the Sender refuses at connect.
				q = openQueue(t, riverhook.Config{Sender: &hookqueue.Sender{}, Schedule: schedule, Rand: zeros{}, Now: func() time.Time { return now }})
				ev = events(t, q)
				url = tc.url
			}
			_, err := q.Insert(context.Background(), job("w1", url))
			tcheck(t, err, "insert")
			start := time.Now()
			run(t, q)
			e := nextEvent(t, ev, tc.event)
			tcompare(t, e.Job.State, tc.state, "state")
			switch tc.state {
			case rivertype.JobStateRetryable:
				tcompare(t, e.Job.ScheduledAt.UTC(), now.Add(tc.next), "next attempt")
			case rivertype.JobStateScheduled:
				if e.Job.ScheduledAt.Before(start.Add(tc.next)) || e.Job.ScheduledAt.After(time.Now().Add(tc.next)) {
					t.Fatalf("snoozed until %v, expected %v after the attempt", e.Job.ScheduledAt, tc.next)
				}
			}
			f := hookqueue.Filter{Account: "mjl"}
			var res []hookqueue.HookResult
			if tc.reason != "" {
				l, _, err := q.ListRetired(context.Background(), f, paging.Page{})
				tcheck(t, err, "list retired")
				tcompare(t, len(l), 1, "retired hooks")
				tcompare(t, l[0].RetireReason, tc.reason, "retire reason")
				tcompare(t, l[0].WebhookID, "w1", "webhook id")
				tcompare(t, l[0].Signed, true, "signed")
				res = l[0].Results
			} else {
				l, _, err := q.List(context.Background(), f, paging.Page{})
				tcheck(t, err, "list")
				tcompare(t, len(l), 1, "pending hooks")
				tcompare(t, l[0].Secrets == nil, true, "secrets not listed")
				res = l[0].Results
			}
			tcompare(t, len(res), 1, "attempt records")
			tcompare(t, res[0].Code, tc.resCode, "recorded code")
			tcompare(t, res[0].Success, tc.reason == hookqueue.RetiredDelivered, "recorded success")
			if tc.event == river.EventKindJobSnoozed {
				tcompare(t, res[0].RetryAfter, time.Hour, "recorded retry-after")
			}
		})
	}
}

// The schedule's last failure gives up, and Retry-After snoozes count:
// an endpoint that always asks to wait is given up after len(Schedule)+1
// requests too. Retry makes waiting jobs due at once, so no test waits.
func TestGiveUp(t *testing.T) {
	for _, retryAfter := range []bool{false, true} {
		t.Run("retryafter="+strconv.FormatBool(retryAfter), func(t *testing.T) {
			rc := newReceiver(t, func(request, int) (int, http.Header) {
				if retryAfter {
					return http.StatusServiceUnavailable, http.Header{"Retry-After": {"60"}}
				}
				return http.StatusInternalServerError, nil
			})
			schedule := []time.Duration{time.Hour, time.Hour}
			q := openQueue(t, riverhook.Config{Schedule: schedule})
			ev := events(t, q)
			ctx := context.Background()
			_, err := q.Insert(ctx, job("w1", rc.srv.URL))
			tcheck(t, err, "insert")
			run(t, q)
			wait := river.EventKindJobFailed
			if retryAfter {
				wait = river.EventKindJobSnoozed
			}
			for i := 1; i <= len(schedule)+1; i++ {
				r := rc.next(t)
				tcompare(t, r.payload.Attempt, int64(i), "payload attempt")
				if i <= len(schedule) {
					nextEvent(t, ev, wait)
					n, err := q.Retry(ctx, hookqueue.Filter{Account: "mjl"})
					tcheck(t, err, "retry")
					tcompare(t, n, 1, "retried")
				}
			}
			nextEvent(t, ev, river.EventKindJobCancelled)
			l, _, err := q.ListRetired(ctx, hookqueue.Filter{RetireReason: hookqueue.RetiredFailed}, paging.Page{})
			tcheck(t, err, "list")
			tcompare(t, len(l), 1, "given up")
			tcompare(t, l[0].Attempts, int64(len(schedule)+1), "attempts")
		})
	}
}
