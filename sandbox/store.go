package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
)

// Message is the data of a submitted message, stored in the sandbox's
// database next to the queue records: the delivery client and the DSN
// composer read it by the submission's BaseID.
type Message struct {
	ID     int64
	BaseID int64 `bstore:"unique"`
	Data   []byte
}

// DBTypes returns the types the sandbox's database holds: the queue's,
// suppression's and webhook queue's (queue.DBTypes), and Message.
func DBTypes() []any {
	return append(queue.DBTypes(), Message{})
}

// openStored returns the data of m's submission in tx.
func openStored(tx *bstore.Tx, m queue.Msg) (io.ReadCloser, error) {
	sm, err := bstore.QueryTx[Message](tx).FilterNonzero(Message{BaseID: m.BaseID}).Get()
	if err != nil {
		return nil, fmt.Errorf("sandbox: message data of submission %d: %w", m.BaseID, err)
	}
	return io.NopCloser(bytes.NewReader(sm.Data)), nil
}

// openMessage opens m's data in a read transaction of its own, for the
// delivery client.
func (sb *Sandbox) openMessage(ctx context.Context, m queue.Msg) (io.ReadCloser, error) {
	var rc io.ReadCloser
	err := sb.DB.Read(ctx, func(tx *bstore.Tx) (err error) {
		rc, err = openStored(tx, m)
		return err
	})
	return rc, err
}
