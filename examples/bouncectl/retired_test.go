package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/queue"
)

func TestRetired(t *testing.T) {
	f := newFixture(t)

	out := f.ok("retired", "list")
	contains(t, out, "EVENT", "gone@example.com", "failed", "550 5.1.1 userunknown", "ok@example.org", "delivered")
	lacks(t, out, "carol@example.com")

	// Newest first, a page at a time; the cursor is on stderr for people
	// and in Next for scripts.
	r := f.run("retired", "list", "-limit", "1")
	contains(t, r.stdout, "ok@example.org")
	contains(t, r.stderr, fmt.Sprintf("more results: -cursor %d", f.delivered))
	p := jsonOf[pageJSON[queue.MsgRetired]](f, "retired", "list", "-limit", "1")
	if len(p.Items) != 1 || p.Items[0].ID != f.delivered || p.Next != f.delivered {
		t.Fatalf("page 1: %+v", p)
	}
	p = jsonOf[pageJSON[queue.MsgRetired]](f, "retired", "list", "-limit", "1", "-cursor", fmt.Sprint(p.Next))
	if len(p.Items) != 1 || p.Items[0].ID != f.gone || p.Next != 0 {
		t.Fatalf("page 2: %+v", p)
	}
	r = f.run("retired", "list", "-limit", "1", "-cursor", fmt.Sprint(f.delivered))
	lacks(t, r.stderr, "more results")

	// -oldest turns the order around; the cursor continues in that order.
	p = jsonOf[pageJSON[queue.MsgRetired]](f, "retired", "list", "-oldest", "-limit", "1")
	if len(p.Items) != 1 || p.Items[0].ID != f.gone || p.Next != f.gone {
		t.Fatalf("oldest page 1: %+v", p)
	}
	p = jsonOf[pageJSON[queue.MsgRetired]](f, "retired", "list", "-oldest", "-limit", "1", "-cursor", fmt.Sprint(p.Next))
	if len(p.Items) != 1 || p.Items[0].ID != f.delivered || p.Next != 0 {
		t.Fatalf("oldest page 2: %+v", p)
	}
	f.fails(exitUsage, "retired", "list", "-limit", "-1")

	// Filters.
	for _, tc := range []struct {
		args []string
		want []int64
	}{
		{[]string{"-event", "delivered"}, []int64{f.delivered}},
		{[]string{"-account", "alice"}, []int64{f.gone}},
		{[]string{"-recipient", "gone@example.com"}, []int64{f.gone}},
		{[]string{"-since", "+1m"}, []int64{}},
		{[]string{"-before", "+1m"}, []int64{f.delivered, f.gone}},
	} {
		p := jsonOf[pageJSON[queue.MsgRetired]](f, append([]string{"retired", "list"}, tc.args...)...)
		ids := []int64{}
		for _, m := range p.Items {
			ids = append(ids, m.ID)
		}
		sameIDs(t, strings.Join(tc.args, " "), ids, tc.want)
	}

	out = f.ok("retired", "show", fmt.Sprint(f.gone))
	contains(t, out, "Event:", "failed", "Kept until:", "2025-04-03 09:00:00 (in 720h0m0s)", "permanent", "user unknown")
	m := jsonOf[queue.MsgRetired](f, "retired", "show", fmt.Sprint(f.delivered))
	if m.Event != "delivered" || !m.Success {
		t.Errorf("json show: %+v", m)
	}
	f.fails(exitNotFound, "retired", "show", fmt.Sprint(f.carol))
}
