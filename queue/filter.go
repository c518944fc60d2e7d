package queue

import (
	"strings"

	"github.com/mjl-/bstore"
)

// MsgFilter selects queued messages for CancelMsgs and SetHold. All nonzero
// fields must match; a zero filter matches every message.
type MsgFilter struct {
	IDs             []int64
	BaseID          int64
	Account         string
	SenderDomain    string // Domain of SenderAddress, any case.
	RecipientDomain string // Any case.
	Recipient       string // Exact RecipientAddress.
}

// query returns a query on Msg in tx with the filter applied.
func (f MsgFilter) query(tx *bstore.Tx) *bstore.Query[Msg] {
	q := bstore.QueryTx[Msg](tx)
	if len(f.IDs) > 0 {
		q.FilterIDs(f.IDs)
	}
	if nz := (Msg{BaseID: f.BaseID, SenderAccount: f.Account, RecipientDomain: strings.ToLower(f.RecipientDomain), RecipientAddress: f.Recipient}); nz.BaseID != 0 || nz.SenderAccount != "" || nz.RecipientDomain != "" || nz.RecipientAddress != "" {
		// bstore refuses FilterNonzero without a nonzero field.
		q.FilterNonzero(nz)
	}
	if f.SenderDomain != "" {
		q.FilterFn(func(m Msg) bool { return strings.EqualFold(addressDomain(m.SenderAddress), f.SenderDomain) })
	}
	return q
}
