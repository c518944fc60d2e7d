package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/internal/workload"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// dataVersion names the shape of the built databases: a database built by
// a program with another version is built again. 3: built with the
// RecipientAddress index on MsgRetired and the expiry records of
// suppression entries (a database of 2, opened with those types, drops
// two large indexes, and every commit then writes the long list of the
// pages they freed until the file grows into it).
const dataVersion = "3"

// buildBatch is how many records one transaction inserts while building.
const buildBatch = 20000

// Shape of a database of size n:
//   - n retired messages (IDs 1..n): nine in ten of account "big", the rest
//     spread over 100 accounts; submissions of ten (BaseID, Message-ID);
//     unique FromID and ENVID; five messages to each recipient, so a
//     recipient's history is the same at every size.
//   - n/10 queued messages of "big" (IDs from n+1), due in ten years.
//   - n suppression entries, n retired hooks and n/10 processed-report
//     records, with the same accounts.
//
// Nothing in it expires within ten years of the build.

// account returns the account of record i.
func account(i int64) string {
	if i%10 == 0 {
		return fmt.Sprintf("a%d", (i/10)%100)
	}
	return "big"
}

// recipient returns the recipient of retired message i.
func recipient(i int64) string {
	return fmt.Sprintf("r%d@d%d.example", i/5, i/5%1000)
}

// openDB opens (building it first if needed) the database of size n in
// dir and returns it with the time it was built.
func openDB(ctx context.Context, dir string, n int64) (*bstore.DB, error) {
	path := dbPath(dir, n)
	done := path + ".done"
	if b, err := os.ReadFile(done); err != nil || string(b) != dataVersion {
		if err := build(ctx, path, n); err != nil {
			return nil, err
		}
		if err := os.WriteFile(done, []byte(dataVersion), 0o644); err != nil {
			return nil, err
		}
	}
	// Read the file once so the measurements see a warm page cache, as
	// a server that has run a while does, not the disk.
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, f)
	f.Close()
	if err != nil {
		return nil, err
	}
	return workload.OpenDB(ctx, path)
}

// dbPath returns the path of the database of size n in dir.
func dbPath(dir string, n int64) string {
	return filepath.Join(dir, fmt.Sprintf("scale-%d.db", n))
}

// build writes a new database of size n at path.
func build(ctx context.Context, path string, n int64) error {
	os.Remove(path)
	os.Remove(path + ".done")
	log.Printf("building %s (%d retired messages); this takes a while once", path, n)
	start := time.Now()
	db, err := workload.OpenDB(ctx, path)
	if err != nil {
		return err
	}
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	base := time.Now()
	keep := base.AddDate(10, 0, 0)

	batches := func(what string, count int64, insert func(tx *bstore.Tx, i int64) error) error {
		for from := int64(1); from <= count; from += buildBatch {
			err := db.Write(ctx, func(tx *bstore.Tx) error {
				for i := from; i < from+buildBatch && i <= count; i++ {
					if err := insert(tx, i); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("building %s: %w", what, err)
			}
		}
		return nil
	}

	err = batches("retired messages", n, func(tx *bstore.Tx, i int64) error {
		baseID := (i-1)/10*10 + 1
		at := base.Add(-time.Duration(n-i) * time.Second)
		r := queue.MsgRetired{
			ID:               i,
			BaseID:           baseID,
			Queued:           at.Add(-time.Minute),
			SenderAccount:    account(i),
			SenderAddress:    account(i) + "@example.org",
			FromID:           fmt.Sprintf("f%d", i),
			RecipientAddress: recipient(i),
			RecipientDomain:  fmt.Sprintf("d%d.example", i/5%1000),
			Attempts:         1,
			LastAttempt:      at,
			Results:          []queue.MsgResult{{Start: at, Duration: time.Second, Success: true, Code: 250, EnhancedCode: "2.0.0", RemoteMTA: "mx.example"}},
			Size:             5000,
			MessageID:        fmt.Sprintf("m%d@example.org", baseID),
			Subject:          "Your order",
			EnvID:            fmt.Sprintf("e%d", i),
			Success:          true,
			Event:            webhook.EventDelivered,
			LastActivity:     at,
			KeepUntil:        keep.Add(time.Duration(i) * time.Second),
		}
		if i%7 == 0 {
			r.Success = false
			r.Event = webhook.EventFailed
			r.Results[0] = queue.MsgResult{Start: at, Permanent: true, Code: 550, EnhancedCode: "5.1.1", Reason: bounce.ReasonUserUnknown, Error: "550 5.1.1 user unknown"}
		}
		return tx.Insert(&r)
	})
	if err != nil {
		return err
	}
	err = batches("queued messages", n/10, func(tx *bstore.Tx, i int64) error {
		m := queue.Msg{
			ID:               n + i,
			BaseID:           n + i,
			Queued:           base,
			SenderAccount:    "big",
			SenderAddress:    "big@example.org",
			FromID:           fmt.Sprintf("q%d", i),
			RecipientAddress: fmt.Sprintf("q%d@d%d.example", i, i%1000),
			RecipientDomain:  fmt.Sprintf("d%d.example", i%1000),
			NextAttempt:      keep,
			MessageID:        fmt.Sprintf("q%d@example.org", i),
			Subject:          "Your order",
			Size:             5000,
		}
		return tx.Insert(&m)
	})
	if err != nil {
		return err
	}
	// Messages queued later get IDs above those of the retired ones.
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		m := queue.Msg{ID: n + n/10 + 1000, SenderAccount: "big", RecipientAddress: "x@x.example", RecipientDomain: "x.example", NextAttempt: keep}
		if err := tx.Insert(&m); err != nil {
			return err
		}
		h := hookqueue.Hook{ID: n + 1000, Account: "big", URL: "https://app.example/hook", NextAttempt: keep}
		if err := tx.Insert(&h); err != nil {
			return err
		}
		if err := tx.Delete(&h); err != nil {
			return err
		}
		return tx.Delete(&m)
	})
	if err != nil {
		return err
	}
	err = batches("suppression entries", n, func(tx *bstore.Tx, i int64) error {
		e := suppression.Entry{
			Account:         account(i),
			BaseAddress:     fmt.Sprintf("s%d@d%d.example", i, i%1000),
			OriginalAddress: fmt.Sprintf("s%d@d%d.example", i, i%1000),
			Reason:          "550 5.1.1 user unknown",
			Category:        suppression.CategoryHardBounce,
			Source:          suppression.SourceQueue,
			Code:            550,
			EnhancedCode:    "5.1.1",
			Created:         base,
			LastSeen:        base,
		}
		if i%5 == 0 {
			e.Category = suppression.CategorySoftBounce
			e.ExpiresAt = keep.Add(time.Duration(i) * time.Second)
		}
		return tx.Insert(&e)
	})
	if err != nil {
		return err
	}
	err = batches("retired hooks", n, func(tx *bstore.Tx, i int64) error {
		at := base.Add(-time.Duration(n-i) * time.Second)
		h := hookqueue.HookRetired{
			ID:         i,
			Account:    account(i),
			URL:        "https://app.example/hook",
			Event:      webhook.EventDelivered,
			QueueMsgID: i,
			Payload: webhook.Outgoing{
				Event:         webhook.EventDelivered,
				QueueMsgID:    i,
				FromID:        fmt.Sprintf("f%d", i),
				MessageID:     fmt.Sprintf("<m%d@example.org>", i),
				Subject:       "Your order",
				WebhookQueued: at,
				Recipient:     recipient(i),
			},
			Submitted:    at,
			Attempts:     1,
			Results:      []hookqueue.HookResult{{Start: at, Duration: 20 * time.Millisecond, URL: "https://app.example/hook", Success: true, Code: 200}},
			RetireReason: hookqueue.RetiredDelivered,
			Success:      true,
			LastActivity: at,
			KeepUntil:    keep.Add(time.Duration(i) * time.Second),
		}
		return tx.Insert(&h)
	})
	if err != nil {
		return err
	}
	// The entries were inserted directly: the expiring ones get their
	// expiry records as a database of an earlier version would.
	if _, err := (&suppression.Store{DB: db}).Upgrade(ctx); err != nil {
		return err
	}
	// The reports seen are stored by a type package queue does not export:
	// they are written through seenRecord, the same stored type, on the
	// database opened again with that type alone.
	if err := db.Close(); err != nil {
		return err
	}
	db, err = bstore.Open(ctx, path, nil, seenRecord{})
	if err != nil {
		return err
	}
	err = batches("processed reports", n/10, func(tx *bstore.Tx, i int64) error {
		s := seenRecord{Key: fmt.Sprintf("%064x", i), Received: base, KeepUntil: keep.Add(time.Duration(i) * time.Second)}
		return tx.Insert(&s)
	})
	if err != nil {
		return err
	}
	log.Printf("built %s in %s", path, time.Since(start).Round(time.Second))
	return nil
}

// seenRecord is the stored type of the reports package queue has seen
// (queue/incoming_seen.go): the same name, fields and tags, so that bstore
// takes it for the same type.
type seenRecord struct {
	Key       string `bstore:"typename SeenReport"`
	Received  time.Time
	KeepUntil time.Time `bstore:"index"`
}
