package queue

import (
	"crypto/sha256"
	"encoding/hex"
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
// kept briefly write IncomingSeen.
type incomingSeen struct {
	// The stored type keeps its first name.
	ID int64 `bstore:"typename IncomingSeen"`

	// Key is a hash of the report's Message-ID (or, without one, its
	// content) and the recipient.
	Key string `bstore:"unique"`

	Received  time.Time
	KeepUntil time.Time `bstore:"index"`
}

// incomingDBTypes returns the bstore types ProcessIncoming stores.
func incomingDBTypes() []any {
	return []any{incomingSeen{}}
}

// incomingSeenKeep is how long IncomingSeen records are kept at least; an
// account's KeepRetired, when longer, is used instead (a duplicate cannot be
// matched to a message after that anyway).
const incomingSeenKeep = 30 * 24 * time.Hour

// retransmitWindow is how long after a report a copy of it may still
// arrive: the reporting MTA retries delivering its report until its queue
// lifetime ends (5 days by default in Postfix and Exim). A report's key
// kept in the result it adds to a message that stays at least this long
// needs no IncomingSeen record.
const retransmitWindow = 7 * 24 * time.Hour

// incomingSeenCleanup is how many expired IncomingSeen records one
// ProcessIncoming call removes, so cleanup needs no extra job and its work
// per call is bounded.
const incomingSeenCleanup = 100

// reportKey returns the part of the idempotency key that names the
// report: its Message-ID, else a hash of its content.
func reportKey(messageID string, msg []byte) string {
	if messageID != "" {
		return "mid:" + messageID
	}
	sum := sha256.Sum256(msg)
	return "sum:" + hex.EncodeToString(sum[:])
}

// seenKey returns the IncomingSeen key for the report and one recipient.
func seenKey(report, recipient string) string {
	sum := sha256.Sum256([]byte(report + "\x00" + strings.ToLower(trimAngle(recipient))))
	return hex.EncodeToString(sum[:])
}

// seen reports whether key was recorded.
func seen(tx *bstore.Tx, key string) (bool, error) {
	ok, err := bstore.QueryTx[incomingSeen](tx).FilterNonzero(incomingSeen{Key: key}).Exists()
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

// cleanupSeen removes up to incomingSeenCleanup expired records.
func cleanupSeen(tx *bstore.Tx, now time.Time) error {
	q := bstore.QueryTx[incomingSeen](tx)
	q.FilterLess(fieldKeepUntil, now)
	q.Limit(incomingSeenCleanup)
	if _, err := q.Delete(); err != nil {
		return fmt.Errorf("queue: removing expired processed-report records: %w", err)
	}
	return nil
}
