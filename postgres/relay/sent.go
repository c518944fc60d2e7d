package relay

import (
	"fmt"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/postgres/pgsent"
	"github.com/bouncekit/bouncekit/queue"
)

// IndexTx writes the index records of msgs to the outbox in tx, for the
// shared index of sent messages (Sent): the host calls it in the
// transaction of Handler.Add, after Add, with the same messages (their IDs
// set). The relay puts them on PostgreSQL after commit, where any node's
// ProcessIncoming finds them. A record is kept SentKeep after its message
// was queued.
func (r *Relay) IndexTx(tx *bstore.Tx, msgs ...*queue.Msg) error {
	if r.Sent == nil {
		return fmt.Errorf("%w: no shared index of sent messages (Sent)", ErrConfig)
	}
	if err := checkNode(r.Node); err != nil {
		return err
	}
	keep := r.SentKeep
	if keep <= 0 {
		keep = DefaultSentKeep
	}
	for _, m := range msgs {
		if m.ID == 0 {
			return fmt.Errorf("relay: indexing a message that was not added (no ID) to %s", m.RecipientAddress)
		}
		si := SentIntent{Sent: pgsent.Sent{
			Node:             r.Node,
			MsgID:            m.ID,
			BaseID:           m.BaseID,
			Account:          m.SenderAccount,
			SenderAddress:    m.SenderAddress,
			RecipientAddress: m.RecipientAddress,
			ORcpt:            m.ORcpt,
			FromID:           m.FromID,
			EnvID:            m.EnvID,
			MessageID:        m.MessageID,
			Subject:          m.Subject,
			Queued:           m.Queued,
			KeepUntil:        m.Queued.Add(keep),
		}}
		if err := tx.Insert(&si); err != nil {
			return fmt.Errorf("relay: writing index intent: %w", err)
		}
	}
	return nil
}
