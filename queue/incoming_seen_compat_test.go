package queue_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"
)

// TestIncomingSeenOldDatabase opens a database written by the version
// that stored the reports seen as IncomingSeen records (an ID and a
// unique index on the key): testdata/seen-v1.db.gz, written by that
// version's ProcessIncoming processing testdata/seen-v1.eml once for
// account alice at inT0 (unmatched: its key kept 30 days). The same
// report is still a duplicate, a new report is stored as SeenReport, and
// the old record is removed once it expires.
func TestIncomingSeenOldDatabase(t *testing.T) {
	gz, err := os.ReadFile("testdata/seen-v1.db.gz")
	icheck(t, err, "reading database")
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	icheck(t, err, "gzip")
	data, err := io.ReadAll(zr)
	icheck(t, err, "gunzip")
	path := filepath.Join(t.TempDir(), "seen-v1.db")
	icheck(t, os.WriteFile(path, data, 0o600), "writing database")
	report, err := os.ReadFile("testdata/seen-v1.eml")
	icheck(t, err, "reading report")

	e := newInEnvAt(t, path)
	countV1 := func() int {
		var n int
		err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
			return tx.Keys("IncomingSeen", func(any) error { n++; return nil })
		})
		icheck(t, err, "counting IncomingSeen")
		return n
	}
	icompare(t, countV1(), 1, "IncomingSeen records written by the old version")
	icompare(t, e.h.SeenV1Gone(), false, "handler noted no IncomingSeen record is left, before any call")

	e.clock.Advance(time.Hour)
	res := e.incoming("alice", "alice@example.org", report)
	if len(res.Recipients) != 1 || !res.Recipients[0].Duplicate || res.Recipients[0].Hook != "" {
		t.Fatalf("report processed by the old version: %+v, want a duplicate without webhook", res.Recipients)
	}
	icompare(t, e.seenCount(), 0, "SeenReport records after the duplicate")
	icompare(t, e.h.SeenV1Gone(), false, "handler noted no IncomingSeen record is left, with one left")

	other := bytes.Replace(report, []byte("<seen-v1@mx.example.com>"), []byte("<seen-v2@mx.example.com>"), 1)
	res = e.incoming("alice", "alice@example.org", other)
	if len(res.Recipients) != 1 || res.Recipients[0].Duplicate {
		t.Fatalf("new report: %+v, want it processed", res.Recipients)
	}
	icompare(t, e.seenCount(), 1, "SeenReport records after a new report")
	res = e.incoming("alice", "alice@example.org", other)
	if !res.Recipients[0].Duplicate {
		t.Fatalf("new report again: %+v, want a duplicate", res.Recipients)
	}

	// Thirty days after the first report its record expires, and the next
	// call removes it; the second report's record stays an hour longer.
	e.clock.Advance(30*24*time.Hour - time.Minute)
	e.incoming("alice", "alice@example.org", bytes.Replace(report, []byte("<seen-v1@mx.example.com>"), []byte("<seen-v3@mx.example.com>"), 1))
	icompare(t, countV1(), 0, "IncomingSeen records after they expired")
	icompare(t, e.seenCount(), 2, "SeenReport records")
	icompare(t, e.h.SeenV1Gone(), true, "handler noted no IncomingSeen record is left")
	res = e.incoming("alice", "alice@example.org", other)
	if !res.Recipients[0].Duplicate {
		t.Fatalf("second report after the first expired: %+v, want a duplicate", res.Recipients)
	}
}
