package queue

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"
)

// TestSeenCleanupInterval pins when ProcessIncoming looks for expired
// records of reports seen: a call that removes a full batch leaves the
// next call to look again, one that leaves nothing expired makes the calls
// of the following seenCleanupInterval skip the query, and the first call
// after it removes what expired meanwhile.
func TestSeenCleanupInterval(t *testing.T) {
	ctx := context.Background()
	db, err := bstore.Open(ctx, filepath.Join(t.TempDir(), "seen.db"), nil, DBTypes()...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	h := &Handler{DB: db}
	now := planNow
	n := 0
	add := func(count int, keepUntil time.Time) {
		t.Helper()
		err := db.Write(ctx, func(tx *bstore.Tx) error {
			for range count {
				n++
				if err := markSeen(tx, fmt.Sprintf("k%d", n), now.Add(-time.Hour), keepUntil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("adding records: %v", err)
		}
	}
	count := func() int {
		t.Helper()
		c, err := bstore.QueryDB[incomingSeen](ctx, db).Count()
		if err != nil {
			t.Fatalf("counting: %v", err)
		}
		return c
	}
	var queries uint
	clean := func(at time.Time) {
		t.Helper()
		err := db.Write(ctx, func(tx *bstore.Tx) error {
			err := h.removeExpiredSeen(tx, at)
			queries = tx.Stats().Queries
			return err
		})
		if err != nil {
			t.Fatalf("cleanup: %v", err)
		}
	}

	add(incomingSeenCleanup+50, now.Add(-time.Minute)) // Expired.
	add(7, now.Add(time.Hour))                         // Kept.
	steps := []struct {
		name        string
		at          time.Time
		add         int // Records expired at the step's time, added before it.
		wantLeft    int
		wantQueries bool
	}{
		{"first call: a full batch", now, 0, 57, true},
		{"next call: the rest", now, 0, 7, true},
		{"within the interval: no query", now.Add(seenCleanupInterval - time.Second), 3, 10, false},
		{"after the interval", now.Add(seenCleanupInterval), 0, 7, true},
		{"nothing expired: no query again", now.Add(seenCleanupInterval + time.Second), 0, 7, false},
	}
	for _, s := range steps {
		if s.add > 0 {
			add(s.add, now.Add(-time.Second))
		}
		clean(s.at)
		if got := count(); got != s.wantLeft {
			t.Fatalf("%s: %d records left, want %d", s.name, got, s.wantLeft)
		}
		if got := queries > 0; got != s.wantQueries {
			t.Fatalf("%s: %d queries, want any: %v", s.name, queries, s.wantQueries)
		}
	}
}
