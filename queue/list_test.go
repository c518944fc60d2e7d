package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
)

func msgIDs(msgs []queue.Msg) []int64 {
	ids := []int64{}
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestListMsgs(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	a := e.add(nil, "a@example.com", "b@example.com")
	c := e.add(func(m *queue.Msg) { m.SenderAccount = "bob"; m.SenderAddress = "bob@example.net" }, "c@example.org")[0]
	later := e.add(func(m *queue.Msg) { m.NextAttempt = t0.Add(time.Hour) }, "d@example.org")[0]
	err := e.write(func(tx *bstore.Tx) error {
		_, err := queue.SetHold(tx, queue.MsgFilter{IDs: []int64{a[1].ID}}, true)
		return err
	})
	tcheck(t, err, "hold")

	tests := []struct {
		name   string
		filter queue.ListFilter
		want   []int64
	}{
		{"all", queue.ListFilter{}, []int64{a[0].ID, a[1].ID, c.ID, later.ID}},
		{"account", queue.ListFilter{MsgFilter: queue.MsgFilter{Account: "bob"}}, []int64{c.ID}},
		{"sender domain", queue.ListFilter{MsgFilter: queue.MsgFilter{SenderDomain: "EXAMPLE.NET"}}, []int64{c.ID}},
		{"recipient domain", queue.ListFilter{MsgFilter: queue.MsgFilter{RecipientDomain: "example.org"}}, []int64{c.ID, later.ID}},
		{"ids", queue.ListFilter{MsgFilter: queue.MsgFilter{IDs: []int64{later.ID, a[0].ID}}}, []int64{a[0].ID, later.ID}},
		{"held", queue.ListFilter{Held: true}, []int64{a[1].ID}},
		{"due before", queue.ListFilter{DueBefore: t0.Add(time.Minute)}, []int64{a[0].ID, a[1].ID, c.ID}},
		{"due after", queue.ListFilter{DueAfter: t0.Add(time.Minute)}, []int64{later.ID}},
		{"due range and domain", queue.ListFilter{MsgFilter: queue.MsgFilter{RecipientDomain: "example.org"}, DueBefore: t0.Add(time.Minute)}, []int64{c.ID}},
		{"none", queue.ListFilter{MsgFilter: queue.MsgFilter{Recipient: "nobody@example.com"}}, []int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
				l, next, err := queue.ListMsgs(tx, tc.filter, paging.Page{})
				tcheck(t, err, "list")
				tcompare(t, msgIDs(l), tc.want, "listed")
				tcompare(t, next, int64(0), "next")
				m, err := queue.MatchMsgs(tx, tc.filter)
				tcheck(t, err, "match")
				tcompare(t, msgIDs(m), tc.want, "matched")
				return nil
			})
			tcheck(t, err, "read")
		})
	}

	// Pages of two, both directions.
	err = e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		l, next, err := queue.ListMsgs(tx, queue.ListFilter{}, paging.Page{Limit: 2})
		tcheck(t, err, "page 1")
		tcompare(t, msgIDs(l), []int64{a[0].ID, a[1].ID}, "page 1")
		tcompare(t, next, a[1].ID, "cursor 1")
		l, next, err = queue.ListMsgs(tx, queue.ListFilter{}, paging.Page{After: next, Limit: 2})
		tcheck(t, err, "page 2")
		tcompare(t, msgIDs(l), []int64{c.ID, later.ID}, "page 2")
		tcompare(t, next, int64(0), "cursor 2")
		l, _, err = queue.ListMsgs(tx, queue.ListFilter{}, paging.Page{Limit: 1, Newest: true})
		tcheck(t, err, "newest")
		tcompare(t, msgIDs(l), []int64{later.ID}, "newest")
		return nil
	})
	tcheck(t, err, "read")
}

func TestReschedule(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	msgs := e.add(func(m *queue.Msg) { m.NextAttempt = t0.Add(time.Hour) }, "a@example.com", "b@example.com")

	err := e.write(func(tx *bstore.Tx) error {
		_, err := queue.Reschedule(tx, queue.MsgFilter{}, time.Time{})
		if !errors.Is(err, queue.ErrZeroTime) {
			t.Fatalf("zero time: got %v, want ErrZeroTime", err)
		}
		n, err := queue.Reschedule(tx, queue.MsgFilter{IDs: []int64{msgs[0].ID}}, t0)
		tcheck(t, err, "reschedule")
		tcompare(t, n, 1, "rescheduled")
		// Already at that time: not counted as changed.
		n, err = queue.Reschedule(tx, queue.MsgFilter{IDs: []int64{msgs[0].ID}}, t0)
		tcheck(t, err, "reschedule again")
		tcompare(t, n, 0, "rescheduled again")
		return nil
	})
	tcheck(t, err, "write")

	m, _ := e.get(msgs[0].ID)
	tcompare(t, m.NextAttempt.Equal(t0), true, "next attempt of the rescheduled message")
	m, _ = e.get(msgs[1].ID)
	tcompare(t, m.NextAttempt.Equal(t0.Add(time.Hour)), true, "next attempt of the other message")

	// Due finds it now, through the NextAttempt index.
	err = e.write(func(tx *bstore.Tx) error {
		batches, err := e.h.Due(tx, t0, 0)
		tcheck(t, err, "due")
		tcompare(t, len(batches), 1, "batches")
		tcompare(t, msgIDs(batches[0].Msgs), []int64{msgs[0].ID}, "due messages")
		return nil
	})
	tcheck(t, err, "write")
}
