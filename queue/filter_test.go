package queue_test

import (
	"context"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
)

// Filters without any string field set (IDs only, or nothing at all) must
// work: bstore refuses an empty FilterNonzero, so the filter skips it.
func TestZeroFilters(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	a := e.add(nil, "a@example.com")[0]
	b := e.add(nil, "b@example.net")[0]

	err := e.write(func(tx *bstore.Tx) error {
		n, err := queue.SetHold(tx, queue.MsgFilter{IDs: []int64{a.ID}}, true)
		tcheck(t, err, "hold by id")
		tcompare(t, n, 1, "held by id")
		n, err = queue.SetHold(tx, queue.MsgFilter{}, false)
		tcheck(t, err, "release all")
		tcompare(t, n, 1, "released")

		rule := queue.HoldRule{}
		n, err = queue.AddHoldRule(tx, &rule)
		tcheck(t, err, "hold-everything rule")
		tcompare(t, n, 2, "held by rule")
		tcheck(t, queue.RemoveHoldRule(tx, rule.ID), "remove rule")

		out, err := e.h.CancelMsgs(tx, queue.MsgFilter{IDs: []int64{b.ID}})
		tcheck(t, err, "cancel by id")
		tcompare(t, len(out), 1, "canceled")
		return nil
	})
	tcheck(t, err, "write")

	err = e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		l, next, err := queue.ListRetired(tx, queue.RetiredFilter{}, paging.Page{Limit: 10})
		tcheck(t, err, "list retired without filter")
		tcompare(t, len(l), 1, "retired")
		tcompare(t, l[0].ID, b.ID, "retired id")
		tcompare(t, next, int64(0), "next")
		return nil
	})
	tcheck(t, err, "read")
	if m, ok := e.get(a.ID); !ok || !m.Hold {
		t.Fatalf("message a: present %v, held %v; want held by the rule", ok, m.Hold)
	}
}
