package queue

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mjl-/bstore"
)

// incomingSeen records that ProcessIncoming handled one recipient of one
// incoming report, so the same report processed again (a retransmission, a
// host that retries after a crash) changes nothing and queues no second
// webhook. A report that adds a result to a message kept long enough
// keeps its key in that result instead (MsgResult.Report): only
// unmatched reports, complaints, auto-replies and reports about messages
// kept briefly write one.
//
// The key is the primary key, so a record is one entry in the records
// tree and one in the KeepUntil index: each tree a commit changes adds
// its pages to write. It is stored as SeenReport; incomingSeenV1 is the
// earlier form.
type incomingSeen struct {
	// Key is a hash of the report's Message-ID (or, without one, its
	// content) and the recipient; see seenKey.
	Key string `bstore:"typename SeenReport"`

	Received  time.Time
	KeepUntil time.Time `bstore:"index"`
}

// incomingSeenV1 is the record of a report seen as stored before
// SeenReport, with an ID and a unique index on Key (a third tree to
// write). Databases written then keep such records until they expire:
// seen reads them and cleanupSeen removes them; nothing writes one.
type incomingSeenV1 struct {
	// The stored type keeps its first name.
	ID int64 `bstore:"typename IncomingSeen"`

	Key       string `bstore:"unique"`
	Received  time.Time
	KeepUntil time.Time `bstore:"index"`
}

// incomingDBTypes returns the bstore types ProcessIncoming stores.
func incomingDBTypes() []any {
	return []any{incomingSeen{}, incomingSeenV1{}}
}

// incomingSeenKeep is how long the records of reports seen are kept at
// least; an account's KeepRetired, when longer, is used instead (a
// duplicate cannot be matched to a message after that anyway).
const incomingSeenKeep = 30 * 24 * time.Hour

// retransmitWindow is how long after a report a copy of it may still
// arrive: the reporting MTA retries delivering its report until its queue
// lifetime ends (5 days by default in Postfix and Exim). A report's key
// kept in the result it adds to a message that stays at least this long
// needs no record of its own.
const retransmitWindow = 7 * 24 * time.Hour

// incomingSeenCleanup is how many expired records of reports seen one
// ProcessIncoming call removes, so cleanup needs no extra job and its work
// per call is bounded.
const incomingSeenCleanup = 100

// seenCleanupInterval is how long ProcessIncoming waits, after a call
// whose cleanup left no expired record, before it looks for expired ones
// again: a record expires weeks after it was written, so looking at every
// call would cost each report a query and find nothing.
const seenCleanupInterval = time.Minute

// reportKey returns the part of the idempotency key that names the
// report: its Message-ID, else a hash of its content.
func reportKey(messageID string, msg []byte) string {
	if messageID != "" {
		return "mid:" + messageID
	}
	sum := sha256.Sum256(msg)
	return "sum:" + hex.EncodeToString(sum[:])
}

// seenKey returns the key a report and one of its recipients are
// recognized by.
func seenKey(report, recipient string) string {
	sum := sha256.Sum256([]byte(report + "\x00" + strings.ToLower(trimAngle(recipient))))
	return hex.EncodeToString(sum[:])
}

// seen reports whether key was recorded, as SeenReport or, by a version
// before it, as IncomingSeen.
func seen(tx *bstore.Tx, key string) (bool, error) {
	ok, err := seenReport(tx, key)
	if err != nil || ok {
		return ok, err
	}
	return seenV1(tx, key)
}

// seenReport reports whether key was recorded as SeenReport.
func seenReport(tx *bstore.Tx, key string) (bool, error) {
	err := tx.Get(&incomingSeen{Key: key})
	if err == nil {
		return true, nil
	} else if !errors.Is(err, bstore.ErrAbsent) {
		return false, fmt.Errorf("queue: looking up processed reports: %w", err)
	}
	return false, nil
}

// seenV1 reports whether key was recorded as IncomingSeen.
func seenV1(tx *bstore.Tx, key string) (bool, error) {
	ok, err := bstore.QueryTx[incomingSeenV1](tx).FilterNonzero(incomingSeenV1{Key: key}).Exists()
	if err != nil {
		return false, fmt.Errorf("queue: looking up processed reports: %w", err)
	}
	return ok, nil
}

// markSeen records key until keepUntil.
func markSeen(tx *bstore.Tx, key string, now, keepUntil time.Time) error {
	if err := tx.Insert(&incomingSeen{Key: key, Received: now, KeepUntil: keepUntil}); err != nil {
		return fmt.Errorf("queue: recording processed report: %w", err)
	}
	return nil
}

// cleanupSeen removes up to incomingSeenCleanup expired records, of
// SeenReport first, then of the earlier IncomingSeen, and returns how
// many.
func cleanupSeen(tx *bstore.Tx, now time.Time) (int, error) {
	n, err := cleanupExpired[incomingSeen](tx, now, incomingSeenCleanup)
	if err == nil && n < incomingSeenCleanup {
		var m int
		m, err = cleanupExpired[incomingSeenV1](tx, now, incomingSeenCleanup-n)
		n += m
	}
	return n, err
}

// cleanupExpired removes up to limit records of T whose KeepUntil is
// before now and returns how many.
func cleanupExpired[T any](tx *bstore.Tx, now time.Time, limit int) (int, error) {
	q := bstore.QueryTx[T](tx)
	q.FilterLess(fieldKeepUntil, now)
	q.Limit(limit)
	n, err := q.Delete()
	if err != nil {
		return 0, fmt.Errorf("queue: removing expired processed-report records: %w", err)
	}
	return n, nil
}

// removeExpiredSeen is cleanupSeen for ProcessIncoming. It looks for
// expired records at most once per seenCleanupInterval of the Handler's
// clock, unless the last look removed a full batch (more may be waiting):
// then every call removes the next one. Once a transaction finds no
// IncomingSeen record left, the Handler notes it (seenV1Gone) and reads
// and cleans only SeenReport from then on, as nothing writes IncomingSeen
// any more. Should that transaction roll back, only records past their
// keep period come back: a later look removes SeenReport ones, and
// IncomingSeen ones, once noted gone, are left to a new Handler.
func (h *Handler) removeExpiredSeen(tx *bstore.Tx, now time.Time) error {
	if next := h.seenCleanupNext.Load(); next != 0 && now.UnixNano() < next {
		return nil
	}
	var n int
	var err error
	if h.seenV1Gone.Load() {
		n, err = cleanupExpired[incomingSeen](tx, now, incomingSeenCleanup)
	} else {
		n, err = cleanupSeen(tx, now)
		if err == nil && n < incomingSeenCleanup {
			// A scan of IDs from the first (all are positive): no table scan.
			left, xerr := bstore.QueryTx[incomingSeenV1](tx).FilterGreaterEqual(fieldID, int64(1)).Exists()
			if xerr != nil {
				return fmt.Errorf("queue: looking up processed reports: %w", xerr)
			}
			if !left {
				h.seenV1Gone.Store(true)
			}
		}
	}
	if err != nil {
		return err
	}
	if n < incomingSeenCleanup {
		h.seenCleanupNext.Store(now.Add(seenCleanupInterval).UnixNano())
	} else {
		h.seenCleanupNext.Store(0)
	}
	return nil
}
