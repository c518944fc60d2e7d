package queue

import (
	"errors"
	"fmt"
	"time"

	"github.com/mjl-/bstore"
)

// ErrZeroTime is returned by Reschedule for a zero time: a queued message
// always has a next attempt.
var ErrZeroTime = errors.New("queue: zero next attempt time")

// Reschedule sets NextAttempt of the queued messages matching filter to
// next, in the caller's transaction, and returns how many changed: an
// operator's "try again now" after fixing a route, or "not before
// Monday". Attempts made so far still count for the retry policy, and a
// held message stays held. The host's delivery loop sees the new time at
// its next Due.
func Reschedule(tx *bstore.Tx, filter MsgFilter, next time.Time) (int, error) {
	if next.IsZero() {
		return 0, ErrZeroTime
	}
	q := filter.query(tx)
	q.FilterFn(func(m Msg) bool { return !m.NextAttempt.Equal(next) })
	n, err := q.UpdateField(fieldNextAttempt, next)
	if err != nil {
		return 0, fmt.Errorf("queue: rescheduling: %w", err)
	}
	return n, nil
}
