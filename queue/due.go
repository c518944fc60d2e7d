package queue

import (
	"fmt"
	"time"

	"github.com/mjl-/bstore"
)

// Batch is a group of due messages that one SMTP transaction can carry: the
// same submission (BaseID, so the same sender and data) to recipients of
// one domain.
type Batch struct {
	Domain string
	BaseID int64
	Msgs   []Msg
}

// Due returns up to limit messages (limit <= 0: no limit) whose NextAttempt
// is not after now, oldest NextAttempt first, grouped into Batches in the
// order of their first message. Held messages are never returned.
//
// Recipients of one submission to one domain usually share NextAttempt, as
// they fail together; a recipient of the same group that is not due yet
// waits for its own turn.
func Due(tx *bstore.Tx, now time.Time, limit int) ([]Batch, error) {
	q := bstore.QueryTx[Msg](tx)
	q.FilterLessEqual(fieldNextAttempt, now)
	q.FilterEqual("Hold", false)
	q.SortAsc(fieldNextAttempt, fieldID)
	if limit > 0 {
		q.Limit(limit)
	}
	var batches []Batch
	type key struct {
		domain string
		baseID int64
	}
	index := map[key]int{}
	err := q.ForEach(func(m Msg) error {
		k := key{m.RecipientDomain, m.BaseID}
		if i, ok := index[k]; ok {
			batches[i].Msgs = append(batches[i].Msgs, m)
			return nil
		}
		index[k] = len(batches)
		batches = append(batches, Batch{Domain: m.RecipientDomain, BaseID: m.BaseID, Msgs: []Msg{m}})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: listing due messages: %w", err)
	}
	return batches, nil
}

// NextDue returns the earliest NextAttempt of a message that is not held,
// and false when there is none: the time a delivery loop should wake.
func NextDue(tx *bstore.Tx) (time.Time, bool, error) {
	q := bstore.QueryTx[Msg](tx)
	q.FilterEqual("Hold", false)
	q.SortAsc(fieldNextAttempt)
	m, err := q.Limit(1).Get()
	if err == bstore.ErrAbsent {
		return time.Time{}, false, nil
	} else if err != nil {
		return time.Time{}, false, fmt.Errorf("queue: finding next due message: %w", err)
	}
	return m.NextAttempt, true, nil
}
