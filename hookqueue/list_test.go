package hookqueue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/webhook"
)

func TestEnqueueValidation(t *testing.T) {
	h := newHarness(t, nil)
	good := testHook("http://127.0.0.1:1/")
	tests := []struct {
		name   string
		modify func(*Hook)
		errSub string
	}{
		{"no account", func(h *Hook) { h.Account = "" }, "without account"},
		{"ftp url", func(h *Hook) { h.URL = "ftp://example.org/" }, "http or https"},
		{"no host", func(h *Hook) { h.URL = "http:///path" }, "http or https"},
		{"bad url", func(h *Hook) { h.URL = "http://[::1" }, "parsing url"},
		{"bad secret", func(h *Hook) { h.Secrets = []string{"whsec_!!"} }, "secret"},
		{"no event", func(h *Hook) { h.Payload.Event = "" }, "without event"},
		{"event mismatch", func(h *Hook) { h.Event = webhook.EventFailed }, "differs"},
		{"msgid mismatch", func(h *Hook) { h.QueueMsgID = 5 }, "differs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hk := good
			tc.modify(&hk)
			err := h.db.Write(context.Background(), func(tx *bstore.Tx) error {
				return h.q.Enqueue(tx, good, hk)
			})
			if err == nil || !strings.Contains(err.Error(), tc.errSub) || !strings.HasPrefix(err.Error(), "hookqueue: ") {
				t.Fatalf("got error %v, expected %q", err, tc.errSub)
			}
			tcompare(t, len(h.pending()), 0, "hooks after rolled back enqueue")
		})
	}

	// Event and QueueMsgID may be given on the Hook instead of the payload.
	hk := Hook{Account: "a", URL: "https://example.org/hook", Event: webhook.EventFailed, QueueMsgID: 7}
	l := h.enqueue(hk)
	tcompare(t, l[0].Payload.Event, webhook.EventFailed, "payload event")
	tcompare(t, l[0].Payload.QueueMsgID, int64(7), "payload msgid")
	tcompare(t, l[0].Payload.WebhookQueued, h.clk.Now(), "webhook queued")
	tcompare(t, l[0].NextAttempt, h.clk.Now(), "next attempt")
	if l[0].ID == 0 {
		t.Fatalf("no id assigned")
	}
}

func TestListCancelCleanup(t *testing.T) {
	h := newHarness(t, nil)
	var hooks []Hook
	for i := range 5 {
		hk := testHook("https://a.example/hook")
		hk.Payload.QueueMsgID = int64(100 + i)
		if i >= 3 {
			hk.Account = "other"
			hk.URL = "https://b.example/hook"
			hk.Payload.Event = webhook.EventFailed
		}
		hooks = append(hooks, hk)
	}
	hooks[4].KeepFor = -1 // Not kept after retirement.
	hooks = h.enqueue(hooks...)
	ctx := context.Background()

	// Pagination over all, two at a time, both directions.
	var ids []int64
	var cursor int64
	for {
		l, next, err := h.q.List(ctx, Filter{}, paging.Page{After: cursor, Limit: 2})
		tcheck(t, err, "list")
		for _, hk := range l {
			ids = append(ids, hk.ID)
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	tcompare(t, len(ids), 5, "listed")
	for i := range ids {
		tcompare(t, ids[i], hooks[i].ID, "order")
	}
	l, next, err := h.q.List(ctx, Filter{}, paging.Page{Limit: 2, Newest: true})
	tcheck(t, err, "list desc")
	tcompare(t, l[0].ID, hooks[4].ID, "newest first")
	tcompare(t, next, hooks[3].ID, "desc cursor")

	// Filters.
	for _, tc := range []struct {
		f Filter
		n int
	}{
		{Filter{Account: "acc"}, 3},
		{Filter{Account: "other", Event: webhook.EventFailed}, 2},
		{Filter{URL: "https://b.example/hook"}, 2},
		{Filter{QueueMsgID: 101}, 1},
		{Filter{IDs: []int64{hooks[0].ID, hooks[4].ID}}, 2},
		{Filter{SubmittedBefore: h.clk.Now()}, 0},
		{Filter{SubmittedAfter: h.clk.Now()}, 5},
		{Filter{Event: webhook.EventDelayed}, 0},
	} {
		l, _, err := h.q.List(ctx, tc.f, paging.Page{})
		tcheck(t, err, "list filtered")
		tcompare(t, len(l), tc.n, "filtered count")
	}
	if _, _, err := h.q.List(ctx, Filter{RetireReason: RetiredGone}, paging.Page{}); err == nil {
		t.Fatalf("outcome filter on pending accepted")
	}

	// Cancel one account.
	h.clk.Advance(time.Hour)
	n, err := h.q.Cancel(ctx, Filter{Account: "other"})
	tcheck(t, err, "cancel")
	tcompare(t, n, 2, "canceled")
	tcompare(t, len(h.pending()), 3, "pending after cancel")
	ret, _, err := h.q.ListRetired(ctx, Filter{RetireReason: RetiredCanceled}, paging.Page{})
	tcheck(t, err, "list retired")
	tcompare(t, len(ret), 1, "retired kept (one had KeepFor -1)")
	tcompare(t, ret[0].ID, hooks[3].ID, "retired id")
	tcompare(t, ret[0].KeepUntil, h.clk.Now().Add(DefaultKeepRetired), "keep until")

	// Cleanup removes only expired records.
	n, err = h.q.Cleanup(ctx)
	tcheck(t, err, "cleanup")
	tcompare(t, n, 0, "cleaned before expiry")
	h.clk.Advance(DefaultKeepRetired + time.Second)
	n, err = h.q.Cleanup(ctx)
	tcheck(t, err, "cleanup")
	tcompare(t, n, 1, "cleaned after expiry")
}

// The Tx forms join the caller's transaction: they see its uncommitted
// hooks, and a rollback undoes a cancel and a cleanup.
func TestTxForms(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	kept := h.enqueue(testHook("https://a.example/hook"))
	// One retired hook that expired, for CleanupTx.
	expired := testHook("https://a.example/hook")
	expired.KeepFor = time.Minute
	expired.Payload.QueueMsgID = 7
	h.enqueue(expired)
	_, err := h.q.Cancel(ctx, Filter{QueueMsgID: 7})
	tcheck(t, err, "cancel")
	h.clk.Advance(time.Hour)

	errRollback := errors.New("rollback")
	err = h.db.Write(ctx, func(tx *bstore.Tx) error {
		hk := testHook("https://b.example/hook")
		if err := h.q.Enqueue(tx, hk); err != nil {
			return err
		}
		l, next, err := h.q.ListTx(tx, Filter{URL: "https://b.example/hook"}, paging.Page{})
		tcheck(t, err, "list in tx")
		tcompare(t, len(l), 1, "uncommitted hook listed")
		tcompare(t, next, int64(0), "next")

		n, err := h.q.CancelTx(tx, Filter{})
		tcheck(t, err, "cancel in tx")
		tcompare(t, n, 2, "canceled in tx")
		ret, _, err := h.q.ListRetiredTx(tx, Filter{RetireReason: RetiredCanceled}, paging.Page{Newest: true})
		tcheck(t, err, "list retired in tx")
		tcompare(t, len(ret), 3, "retired in tx")
		tcompare(t, ret[0].URL, "https://b.example/hook", "newest retired: the uncommitted hook")

		n, err = h.q.CleanupTx(tx, h.clk.Now())
		tcheck(t, err, "cleanup in tx")
		tcompare(t, n, 1, "cleaned in tx")
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("write: %v", err)
	}
	l, _, err := h.q.List(ctx, Filter{}, paging.Page{})
	tcheck(t, err, "list after rollback")
	tcompare(t, len(l), 1, "pending after rollback")
	tcompare(t, l[0].ID, kept[0].ID, "pending hook after rollback")
	ret, _, err := h.q.ListRetired(ctx, Filter{}, paging.Page{})
	tcheck(t, err, "list retired after rollback")
	tcompare(t, len(ret), 1, "retired after rollback")

	err = h.db.Write(ctx, func(tx *bstore.Tx) error {
		_, err := h.q.CancelTx(tx, Filter{RetireReason: RetiredGone})
		return err
	})
	if err == nil {
		t.Fatalf("CancelTx with an outcome filter accepted")
	}
}

// Retry makes only the matching pending hooks due now, keeping their
// attempts.
func TestRetry(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	later := h.clk.Now().Add(time.Hour)
	var hooks []Hook
	for i := range 3 {
		hk := testHook("https://a.example/hook")
		hk.Payload.QueueMsgID = int64(100 + i)
		hk.NextAttempt = later
		hooks = append(hooks, hk)
	}
	hooks[2].Account = "other"
	hooks = h.enqueue(hooks...)
	h.clk.Advance(time.Minute)

	for _, tc := range []struct {
		name string
		f    Filter
		want int
	}{
		{"no match", Filter{Account: "nobody"}, 0},
		{"one message", Filter{Account: "acc", QueueMsgID: 101}, 1},
		{"event and URL", Filter{Event: webhook.EventDelivered, URL: "https://a.example/hook", IDs: []int64{hooks[0].ID, hooks[2].ID}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.db.Write(ctx, func(tx *bstore.Tx) error {
				n, err := h.q.RetryTx(tx, tc.f)
				tcompare(t, n, tc.want, "retried")
				return err
			})
			tcheck(t, err, "retry")
		})
	}
	now := h.clk.Now()
	for i, hk := range h.pending() {
		tcompare(t, hk.NextAttempt, now, fmt.Sprintf("hook %d due", i))
	}

	// The ctx form, and an outcome filter is refused.
	h.clk.Advance(time.Minute)
	n, err := h.q.Retry(ctx, Filter{Account: "other"})
	tcheck(t, err, "retry")
	tcompare(t, n, 1, "retried")
	tcompare(t, h.pending()[2].NextAttempt, h.clk.Now(), "other due")
	tcompare(t, h.pending()[0].NextAttempt, now, "acc unchanged")
	if _, err := h.q.Retry(ctx, Filter{RetireReason: RetiredFailed}); err == nil {
		t.Fatalf("outcome filter on pending accepted")
	}
}

// Without a database, the methods that open a transaction and Run return
// ErrNoDB.
func TestNoDB(t *testing.T) {
	q := &Queue{}
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"List":        func() error { _, _, err := q.List(ctx, Filter{}, paging.Page{}); return err },
		"ListRetired": func() error { _, _, err := q.ListRetired(ctx, Filter{}, paging.Page{}); return err },
		"Cancel":      func() error { _, err := q.Cancel(ctx, Filter{}); return err },
		"Cleanup":     func() error { _, err := q.Cleanup(ctx); return err },
		"Retry":       func() error { _, err := q.Retry(ctx, Filter{}); return err },
		"Run":         func() error { return q.Run(ctx) },
	} {
		if err := call(); !errors.Is(err, ErrNoDB) {
			t.Errorf("%s: got %v, want ErrNoDB", name, err)
		}
	}
}

// With Supersede, a newer event for the same message retires the pending
// older one; without it both are kept.
func TestSupersede(t *testing.T) {
	for _, supersede := range []bool{false, true} {
		h := newHarness(t, func(q *Queue) { q.Supersede = supersede })
		first := testHook("https://a.example/hook")
		first.Payload.Event = webhook.EventDelayed
		f := h.enqueue(first)
		second := testHook("https://a.example/hook")
		second.Payload.Event = webhook.EventFailed
		s := h.enqueue(second)
		other := testHook("https://a.example/hook")
		other.Payload.QueueMsgID = 999
		h.enqueue(other)
		if !supersede {
			tcompare(t, len(h.pending()), 3, "pending without supersede")
			continue
		}
		tcompare(t, len(h.pending()), 2, "pending with supersede")
		ret := h.retired()
		tcompare(t, len(ret), 1, "retired")
		tcompare(t, ret[0].ID, f[0].ID, "superseded id")
		tcompare(t, ret[0].RetireReason, RetiredSuperseded, "outcome")
		tcompare(t, ret[0].SupersededByID, s[0].ID, "superseded by")
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	tcheck(t, err, "new metrics")
	if _, err := NewMetrics(reg); err == nil {
		t.Fatalf("registering twice succeeded")
	}
	fail := NewReceiver(t, http.StatusInternalServerError)
	ok := NewReceiver(t, 0)
	h := newHarness(t, func(q *Queue) { q.Metrics = m })
	h.enqueue(testHook(fail.URL), testHook(ok.URL), testHook("http://10.0.0.1/"))
	h.clk.Advance(time.Minute) // Age of the oldest hook when Run starts.
	h.start()
	for range 3 {
		h.next()
	}
	h.stop()

	values := gatherValues(t, reg)
	exp := map[string]float64{
		"bouncekit_webhook_results_total/2xx":          1,
		"bouncekit_webhook_results_total/5xx":          1,
		"bouncekit_webhook_results_total/refused":      1,
		"bouncekit_webhook_request_duration_seconds":   3,
		"bouncekit_webhook_queue_size":                 3,
		"bouncekit_webhook_oldest_pending_age_seconds": 60,
	}
	for k, v := range exp {
		tcompare(t, values[k], v, k)
	}
	if values["bouncekit_webhook_commit_batch_size"] < 1 {
		t.Fatalf("no commit batches observed")
	}
}

// gatherValues returns the metrics in reg by name and label values
// ("name/label"): a counter's or gauge's value, a histogram's count.
func gatherValues(t testing.TB, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	values := map[string]float64{}
	mfs, err := reg.Gather()
	tcheck(t, err, "gather")
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range metric.GetLabel() {
				name += "/" + l.GetValue()
			}
			switch {
			case metric.GetCounter() != nil:
				values[name] = metric.GetCounter().GetValue()
			case metric.GetGauge() != nil:
				values[name] = metric.GetGauge().GetValue()
			case metric.GetHistogram() != nil:
				values[name] = float64(metric.GetHistogram().GetSampleCount())
			}
		}
	}
	return values
}

func TestCheckAddr(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
	for _, tc := range []struct {
		ip string
		ok bool
	}{
		{"93.184.215.14", true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", true},
		{"10.1.2.3", true}, // Allowed explicitly.
		{"127.0.0.1", false},
		{"::1", false},
		{"10.2.0.1", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"fd00::1", false},
		{"169.254.169.254", false}, // Cloud metadata.
		{"fe80::1", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"100.64.0.1", false},
		{"255.255.255.255", false},
		{"::ffff:127.0.0.1", false},    // Mapped loopback.
		{"64:ff9b::7f00:1", false},     // NAT64 of 127.0.0.1.
		{"64:ff9b::5db8:d70e", true},   // NAT64 of a public address.
		{"::ffff:93.184.215.14", true}, // Mapped public.
	} {
		err := checkAddr(netip.MustParseAddr(tc.ip), allow)
		if (err == nil) != tc.ok {
			t.Errorf("%s: got %v, expected ok %v", tc.ip, err, tc.ok)
		}
	}
}
