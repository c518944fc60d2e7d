package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/internal/workload"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

const opBare = "bare update of one record"

// opFloor names the writes of a matched failure DSN done directly.
const opFloor = "matched DSN's writes alone, no parsing/matching"

// cleanupBatch is how many expired records each cleanup run removes.
const cleanupBatch = 1000

// runner measures the operations on one database.
type runner struct {
	ctx   context.Context
	db    *bstore.DB
	path  string
	n     int
	size  int64
	nonce string // Makes this run's addresses and report Message-IDs new.
	h     *queue.Handler
	supp  *suppression.Store
	hooks *hookqueue.Queue
	rnd   *rand.Rand
	res   map[string]time.Duration
	order []string
	seq   int64
	inner time.Duration // Time in the last write transaction before its commit.

	// With pages set, write counts the bytes the process wrote during each
	// write transaction (its commit: bbolt writes nothing before), from
	// /proc/self/io, and timeOp records the median in 4 KiB pages. Reading
	// the counter costs a little time, so it is a separate run (-pages).
	pages   bool
	written int64 // Bytes written by the last write transaction.
	pageRes map[string]float64

	incomingOnly bool // Measure only the bare update and ProcessIncoming.
	cold         bool // Do not warm the memory mapping before a round (warmMapping).
}

// timeOp runs op n times, each with its index, and records the median
// under name. For an op that writes, it also records the median time spent
// in the transaction before the commit, under name + inTx.
func (r *runner) timeOp(name string, n int, op func(i int) error) error {
	l := make([]time.Duration, n)
	var inner []time.Duration
	var written []time.Duration // Bytes, held as Durations for median.
	for i := range n {
		if err := r.drainHooks(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r.inner = 0
		r.written = -1
		t0 := time.Now()
		if err := op(i); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		l[i] = time.Since(t0)
		if r.inner > 0 {
			inner = append(inner, r.inner)
		}
		if r.written >= 0 {
			written = append(written, time.Duration(r.written))
		}
	}
	r.record(name, median(l))
	if len(inner) > 0 {
		r.record(name+inTx, median(inner))
	}
	if len(written) > 0 {
		r.pageRes[name] = float64(median(written)) / pageSize
	}
	return nil
}

// pageSize is bbolt's page size on this machine's (4 KiB) memory pages.
const pageSize = 4096

// drainHooks removes the pending webhooks before each operation is
// timed (each run of it, untimed), as a webhook worker that keeps up with
// its endpoint would have delivered them within the millisecond each run
// takes: nothing delivers them in this program, and a backlog that grew
// with every run (and every run of the suite) would make each write that
// queues a webhook costlier the more often it ran, by the levels the
// Hook type's three B-trees grow. They are not
// kept as retired hooks, so the history stays the size the database was
// built with.
func (r *runner) drainHooks() error {
	_, err := bstore.QueryDB[hookqueue.Hook](r.ctx, r.db).Delete()
	return err
}

// inTx marks the time of a write operation without its commit.
const inTx = ", before commit"

func (r *runner) record(name string, d time.Duration) {
	r.res[name] = d
	r.order = append(r.order, name)
}

// write runs fn in a write transaction and notes the time fn took.
func (r *runner) write(fn func(tx *bstore.Tx) error) error {
	var w0 int64
	if r.pages {
		w0 = bytesWritten()
	}
	err := r.db.Write(r.ctx, func(tx *bstore.Tx) error {
		t0 := time.Now()
		err := fn(tx)
		r.inner = time.Since(t0)
		return err
	})
	if r.pages {
		r.written = bytesWritten() - w0
	}
	return err
}

// bytesWritten returns the bytes this process has passed to write system
// calls (wchar in /proc/self/io), or 0 where that is not available.
func bytesWritten() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
func (r *runner) read(fn func(tx *bstore.Tx) error) error { return r.db.Read(r.ctx, fn) }

// newMsg returns a new message of "big" to a new recipient.
func (r *runner) newMsg(tag string) *queue.Msg {
	r.seq++
	return &queue.Msg{
		SenderAccount:    "big",
		SenderAddress:    "big@example.org",
		RecipientAddress: fmt.Sprintf("%s-%s-%d@new.example", tag, r.nonce, r.seq),
		MessageID:        fmt.Sprintf("%s-%s-%d@example.org", tag, r.nonce, r.seq),
		EnvID:            fmt.Sprintf("%s-%s-%d", tag, r.nonce, r.seq),
		Subject:          "Your order",
		Size:             5000,
	}
}

// addRetired queues k one-recipient submissions and delivers them, in two
// transactions, and returns them as they were queued.
func (r *runner) addRetired(tag string, k int) ([]queue.Msg, error) {
	var msgs []queue.Msg
	err := r.write(func(tx *bstore.Tx) error {
		for range k {
			m := r.newMsg(tag)
			if _, err := r.h.Add(tx, m); err != nil {
				return err
			}
			msgs = append(msgs, *m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return msgs, r.write(func(tx *bstore.Tx) error {
		for _, m := range msgs {
			if _, err := r.h.DeliveredMsgs(tx, []queue.Msg{m}, workload.Accepted()); err != nil {
				return err
			}
		}
		return nil
	})
}

// report composes a one-recipient failure DSN.
func (r *runner) report(id, envID, origMsgID, rcpt string) ([]byte, error) {
	m := dsn.Message{
		From:               "MAILER-DAEMON@mx.example",
		To:                 "big@example.org",
		Subject:            "Undelivered Mail Returned to Sender",
		MessageID:          fmt.Sprintf("<%s-%s@mx.example>", id, r.nonce),
		Date:               time.Now(),
		TextBody:           "Your message could not be delivered.\n",
		OriginalEnvelopeID: envID,
		ReportingMTA:       "mx.example",
		Recipients:         []dsn.Recipient{{FinalRecipient: rcpt, Action: dsn.ActionFailed, Status: "5.1.1", RemoteMTA: "mx.example", DiagnosticCode: "550 5.1.1 user unknown"}},
		Ret:                dsn.RetHeaders,
	}
	if origMsgID != "" {
		m.Original = []byte("From: big@example.org\r\nTo: " + rcpt + "\r\nSubject: Your order\r\nMessage-ID: <" + origMsgID + ">\r\n\r\n")
	}
	var b bytes.Buffer
	if err := m.Compose(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// pick returns a random record number of account "big" in 1..size, or 0
// in an empty database.
func (r *runner) pick() int64 {
	if r.size == 0 {
		return 0
	}
	for {
		i := r.rnd.Int64N(r.size) + 1
		if account(i) == "big" {
			return i
		}
	}
}

// setup makes the handler and stores the operations use.
func (r *runner) setup() {
	r.supp = &suppression.Store{DB: r.db}
	r.hooks = &hookqueue.Queue{DB: r.db}
	r.h = &queue.Handler{
		DB:              r.db,
		Suppressions:    r.supp,
		Hooks:           r.hooks,
		Hostname:        "mail.example.org",
		GenerateFromIDs: true,
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{WebhookURL: "https://app.example/hook", KeepRetired: 30 * 24 * time.Hour}, true
		}),
	}
}

// measure runs every operation once more, recording in r.res.
func (r *runner) measure() error {
	r.res = map[string]time.Duration{}
	r.pageRes = map[string]float64{}
	r.order = nil
	r.nonce = strconv.FormatInt(time.Now().UnixNano(), 36)
	if !r.cold {
		// Again each round: bbolt maps the file anew when it grows.
		t0 := time.Now()
		nb, err := warmMapping(r.path)
		log.Printf("mapped %d MB of the file in %s", nb>>20, time.Since(t0).Round(time.Millisecond))
		if err != nil {
			return fmt.Errorf("warming the memory mapping: %w", err)
		}
	}
	if r.rnd == nil {
		r.rnd = rand.New(rand.NewPCG(uint64(r.size), 1))
	}
	r.setup()
	n := r.n

	// Baseline: a transaction that updates one record and commits.
	bare, err := r.addBare()
	if err != nil {
		return err
	}
	err = r.timeOp(opBare, n, func(int) error {
		return r.write(func(tx *bstore.Tx) error {
			bare.Attempts++
			return tx.Update(&bare)
		})
	})
	if err != nil {
		return err
	}

	if !r.incomingOnly {
		if err := r.measureQueue(); err != nil {
			return err
		}
	}
	if err := r.measureIncoming(); err != nil {
		return err
	}
	if r.incomingOnly {
		return nil
	}
	if err := r.measureReads(); err != nil {
		return err
	}
	return r.cleanups()
}

// measureQueue measures Add, Due, FailMsgs and DeliveredMsgs.
func (r *runner) measureQueue() error {
	n := r.n
	var err error
	// Add, then the added messages are due, fail or are delivered.
	added := make([]queue.Msg, 3*n)
	err = r.timeOp("Add (1 message, new FromID)", 3*n, func(i int) error {
		return r.write(func(tx *bstore.Tx) error {
			m := r.newMsg("add")
			_, err := r.h.Add(tx, m)
			added[i] = *m
			return err
		})
	})
	if err != nil {
		return err
	}
	err = r.timeOp("Due (limit 100)", n, func(int) error {
		return r.write(func(tx *bstore.Tx) error {
			b, err := r.h.Due(tx, time.Now(), 100)
			if err == nil && len(b) == 0 {
				err = fmt.Errorf("nothing due")
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	fail := func(name string, msgs []queue.Msg, ferr error) error {
		return r.timeOp(name, len(msgs), func(i int) error {
			return r.write(func(tx *bstore.Tx) error {
				_, err := r.h.FailMsgs(tx, msgs[i:i+1], ferr)
				return err
			})
		})
	}
	if err := fail("FailMsgs temporary (1 message)", added[:n], &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 3, 0}, Stage: bounce.StageRcpt, Line: "try later"}); err != nil {
		return err
	}
	if err := fail("FailMsgs permanent (1 message)", added[n:2*n], &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}); err != nil {
		return err
	}
	err = r.timeOp("DeliveredMsgs (1 message)", n, func(i int) error {
		return r.write(func(tx *bstore.Tx) error {
			_, err := r.h.DeliveredMsgs(tx, added[2*n+i:2*n+i+1], workload.Accepted())
			return err
		})
	})
	if err != nil {
		return err
	}

	return nil
}

// measureIncoming measures ProcessIncoming.
func (r *runner) measureIncoming() error {
	n := r.n
	var err error
	// ProcessIncoming: one one-recipient DSN per transaction, about
	// messages retired just before, against the history built earlier.
	incoming := func(name, tag string, want queue.Match, rcptTo func(m queue.Msg) string, msg func(k int, m queue.Msg) ([]byte, error)) error {
		msgs, err := r.addRetired(tag, n)
		if err != nil {
			return err
		}
		reports := make([][]byte, n)
		for k, m := range msgs {
			if reports[k], err = msg(k, m); err != nil {
				return err
			}
		}
		return r.timeOp(name, n, func(k int) error {
			return r.write(func(tx *bstore.Tx) error {
				res, err := r.h.ProcessIncoming(tx, "big", rcptTo(msgs[k]), reports[k])
				if err == nil && (len(res.Recipients) != 1 || res.Recipients[0].Match != want) {
					err = fmt.Errorf("result %+v, want a match by %v", res.Recipients, want)
				}
				return err
			})
		})
	}
	// The writes a matched failure DSN makes, without reading the report
	// or matching: the retired message gets a result and its outcome
	// changes (so its recipient index entry moves), a suppression entry
	// and a webhook are inserted. What ProcessIncoming cannot go below
	// without storing less.
	{
		msgs, err := r.addRetired("fl", n)
		if err != nil {
			return err
		}
		err = r.timeOp(opFloor, n, func(k int) error {
			m := msgs[k]
			return r.write(func(tx *bstore.Tx) error {
				rm := queue.MsgRetired{ID: m.ID}
				if err := tx.Get(&rm); err != nil {
					return err
				}
				now := time.Now()
				rm.Results = append(rm.Results, queue.MsgResult{Start: now, Permanent: true, Code: 550, EnhancedCode: "5.1.1", Reason: bounce.ReasonUserUnknown, Error: "550 5.1.1 user unknown", RemoteMTA: "mx.example", DSN: true, Report: fmt.Sprintf("%064x", k)})
				rm.Success, rm.Event, rm.LastActivity = false, webhook.EventFailed, now
				if err := tx.Update(&rm); err != nil {
					return err
				}
				e := suppression.Entry{Account: "big", BaseAddress: m.RecipientAddress, OriginalAddress: m.RecipientAddress, Reason: "550 5.1.1 user unknown", Category: suppression.CategoryHardBounce, Source: suppression.SourceDSN, Code: 550, EnhancedCode: "5.1.1", Created: now, LastSeen: now}
				if err := tx.Insert(&e); err != nil {
					return err
				}
				return r.hooks.Enqueue(tx, hookqueue.Hook{Account: "big", URL: "https://app.example/hook", QueueMsgID: m.ID, Payload: webhook.Outgoing{Event: webhook.EventFailed, DSN: true, Suppressing: true, QueueMsgID: m.ID, FromID: m.FromID, MessageID: "<" + m.MessageID + ">", Subject: m.Subject, SMTPCode: 550, SMTPEnhancedCode: "5.1.1", Error: "550 5.1.1 user unknown", Reason: string(bounce.ReasonUserUnknown), Recipient: m.RecipientAddress, Extra: map[string]string{}}})
			})
		})
		if err != nil {
			return err
		}
	}

	plain := func(queue.Msg) string { return "big@example.org" }
	err = incoming("ProcessIncoming by FromID", "pf", queue.MatchFromID, func(m queue.Msg) string { return m.MailFrom("+") }, func(k int, m queue.Msg) ([]byte, error) {
		return r.report(fmt.Sprintf("pf%d", k), "", "", m.RecipientAddress)
	})
	if err != nil {
		return err
	}
	// The same, ten DSNs per transaction, per DSN: the commit's page
	// writes are shared.
	{
		const per = 10
		msgs, err := r.addRetired("pb", per*n)
		if err != nil {
			return err
		}
		reports := make([][]byte, len(msgs))
		for k, m := range msgs {
			if reports[k], err = r.report(fmt.Sprintf("pb%d", k), "", "", m.RecipientAddress); err != nil {
				return err
			}
		}
		l := make([]time.Duration, n)
		var written []time.Duration
		for i := range n {
			if err := r.drainHooks(); err != nil {
				return err
			}
			t0 := time.Now()
			err := r.write(func(tx *bstore.Tx) error {
				for k := i * per; k < (i+1)*per; k++ {
					res, err := r.h.ProcessIncoming(tx, "big", msgs[k].MailFrom("+"), reports[k])
					if err != nil {
						return err
					} else if len(res.Recipients) != 1 || res.Recipients[0].Match != queue.MatchFromID {
						return fmt.Errorf("result %+v, want a match by fromid", res.Recipients)
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("ProcessIncoming batched: %w", err)
			}
			l[i] = time.Since(t0) / per
			if r.pages {
				written = append(written, time.Duration(r.written))
			}
		}
		name := fmt.Sprintf("ProcessIncoming by FromID, %d per tx, each", per)
		r.record(name, median(l))
		if len(written) > 0 {
			r.pageRes[name] = float64(median(written)) / pageSize / per
		}
	}
	err = incoming("ProcessIncoming by ENVID", "pe", queue.MatchEnvID, plain, func(k int, m queue.Msg) ([]byte, error) {
		return r.report(fmt.Sprintf("pe%d", k), m.EnvID, "", m.RecipientAddress)
	})
	if err != nil {
		return err
	}
	err = incoming("ProcessIncoming by Message-ID", "pm", queue.MatchMessageID, plain, func(k int, m queue.Msg) ([]byte, error) {
		return r.report(fmt.Sprintf("pm%d", k), "", m.MessageID, m.RecipientAddress)
	})
	if err != nil {
		return err
	}
	err = incoming("ProcessIncoming unmatched", "pu", queue.MatchNone, plain, func(k int, m queue.Msg) ([]byte, error) {
		return r.report(fmt.Sprintf("pu%d", k), "unknown-"+m.EnvID, "unknown-"+m.MessageID, "other-"+m.RecipientAddress)
	})
	if err != nil {
		return err
	}

	return nil
}

// measureReads measures lookups and listings.
func (r *runner) measureReads() error {
	n := r.n
	var err error
	// Lookups and listings, read transactions.
	// Random addresses, then the same again: the first lookup of an
	// address also maps the database pages it reads into the process.
	keys := make([]int64, n)
	for k := range keys {
		keys[k] = r.pick()
	}
	lookup := func(k int) error {
		i := keys[k]
		return r.read(func(tx *bstore.Tx) error {
			_, ok, err := r.supp.LookupTx(tx, account(i), fmt.Sprintf("s%d@d%d.example", i, i%1000), time.Now())
			if err == nil && !ok && i != 0 {
				err = fmt.Errorf("entry %d not found", i)
			}
			return err
		})
	}
	if err := r.timeOp("suppression lookup (read)", n, lookup); err != nil {
		return err
	}
	if err := r.timeOp("suppression lookup, same addresses again (read)", n, lookup); err != nil {
		return err
	}
	err = r.timeOp("suppression List account, newest 100 (read)", n, func(int) error {
		return r.read(func(tx *bstore.Tx) error {
			_, _, err := r.supp.ListTx(tx, suppression.Filter{Account: "big"}, paging.Page{Newest: true, Limit: 100})
			return err
		})
	})
	if err != nil {
		return err
	}
	var next int64
	err = r.timeOp("ListRetired account, 100 (read)", n, func(int) error {
		return r.read(func(tx *bstore.Tx) error {
			var err error
			_, next, err = queue.ListRetired(tx, queue.RetiredFilter{Account: "big"}, paging.Page{Limit: 100, Newest: true})
			return err
		})
	})
	if err != nil {
		return err
	}
	err = r.timeOp("ListRetired account, second 100 (read)", n, func(int) error {
		return r.read(func(tx *bstore.Tx) error {
			_, _, err := queue.ListRetired(tx, queue.RetiredFilter{Account: "big"}, paging.Page{After: next, Limit: 100, Newest: true})
			return err
		})
	})
	if err != nil {
		return err
	}
	err = r.timeOp("ListRetired account+event failed, 100 (read)", n, func(int) error {
		return r.read(func(tx *bstore.Tx) error {
			_, _, err := queue.ListRetired(tx, queue.RetiredFilter{Account: "big", Event: webhook.EventFailed}, paging.Page{Limit: 100, Newest: true})
			return err
		})
	})
	if err != nil {
		return err
	}
	err = r.timeOp("ListRetired recipient (read)", n, func(int) error {
		i := r.pick()
		return r.read(func(tx *bstore.Tx) error {
			_, _, err := queue.ListRetired(tx, queue.RetiredFilter{Recipient: recipient(i)}, paging.Page{Limit: 100, Newest: true})
			return err
		})
	})
	if err != nil {
		return err
	}
	err = r.timeOp("hooks ListRetired account, newest 100 (read)", n, func(int) error {
		_, _, err := r.hooks.ListRetired(r.ctx, hookqueue.Filter{Account: "big"}, paging.Page{Limit: 100, Newest: true})
		return err
	})
	if err != nil {
		return err
	}
	err = r.timeOp("hooks ListRetired account+event, 100 (read)", n, func(int) error {
		_, _, err := r.hooks.ListRetired(r.ctx, hookqueue.Filter{Account: "big", Event: webhook.EventDelivered}, paging.Page{Limit: 100, Newest: true})
		return err
	})
	if err != nil {
		return err
	}

	return nil
}

// cleanups measures the removal of cleanupBatch expired records of each
// kind, inserted before each run.
func (r *runner) cleanups() error {
	runs := max(3, r.n/20)
	past := time.Now().Add(-time.Hour)
	if err := r.finishExpiryMigration(); err != nil {
		return fmt.Errorf("suppression expiry migration: %w", err)
	}
	for _, c := range []struct {
		name   string
		insert func(tx *bstore.Tx, k int64) error
		clean  func() (int, error)
	}{
		{"CleanupRetired", func(tx *bstore.Tx, k int64) error {
			m := queue.MsgRetired{ID: 1<<50 + k, BaseID: 1<<50 + k, SenderAccount: "big", FromID: fmt.Sprintf("x%d", k), RecipientAddress: "x@x.example", KeepUntil: past}
			return tx.Insert(&m)
		}, func() (n int, err error) {
			err = r.write(func(tx *bstore.Tx) error {
				n, err = queue.CleanupRetired(tx, time.Now())
				return err
			})
			return
		}},
		{"hooks Cleanup", func(tx *bstore.Tx, k int64) error {
			h := hookqueue.HookRetired{ID: 1<<50 + k, Account: "big", URL: "https://app.example/hook", KeepUntil: past}
			return tx.Insert(&h)
		}, func() (int, error) { return r.hooks.Cleanup(r.ctx) }},
		{"suppression Cleanup", func(tx *bstore.Tx, k int64) error {
			// Through the store: it writes the expiry record Cleanup finds.
			e := suppression.Entry{Account: "big", BaseAddress: fmt.Sprintf("x%d-%s@x.example", k, r.nonce), Category: suppression.CategorySoftBounce, Source: suppression.SourceQueue, ExpiresAt: past}
			_, _, err := r.supp.AddTx(tx, e, past)
			return err
		}, func() (int, error) { return r.supp.Cleanup(r.ctx, time.Now()) }},
	} {
		name := fmt.Sprintf("%s, %d expired", c.name, cleanupBatch)
		// Remove what expired before, so each run removes its batch.
		if _, err := c.clean(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		l := make([]time.Duration, runs)
		for i := range runs {
			err := r.write(func(tx *bstore.Tx) error {
				for k := range int64(cleanupBatch) {
					r.seq++
					if err := c.insert(tx, r.seq*cleanupBatch+k); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			t0 := time.Now()
			n, err := c.clean()
			l[i] = time.Since(t0)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			} else if n != cleanupBatch {
				return fmt.Errorf("%s: removed %d, want %d", name, n, cleanupBatch)
			}
		}
		r.record(name, median(l))
	}
	return nil
}

// finishExpiryMigration runs suppression's Upgrade, so that no measured
// cleanup does a step of the expiry migration: the build inserts entries
// directly, without the expiry records Store writes, as a database of an
// earlier version holds them.
func (r *runner) finishExpiryMigration() error {
	_, err := r.supp.Upgrade(r.ctx)
	return err
}

// addBare queues the message the bare one-record updates change: not due
// for ten years, so no operation picks it up.
func (r *runner) addBare() (queue.Msg, error) {
	var bare queue.Msg
	err := r.write(func(tx *bstore.Tx) error {
		m := r.newMsg("bare")
		m.NextAttempt = time.Now().AddDate(10, 0, 0)
		_, err := r.h.Add(tx, m)
		bare = *m
		return err
	})
	return bare, err
}
