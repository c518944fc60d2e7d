package queue

import (
	"fmt"
	"time"

	"github.com/mjl-/bstore"
)

// Batch is a group of due messages that one SMTP transaction can carry: the
// same submission (BaseID, so the same sender and data) to recipients of
// one domain. Deliver it with one MAIL FROM: Batch.MailFrom gives the
// address that lets ProcessIncoming match bounces to each recipient.
type Batch struct {
	Domain string
	BaseID int64
	Msgs   []Msg
}

// Due returns up to limit messages (limit <= 0: no limit) whose NextAttempt
// is not after now, oldest NextAttempt first, grouped into Batches in the
// order of their first message. Held messages are never returned.
//
// A due message whose recipient was put on the suppression list after it
// was queued is not returned: it is given up in tx as FailMsgs does with
// ErrSuppressed (a failure DSN per NOTIFY, the "suppressed" webhook,
// retired), without an attempt. So tx must be a write transaction when the
// Handler has Suppressions.
//
// Recipients of one submission to one domain usually share NextAttempt, as
// they fail together; a recipient of the same group that is not due yet
// waits for its own turn.
func (h *Handler) Due(tx *bstore.Tx, now time.Time, limit int) ([]Batch, error) {
	batches, err := due(tx, now, limit)
	if err != nil || h.Suppressions == nil {
		return batches, err
	}
	kept := batches[:0]
	for _, b := range batches {
		var send, stop []Msg
		for _, m := range b.Msgs {
			suppressed, err := h.isSuppressed(tx, m.SenderAccount, m.RecipientAddress, now)
			if err != nil {
				return nil, err
			}
			if suppressed {
				stop = append(stop, m)
			} else {
				send = append(send, m)
			}
		}
		if len(stop) > 0 {
			// One batch is one submission, so one account.
			if _, err := h.FailMsgs(tx, stop, ErrSuppressed); err != nil {
				return nil, err
			}
		}
		if len(send) > 0 {
			b.Msgs = send
			kept = append(kept, b)
		}
	}
	return kept, nil
}

// due lists the due messages in batches, see Handler.Due.
func due(tx *bstore.Tx, now time.Time, limit int) ([]Batch, error) {
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
