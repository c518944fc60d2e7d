package hookqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/plantest"
	"github.com/bouncekit/bouncekit/paging"
)

// bodies returns the HookBody records, by ID.
func (h *harness) bodies() []HookBody {
	h.t.Helper()
	l, err := bstore.QueryDB[HookBody](context.Background(), h.db).SortAsc("ID").List()
	tcheck(h.t, err, "list hook bodies")
	return l
}

// An incoming hook's Text and HTML are stored in a HookBody, not in the
// Hook record: listings and the record rewritten per attempt are without
// them, while every request sends the whole payload, byte for byte. The
// HookBody goes when the hook is retired, and the history has no parts
// either.
func TestIncomingBodyApart(t *testing.T) {
	bodyc := make(chan []byte, 10)
	fail := make(chan bool, 10) // Per request: answer 500.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodyc <- b
		select {
		case f := <-fail:
			if f {
				w.WriteHeader(http.StatusInternalServerError)
			}
		default:
		}
	}))
	defer srv.Close()

	h := newHarness(t, nil)
	in := testIncoming()
	in.Text = strings.Repeat("text ", 50000)
	in.HTML = "<p>" + strings.Repeat("html ", 50000) + "</p>"
	want, err := json.Marshal(in)
	tcheck(t, err, "marshal")
	noParts := testIncoming()
	noParts.Text, noParts.HTML = "", ""
	hooks := h.enqueue(
		Hook{Account: "acc", URL: srv.URL + "/in", Incoming: in},
		Hook{Account: "acc", URL: "https://app.example/in", Incoming: noParts},
		testHook("https://app.example/out"),
	)
	// The caller's payload is not changed.
	tcompare(t, len(hooks[0].Incoming.Text) == 250000 && len(hooks[0].Incoming.HTML) > 250000, true, "caller's payload whole")

	// One HookBody, for the hook with parts only.
	b := h.bodies()
	tcompare(t, len(b), 1, "hook bodies")
	tcompare(t, b[0].ID, hooks[0].ID, "hook body id")
	tcompare(t, b[0].Text == in.Text && b[0].HTML == in.HTML, true, "hook body parts")

	checkList := func(what string) {
		t.Helper()
		l, _, err := h.q.List(context.Background(), Filter{Account: "acc"}, paging.Page{})
		tcheck(t, err, "list")
		var incoming int
		for _, hk := range l {
			if hk.Incoming == nil {
				continue
			}
			incoming++
			if hk.Incoming.Text != "" || hk.Incoming.HTML != "" || hk.Incoming.Subject != in.Subject || hk.Incoming.Meta.MsgID != in.Meta.MsgID {
				t.Fatalf("%s: listed hook %d: text %d bytes, html %d bytes, subject %q, msgid %d", what, hk.ID, len(hk.Incoming.Text), len(hk.Incoming.HTML), hk.Incoming.Subject, hk.Incoming.Meta.MsgID)
			}
		}
		if incoming == 0 {
			t.Fatalf("%s: no incoming hook listed", what)
		}
	}
	checkList("enqueued")

	// Cancel the two hooks that cannot be delivered here; the first is
	// delivered on its second attempt.
	_, err = h.q.Cancel(context.Background(), Filter{IDs: []int64{hooks[1].ID, hooks[2].ID}})
	tcheck(t, err, "cancel")
	fail <- true
	fail <- false
	h.start()
	r := h.next()
	tcompare(t, r.retired, false, "retired after failed attempt")
	tcompare(t, r.hook.Incoming != nil && r.hook.Incoming.Text == "", true, "hook as stored has no text")
	if got := <-bodyc; !bytes.Equal(got, want) {
		t.Fatalf("first request body differs from the payload: %d bytes, want %d", len(got), len(want))
	}
	checkList("after a failed attempt")
	tcompare(t, len(h.bodies()), 1, "hook bodies while pending")

	h.advance(time.Hour)
	r = h.next()
	tcompare(t, r.retired, true, "retired")
	tcompare(t, r.hook.LastResult().Success, true, "delivered")
	if got := <-bodyc; !bytes.Equal(got, want) {
		t.Fatalf("second request body differs from the payload: %d bytes, want %d", len(got), len(want))
	}
	tcompare(t, len(h.bodies()), 0, "hook bodies after retiring")

	l, _, err := h.q.ListRetired(context.Background(), Filter{Account: "acc"}, paging.Page{})
	tcheck(t, err, "list retired")
	tcompare(t, len(l), 3, "retired hooks")
	for _, rh := range l {
		if rh.Incoming != nil && (rh.Incoming.Text != "" || rh.Incoming.HTML != "" || rh.Incoming.Subject != in.Subject) {
			t.Fatalf("retired hook %d: text %d bytes, html %d bytes, subject %q", rh.ID, len(rh.Incoming.Text), len(rh.Incoming.HTML), rh.Incoming.Subject)
		}
	}
}

// Every way an incoming hook leaves the queue removes its HookBody in the
// same transaction, also when no history is kept; a rolled-back cancel
// keeps both.
func TestIncomingBodyRemoved(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
		case "/gone":
			w.WriteHeader(http.StatusGone)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	errRollback := errors.New("rollback")
	cancelTx := func(h *harness, id int64, fail bool) {
		err := h.db.Write(context.Background(), func(tx *bstore.Tx) error {
			n, err := h.q.CancelTx(tx, Filter{IDs: []int64{id}})
			tcompare(t, n, 1, "canceled")
			if err == nil && fail {
				err = errRollback
			}
			return err
		})
		if fail != errors.Is(err, errRollback) {
			t.Fatalf("cancel: %v", err)
		}
	}
	tests := []struct {
		name        string
		path        string
		keepFor     time.Duration
		leave       func(h *harness, id int64) // Nil: Run delivers the hook, once.
		wantPending int
		wantRetired RetireReason // Empty: no history.
	}{
		{name: "delivered", path: "/ok", wantRetired: RetiredDelivered},
		{name: "delivered, no history", path: "/ok", keepFor: -1},
		{name: "gone", path: "/gone", wantRetired: RetiredGone},
		{name: "failed", path: "/down", wantRetired: RetiredFailed},
		{name: "canceled", path: "/ok", leave: func(h *harness, id int64) {
			n, err := h.q.Cancel(context.Background(), Filter{IDs: []int64{id}})
			tcheck(t, err, "cancel")
			tcompare(t, n, 1, "canceled")
		}, wantRetired: RetiredCanceled},
		{name: "canceled in tx, no history", path: "/ok", keepFor: -1, leave: func(h *harness, id int64) { cancelTx(h, id, false) }},
		{name: "cancel rolled back", path: "/ok", leave: func(h *harness, id int64) { cancelTx(h, id, true) }, wantPending: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(q *Queue) { q.Schedule = []time.Duration{} }) // Give up after one failed attempt.
			hooks := h.enqueue(Hook{Account: "acc", URL: srv.URL + tc.path, KeepFor: tc.keepFor, Incoming: testIncoming()})
			tcompare(t, len(h.bodies()), 1, "hook bodies enqueued")
			if tc.leave == nil {
				h.start()
				tcompare(t, h.next().retired, true, "retired")
				h.stop()
			} else {
				tc.leave(h, hooks[0].ID)
			}
			tcompare(t, len(h.pending()), tc.wantPending, "pending hooks")
			tcompare(t, len(h.bodies()), tc.wantPending, "hook bodies")
			retired := h.retired()
			if tc.wantRetired == "" {
				tcompare(t, len(retired), 0, "retired hooks")
			} else {
				tcompare(t, len(retired), 1, "retired hooks")
				tcompare(t, retired[0].RetireReason, tc.wantRetired, "retire reason")
			}
		})
	}
}

// Enqueue writes the HookBody in the caller's transaction: when that
// rolls back, or Enqueue fails on a later hook, nothing is stored.
func TestIncomingBodyRollback(t *testing.T) {
	errRollback := errors.New("rollback")
	tests := []struct {
		name  string
		hooks []Hook
		after error // Returned from the transaction after Enqueue.
	}{
		{"caller rolls back", []Hook{{Account: "acc", URL: "https://app.example/in", Incoming: testIncoming()}}, errRollback},
		{"later hook invalid", []Hook{
			{Account: "acc", URL: "https://app.example/in", Incoming: testIncoming()},
			{Account: "acc", URL: "ftp://app.example/in", Incoming: testIncoming()},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			err := h.db.Write(context.Background(), func(tx *bstore.Tx) error {
				if err := h.q.Enqueue(tx, tc.hooks...); err != nil {
					return err
				}
				return tc.after
			})
			if err == nil {
				t.Fatalf("transaction committed")
			}
			tcompare(t, len(h.pending()), 0, "pending hooks")
			tcompare(t, len(h.bodies()), 0, "hook bodies")
		})
	}
}

// Only an incoming hook with Text or HTML writes the HookBody tree, when
// it is enqueued and when it leaves the queue: an outgoing hook, the queue's
// common case, costs no page of it, read from the database file before
// and after each commit.
func TestHookBodyBuckets(t *testing.T) {
	noParts := testIncoming()
	noParts.Text, noParts.HTML = "", ""
	tests := []struct {
		name string
		hook Hook
		want bool // HookBody buckets written by enqueue and by cancel.
	}{
		{"outgoing", testHook("https://app.example/out"), false},
		{"incoming without parts", Hook{Account: "acc", URL: "https://app.example/in", Incoming: noParts}, false},
		{"incoming", Hook{Account: "acc", URL: "https://app.example/in", Incoming: testIncoming()}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			// Enough hooks that the Hook trees are not inline.
			var filler []Hook
			for i := range 200 {
				hk := testHook(fmt.Sprintf("https://app.example/%d", i))
				hk.NextAttempt = h.clk.Now().Add(time.Hour)
				filler = append(filler, hk)
			}
			h.enqueue(filler...)
			other := testIncoming()
			other.Meta.MsgID = 8
			h.enqueue(Hook{Account: "other", URL: "https://app.example/in", Incoming: other})

			bodyWritten := func(what string, fn func()) bool {
				t.Helper()
				before, err := plantest.ReadPages(h.path)
				tcheck(t, err, "reading pages")
				fn()
				after, err := plantest.ReadPages(h.path)
				tcheck(t, err, "reading pages")
				names := plantest.Names(plantest.Written(before, after))
				if !slices.Contains(names, "Hook/records") {
					t.Fatalf("%s: Hook records not written: %v", what, names)
				}
				return slices.ContainsFunc(names, func(s string) bool { return s == "HookBody" || strings.HasPrefix(s, "HookBody/") })
			}
			var id int64
			wrote := bodyWritten("enqueue", func() { id = h.enqueue(tc.hook)[0].ID })
			tcompare(t, wrote, tc.want, "HookBody written by enqueue")
			wrote = bodyWritten("cancel", func() {
				_, err := h.q.Cancel(context.Background(), Filter{IDs: []int64{id}})
				tcheck(t, err, "cancel")
			})
			tcompare(t, wrote, tc.want, "HookBody written by cancel")
			tcompare(t, len(h.bodies()), 1, "hook bodies left (the other account's)")
		})
	}
}
