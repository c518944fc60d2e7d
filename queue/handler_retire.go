package queue

import (
	"fmt"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/webhook"
)

// retire removes m from the queue. If the account keeps history, m is
// stored as MsgRetired until now plus the keep period and retire returns
// true. The Msg record is deleted in either case.
func (h *Handler) retire(tx *bstore.Tx, m Msg, success bool, event webhook.OutgoingEvent, now time.Time, settings AccountSettings) (bool, error) {
	if err := tx.Delete(&Msg{ID: m.ID}); err != nil {
		return false, fmt.Errorf("queue: removing message %d from queue: %w", m.ID, err)
	}
	h.Metrics.retired(event)
	keep := h.keepRetired(settings)
	if keep <= 0 {
		return false, nil
	}
	r := m.retire(success, event, now, now.Add(keep))
	if err := tx.Insert(&r); err != nil {
		return false, fmt.Errorf("queue: storing retired message %d: %w", m.ID, err)
	}
	return true, nil
}
