package queue_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mjl-/bstore"
	bolt "go.etcd.io/bbolt"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/suppression"
)

// diskFullDir returns a fresh directory on the small file system named by
// BOUNCEKIT_DISKFULL_DIR, or skips the test.
func diskFullDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("BOUNCEKIT_DISKFULL_DIR")
	if root == "" {
		t.Skip("disk-full test skipped: BOUNCEKIT_DISKFULL_DIR is not set; scripts/diskfull sets it to a small tmpfs it mounts when run as root")
	}
	dir, err := os.MkdirTemp(root, "queue-")
	tcheck(t, err, "making directory on the small file system")
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// boltCheck runs bbolt's consistency check on the database file.
func boltCheck(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	tcheck(t, err, "bbolt open")
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		// Drained to the end: the checker's goroutine sends until done.
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = err
			}
		}
		return first
	})
	tcheck(t, err, "bbolt check")
}

// TestDiskFullFailMsgs fails messages on a database whose file system is
// full. FailMsgs's transaction (DSNs that return the whole original,
// retirements, suppressions, webhooks) cannot be committed: the caller
// gets ENOSPC and the database is as it was, with every earlier commit
// kept. When space returns, the same call succeeds, and the database
// reopens and passes bbolt's check.
func TestDiskFullFailMsgs(t *testing.T) {
	dir := diskFullDir(t)
	path := filepath.Join(dir, "queue.db")
	db, err := bstore.Open(context.Background(), path, &bstore.Options{Timeout: time.Second}, queue.DBTypes()...)
	tcheck(t, err, "open db")
	defer func() { db.Close() }()

	e := newEnv(t, queue.RetryPolicy{})
	e.db = db
	e.h.DB = db
	e.h.DSNComposer = nil // The real composer.
	e.h.Suppressions = &suppression.Store{}
	e.h.Hooks = &hookqueue.Queue{DB: db, Now: e.clock.Now}
	// A large original, returned in full by every DSN, so FailMsgs writes
	// more than a database file has free.
	big := "From: alice@example.org\r\nTo: x@example.com\r\nSubject: big\r\nMessage-ID: <big@example.org>\r\n\r\n" + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", 256)
	e.msgs.Default = []byte(big)

	const batches, perBatch = 8, 10
	var msgs [][]queue.Msg
	for b := range batches {
		var batch []queue.Msg
		for i := range perBatch {
			// One submission each: one DSN each.
			batch = append(batch, e.add(func(m *queue.Msg) { m.Ret = "FULL" }, fmt.Sprintf("r%d-%d@example.com", b, i))[0])
		}
		msgs = append(msgs, batch)
	}
	committed := e.dumpAll()

	release, err := queuetest.FillDisk(dir, 1<<30)
	tcheck(t, err, "filling the file system")
	released := false
	defer func() {
		if !released {
			release()
		}
	}()

	var full int // Index of the batch that hit the full disk.
	for full = 0; full < batches; full++ {
		err := e.write(func(tx *bstore.Tx) error {
			_, err := e.h.FailMsgs(tx, msgs[full], permErr())
			return err
		})
		if err == nil {
			// Free pages in the file were enough.
			committed = e.dumpAll()
			continue
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("batch %d: got %v, want ENOSPC", full, err)
		}
		t.Logf("batch %d of %d hit the full disk: %v", full+1, batches, err)
		break
	}
	if full == batches {
		t.Fatalf("no batch hit the full disk")
	}
	tcompare(t, e.dumpAll(), committed, "database after the refused commit")

	// A second try while the disk is still full fails the same way.
	err = e.write(func(tx *bstore.Tx) error {
		_, err := e.h.FailMsgs(tx, msgs[full], permErr())
		return err
	})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("second try on the full disk: got %v, want ENOSPC", err)
	}
	tcompare(t, e.dumpAll(), committed, "database after the second refused commit")

	tcheck(t, release(), "giving space back")
	released = true
	for b := full; b < batches; b++ {
		e.fail(msgs[b], permErr())
	}
	tcheck(t, db.Close(), "close db")
	boltCheck(t, path)

	db, err = bstore.Open(context.Background(), path, &bstore.Options{Timeout: time.Second}, queue.DBTypes()...)
	tcheck(t, err, "reopen db")
	e.db = db
	d := e.dumpAll()
	tcompare(t, len(d["msg"].([]queue.Msg)), 0, "queued messages")
	tcompare(t, len(d["retired"].([]queue.MsgRetired)), batches*perBatch, "retired messages")
	tcompare(t, len(d["outbox"].([]queue.OutboxDSN)), batches*perBatch, "dsns")
	tcompare(t, len(d["hook"].([]hookqueue.Hook)), batches*perBatch, "webhooks")
	for _, ob := range d["outbox"].([]queue.OutboxDSN) {
		if !strings.Contains(string(ob.Data), "Message-ID: <big@example.org>") {
			t.Fatalf("dsn %d does not return the original", ob.ID)
		}
	}
}
