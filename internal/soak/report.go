package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"sort"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/internal/workload"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// row is one line of the report: a count and, for a check, whether it
// holds.
type row struct {
	what   string
	count  string
	check  bool // The row is an equation that must hold.
	broken bool
}

// report is the result of a run.
type report struct {
	msgs    int64
	seed    uint64
	rows    []row
	phases  []phase
	wall    time.Duration
	sim     time.Duration
	dbSize  int64
	peakRSS int64
	// peakAnon is the largest anonymous RSS sampled (every progress line
	// and at the end): the process without the mapped database file.
	peakAnon int64
}

// ok reports whether every ledger equation holds.
func (r *report) ok() bool {
	for _, x := range r.rows {
		if x.broken {
			return false
		}
	}
	return true
}

func (r *report) count(what string, n int64) {
	r.rows = append(r.rows, row{what: what, count: fmt.Sprint(n)})
}

func (r *report) equation(what string, left, right int64) {
	r.rows = append(r.rows, row{what: what, count: fmt.Sprintf("%d = %d", left, right), check: true, broken: left != right})
}

// report counts the database and checks the ledger.
func (s *soak) report(ctx context.Context, phases []phase, wall time.Duration) (*report, error) {
	var queued, outbox, hooksPending, entries int
	retired := map[webhook.OutgoingEvent]int64{}
	hookOutcomes := map[hookqueue.RetireReason]int64{}
	hookEvents := map[webhook.OutgoingEvent]int64{}
	err := s.db.Read(ctx, func(tx *bstore.Tx) (err error) {
		if queued, err = bstore.QueryTx[queue.Msg](tx).Count(); err != nil {
			return err
		}
		if outbox, err = bstore.QueryTx[queue.OutboxDSN](tx).Count(); err != nil {
			return err
		}
		if hooksPending, err = bstore.QueryTx[hookqueue.Hook](tx).Count(); err != nil {
			return err
		}
		if entries, err = bstore.QueryTx[suppression.Entry](tx).Count(); err != nil {
			return err
		}
		err = bstore.QueryTx[queue.MsgRetired](tx).ForEach(func(m queue.MsgRetired) error {
			retired[m.Event]++
			return nil
		})
		if err != nil {
			return err
		}
		return bstore.QueryTx[hookqueue.HookRetired](tx).ForEach(func(h hookqueue.HookRetired) error {
			hookOutcomes[h.RetireReason]++
			if h.RetireReason == hookqueue.RetiredDelivered {
				hookEvents[h.Event]++
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("soak: counting the database: %w", err)
	}

	l := s.led
	r := &report{msgs: s.cfg.Msgs, seed: s.cfg.Seed, phases: phases, wall: wall, sim: s.clock.Now().Sub(workload.ClockStart())}
	r.count("messages added (submissions of 1-10 recipients)", l.added)
	r.count("  submissions", s.subs)
	r.count("delivered", l.delivered)
	r.count("failed", l.failed)
	r.count("  of which delivered, then failed by a late DSN", l.lateFailed)
	r.count("suppressed", l.suppressed)
	r.count("  at Add", l.addSuppressed)
	r.count("  by Due (suppressed while queued)", l.dueSuppressed)
	r.count("  by FailMsgs (suppressed meanwhile)", l.failSuppressed)
	r.equation("  at Add + by Due + by FailMsgs = suppressed", l.addSuppressed+l.dueSuppressed+l.failSuppressed, l.suppressed)
	r.count("still queued", int64(queued))
	r.equation("ledger: delivered + failed + suppressed + still queued = added", l.delivered+l.failed+l.suppressed+int64(queued), l.added)
	r.equation("database: retired delivered = delivered", retired[webhook.EventDelivered], l.delivered)
	r.equation("database: retired failed = failed", retired[webhook.EventFailed], l.failed)
	r.equation("database: retired suppressed = suppressed", retired[webhook.EventSuppressed], l.suppressed)
	var otherRetired int64
	for e, n := range retired {
		if e != webhook.EventDelivered && e != webhook.EventFailed && e != webhook.EventSuppressed {
			otherRetired += n
		}
	}
	r.equation("database: retired otherwise", otherRetired, 0)
	r.count("peak queued (after a round of the delivery loop)", s.peakQueue)
	r.count("delivery attempts", l.attempts)
	r.count("  retried (temporary failures)", l.retries)
	r.count("late DSNs processed (ProcessIncoming, matched by FromID)", l.lateSent)
	r.equation("  failed a delivered message, or duplicate = processed", l.lateFailed+l.lateDup, l.lateSent)
	r.count("  duplicates, changed nothing", l.lateDup)
	r.equation("  other outcomes", l.lateOther, 0)
	r.count("suppression entries", int64(entries))

	var dsnQueued int64
	for _, n := range s.dsnQueued {
		dsnQueued += n
	}
	s.dsns.mu.Lock()
	dsnUnique, dsnTotal, dsnBroken := s.dsns.ids.unique, s.dsns.ids.total, s.dsns.broken
	dsnKinds := maps.Clone(s.dsns.kinds)
	s.dsns.mu.Unlock()
	r.count("DSNs committed to the outbox", dsnQueued)
	for _, k := range []queue.DSNKind{queue.DSNFailed, queue.DSNDelayed} {
		r.equation(fmt.Sprintf("  %s: delivered = committed", k), dsnKinds[k], s.dsnQueued[k])
	}
	r.equation("DSNs delivered by Handler.Run (unique) = committed", dsnUnique, dsnQueued)
	r.count("  deliveries in all", dsnTotal)
	r.equation("  without their Message-ID", dsnBroken, 0)
	r.equation("outbox empty", int64(outbox), 0)

	s.hooks.mu.Lock()
	committed := map[webhook.OutgoingEvent]int64{}
	var hooksCommitted int64
	for e, n := range s.hooks.committed {
		committed[e] = n
		hooksCommitted += n
	}
	s.hooks.mu.Unlock()
	s.recv.mu.Lock()
	recvUnique, recvTotal, recvInvalid := s.recv.ids.unique, s.recv.ids.total, s.recv.invalid
	recvEvents := maps.Clone(s.recv.events)
	s.recv.mu.Unlock()
	r.count("webhooks committed", hooksCommitted)
	var events []string
	for e := range committed {
		events = append(events, string(e))
	}
	for e := range recvEvents {
		if _, ok := committed[e]; !ok {
			events = append(events, string(e))
		}
	}
	sort.Strings(events)
	for _, e := range events {
		ev := webhook.OutgoingEvent(e)
		r.equation(fmt.Sprintf("  %s: delivered = committed", e), recvEvents[ev], committed[ev])
	}
	r.equation("webhooks delivered (unique webhook-id) = committed", recvUnique, hooksCommitted)
	r.count("  requests in all", recvTotal)
	r.equation("  requests without webhook-id or payload", recvInvalid, 0)
	r.equation("database: hooks retired delivered = committed", hookOutcomes[hookqueue.RetiredDelivered], hooksCommitted)
	r.equation("database: hooks pending or retired otherwise", int64(hooksPending)+sumExcept(hookOutcomes, hookqueue.RetiredDelivered), 0)
	r.count("write transactions of the delivery loop", l.txs)
	return r, nil
}

func sumExcept[K comparable](m map[K]int64, skip K) int64 {
	var n int64
	for k, v := range m {
		if k != skip {
			n += v
		}
	}
	return n
}

// print writes the report as a table for the README.
func (r *report) print(w io.Writer) {
	width := 0
	for _, x := range r.rows {
		width = max(width, len(x.what))
	}
	fmt.Fprintf(w, "%-*s  %21s  %s\n", width, "ledger", "count", "check")
	for _, x := range r.rows {
		check := ""
		if x.check {
			check = "ok"
			if x.broken {
				check = "BROKEN"
			}
		}
		fmt.Fprintf(w, "%-*s  %21s  %s\n", width, x.what, x.count, check)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-*s  %21s  %s\n", width, "phase", "wall time", "messages/s")
	for _, p := range r.phases {
		fmt.Fprintf(w, "%-*s  %21s  %s\n", width, p.name, p.wall.Round(100*time.Millisecond), rate(p.msgs, p.wall))
	}
	fmt.Fprintf(w, "%-*s  %21s  %s\n", width, "overall (messages added / wall time)", r.wall.Round(100*time.Millisecond), rate(r.msgs, r.wall))
	fmt.Fprintf(w, "%-*s  %21s\n", width, "simulated time", r.sim.Round(time.Minute))
	fmt.Fprintf(w, "%-*s  %18.1f MB\n", width, "peak RSS (VmHWM, with the mapped database)", float64(r.peakRSS)/(1<<20))
	fmt.Fprintf(w, "%-*s  %18.1f MB\n", width, "peak anonymous RSS (sampled every 10 s)", float64(r.peakAnon)/(1<<20))
	fmt.Fprintf(w, "%-*s  %18.1f MB\n", width, "database size", float64(r.dbSize)/(1<<20))
}

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}
