package hookqueue_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mjl-/bstore"
	bolt "go.etcd.io/bbolt"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/webhook"
)

// commitLog passes the worker's "hookqueue: recording results" errors on a
// channel.
type commitLog struct {
	c chan slog.Record
}

func (l commitLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l commitLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "hookqueue: recording results" {
		l.c <- r
	}
	return nil
}
func (l commitLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l commitLog) WithGroup(string) slog.Handler      { return l }

func recordAttrs(r slog.Record) map[string]slog.Value {
	m := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value
		return true
	})
	return m
}

// TestDiskFullWorker delivers webhooks from a database whose file system is
// full. The endpoint gets the first requests, but their results cannot be
// committed: the worker logs ENOSPC, retries the write with a doubling
// delay and starts no new request meanwhile (the endpoint sees at most the
// requests that were in flight). When space returns, every
// hook is recorded as delivered (each webhook-id was POSTed at least once),
// none is lost, and the database reopens and passes bbolt's check.
func TestDiskFullWorker(t *testing.T) {
	root := os.Getenv("BOUNCEKIT_DISKFULL_DIR")
	if root == "" {
		t.Skip("disk-full test skipped: BOUNCEKIT_DISKFULL_DIR is not set; scripts/diskfull sets it to a small tmpfs it mounts when run as root")
	}
	dir, err := os.MkdirTemp(root, "webhook-")
	if err != nil {
		t.Fatalf("making directory on the small file system: %v", err)
	}
	defer os.RemoveAll(dir)

	srv := hookqueue.NewReceiver(t, 0)
	requests := srv.Total

	fq := newFaultQueue(t, dir, nil)
	fq.q.AllowNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	logs := commitLog{c: make(chan slog.Record, 100)}
	fq.q.Logger = slog.New(logs)

	// Large payloads, so recording the results needs more pages than the
	// database file has free.
	const n = 40
	hooks := make([]hookqueue.Hook, n)
	for i := range hooks {
		hooks[i] = hookqueue.Hook{Account: "acc", URL: srv.URL, Payload: webhook.Outgoing{Event: webhook.EventFailed, QueueMsgID: int64(i + 1), Extra: map[string]string{"pad": strings.Repeat("x", 8<<10)}}}
	}
	err = fq.db.Write(context.Background(), func(tx *bstore.Tx) error { return fq.q.Enqueue(tx, hooks...) })
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}

	release, err := queuetest.FillDisk(dir, 1<<30)
	if err != nil {
		t.Fatalf("filling the file system: %v", err)
	}
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	stop := fq.start()

	var before, delivered int
	for i, delay := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		var r slog.Record
	wait:
		for {
			select {
			case r = <-logs.c:
				break wait
			case res := <-fq.results:
				if i > 0 {
					t.Fatalf("result of hook %d committed on the full disk after a failed commit", res.hook.ID)
				}
				// Free pages in the file were enough for a first batch.
				delivered++
			case <-time.After(20 * time.Second):
				t.Fatalf("no commit failure %d", i+1)
			}
		}
		attrs := recordAttrs(r)
		errv, ok := attrs["err"].Any().(error)
		if !ok || !errors.Is(errv, syscall.ENOSPC) {
			t.Fatalf("failure %d: err %v, want ENOSPC", i+1, attrs["err"])
		}
		if got := attrs["retry"].Duration(); got != delay {
			t.Fatalf("failure %d: retry in %v, want %v", i+1, got, delay)
		}
		switch i {
		case 0:
			before = requests()
		case 3:
			// Requests dispatched before the first failure was known may
			// still arrive, at most as many as are let in flight.
			if got := requests(); got-before > hookqueue.DefaultConcurrency {
				t.Fatalf("%d requests after the first failed commit, more than were in flight", got-before)
			}
			tcheckErr(t, release(), "giving space back")
			released = true
		}
		fq.clock.Advance(delay)
		fq.q.Kick()
	}

	for delivered < n {
		select {
		case r := <-fq.results:
			if !r.retired || !r.hook.LastResult().Success {
				t.Fatalf("hook %d: retired %v, result %+v", r.hook.ID, r.retired, r.hook.LastResult())
			}
			delivered++
		case r := <-logs.c:
			t.Fatalf("commit failure after space returned: %v", recordAttrs(r)["err"])
		case <-time.After(20 * time.Second):
			t.Fatalf("%d of %d hooks delivered", delivered, n)
		}
	}
	stop()

	seen := map[string]bool{}
	for _, id := range srv.IDs() {
		seen[id] = true
	}
	if len(seen) != n {
		t.Errorf("endpoint saw %d webhook-ids, want %d", len(seen), n)
	}
	path := filepath.Join(dir, "webhook.db")
	tcheckErr(t, fq.db.Close(), "close db")
	db, err := bstore.Open(context.Background(), path, nil, hookqueue.DBTypes()...)
	tcheckErr(t, err, "reopen db")
	pending, err := bstore.QueryDB[hookqueue.Hook](context.Background(), db).Count()
	tcheckErr(t, err, "count hooks")
	retired, err := bstore.QueryDB[hookqueue.HookRetired](context.Background(), db).List()
	tcheckErr(t, err, "list retired")
	tcheckErr(t, db.Close(), "close reopened db")
	if pending != 0 || len(retired) != n {
		t.Fatalf("%d pending, %d retired hooks, want 0 and %d", pending, len(retired), n)
	}
	for _, r := range retired {
		if r.RetireReason != hookqueue.RetiredDelivered {
			t.Fatalf("hook %d: outcome %q", r.ID, r.RetireReason)
		}
	}

	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	tcheckErr(t, err, "bbolt open")
	defer bdb.Close()
	err = bdb.View(func(tx *bolt.Tx) error {
		// Drained to the end: the checker's goroutine sends until done.
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = err
			}
		}
		return first
	})
	tcheckErr(t, err, "bbolt check")
}

func tcheckErr(t *testing.T, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}
