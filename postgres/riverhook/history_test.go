package riverhook_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/riverqueue/river"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/webhook"
)

// Pending hooks are listed a page at a time, per account, oldest or newest
// first; filters select by account, event and message; Cancel retires
// them as canceled, Retry brings a canceled one back. Nothing runs: the
// queue is not started, so the states are exactly as set here.
func TestHistory(t *testing.T) {
	q := openQueue(t, riverhook.Config{})
	ctx := context.Background()
	var jobs []riverhook.Job
	for i := range 7 {
		j := job("h"+strconv.Itoa(i), "http://127.0.0.1:1/")
		if i%2 == 1 {
			j.Account = "other"
		}
		if i == 4 {
			j.Payload.Event = webhook.EventDelayed
		}
		j.Payload.QueueMsgID = int64(100 + i)
		jobs = append(jobs, j)
	}
	_, err := q.Insert(ctx, jobs...)
	tcheck(t, err, "insert")

	ids := func(hooks []riverhook.Hook) string {
		var s string
		for _, h := range hooks {
			s += h.WebhookID + " "
		}
		return s
	}
	pages := func(f hookqueue.Filter, newest bool) []string {
		var out []string
		p := paging.Page{Limit: 2, Newest: newest}
		for {
			l, next, err := q.List(ctx, f, p)
			tcheck(t, err, "list")
			out = append(out, ids(l))
			if next == 0 {
				return out
			}
			p.After = next
		}
	}
	tests := []struct {
		name   string
		f      hookqueue.Filter
		newest bool
		exp    []string
	}{
		{"all oldest first", hookqueue.Filter{}, false, []string{"h0 h1 ", "h2 h3 ", "h4 h5 ", "h6 "}},
		{"account, newest first", hookqueue.Filter{Account: "mjl"}, true, []string{"h6 h4 ", "h2 h0 "}},
		{"event", hookqueue.Filter{Event: webhook.EventDelayed}, false, []string{"h4 "}},
		{"message", hookqueue.Filter{Account: "other", QueueMsgID: 103}, false, []string{"h3 "}},
		{"url", hookqueue.Filter{URL: "http://elsewhere/"}, false, []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pages(tc.f, tc.newest)
			if len(got) != len(tc.exp) {
				t.Fatalf("pages %q, expected %q", got, tc.exp)
			}
			for i := range got {
				tcompare(t, got[i], tc.exp[i], "page "+strconv.Itoa(i))
			}
		})
	}

	_, _, err = q.List(ctx, hookqueue.Filter{RetireReason: hookqueue.RetiredGone}, paging.Page{})
	if err == nil {
		t.Fatalf("retire reason in a pending filter accepted")
	}

	n, err := q.Cancel(ctx, hookqueue.Filter{Account: "other"})
	tcheck(t, err, "cancel")
	tcompare(t, n, 3, "canceled")
	l, _, err := q.List(ctx, hookqueue.Filter{}, paging.Page{})
	tcheck(t, err, "list")
	tcompare(t, ids(l), "h0 h2 h4 h6 ", "pending after cancel")
	r, _, err := q.ListRetired(ctx, hookqueue.Filter{RetireReason: hookqueue.RetiredCanceled}, paging.Page{})
	tcheck(t, err, "list retired")
	tcompare(t, len(r), 3, "retired as canceled")
	tcompare(t, r[0].WebhookID, "h1", "first canceled")
	tcompare(t, r[0].Account, "other", "account")
	r, _, err = q.ListRetired(ctx, hookqueue.Filter{RetireReason: hookqueue.RetiredDelivered}, paging.Page{})
	tcheck(t, err, "list delivered")
	tcompare(t, len(r), 0, "none delivered")

	n, err = q.Retry(ctx, hookqueue.Filter{IDs: []int64{r0ID(t, q, "h3")}})
	tcheck(t, err, "retry")
	tcompare(t, n, 1, "retried")
	l, _, err = q.List(ctx, hookqueue.Filter{Account: "other"}, paging.Page{})
	tcheck(t, err, "list")
	tcompare(t, ids(l), "h3 ", "pending after retry")
}

// r0ID returns the job ID of a retired hook by webhook-id.
func r0ID(t *testing.T, q *riverhook.Queue, webhookID string) int64 {
	t.Helper()
	r, _, err := q.ListRetired(context.Background(), hookqueue.Filter{}, paging.Page{Limit: paging.MaxLimit})
	tcheck(t, err, "list retired")
	for _, h := range r {
		if h.WebhookID == webhookID {
			return h.ID
		}
	}
	t.Fatalf("%s not retired", webhookID)
	return 0
}

// A delivered hook's history keeps the attempt records of every node in
// order, and says it was signed without keeping the secrets.
func TestHistoryDelivered(t *testing.T) {
	rc := newReceiver(t, func(_ request, n int) (int, http.Header) {
		if n == 1 {
			return http.StatusInternalServerError, nil
		}
		return http.StatusOK, nil
	})
	q, pool := openQueuePool(t, riverhook.Config{})
	ev := events(t, q)
	ctx := context.Background()
	_, err := q.Insert(ctx, job("d1", rc.srv.URL))
	tcheck(t, err, "insert")
	run(t, q)
	rc.next(t)
	nextEvent(t, ev, river.EventKindJobFailed)
	_, err = q.Retry(ctx, hookqueue.Filter{})
	tcheck(t, err, "retry")
	rc.next(t)
	nextEvent(t, ev, river.EventKindJobCompleted)
	r, _, err := q.ListRetired(ctx, hookqueue.Filter{Account: "mjl"}, paging.Page{})
	tcheck(t, err, "list")
	tcompare(t, len(r), 1, "retired")
	h := r[0]
	tcompare(t, h.RetireReason, hookqueue.RetiredDelivered, "reason")
	tcompare(t, h.Success, true, "success")
	tcompare(t, h.Attempts, int64(2), "attempts")
	tcompare(t, len(h.Results), 2, "results")
	tcompare(t, h.Results[0].Code, int64(500), "first code")
	tcompare(t, h.Results[1].Code, int64(200), "second code")
	tcompare(t, h.Signed, true, "signed")
	tcompare(t, h.KeepUntil.Sub(h.LastActivity), riverhook.DefaultKeepRetired, "kept for")
	// The same webhook-id again is a duplicate of the delivered job.
	n, err := q.Insert(ctx, job("d1", rc.srv.URL))
	tcheck(t, err, "insert again")
	tcompare(t, n, 0, "inserted again")

	// When River's cleaner removes the job, its records go with it.
	_, err = q.Client().JobDelete(ctx, h.ID)
	tcheck(t, err, "delete job")
	var left int
	tcheck(t, pool.QueryRow(ctx, `SELECT count(*) FROM bouncekit_hook_attempt`).Scan(&left), "count records")
	tcompare(t, left, 0, "records left")
}
