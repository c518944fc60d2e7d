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

// query returns a query on Msg in tx with the filter applied. One indexed
// field is a bstore filter, the most selective one given (IDs, BaseID,
// Recipient, RecipientDomain, then Account); the others are checked per
// record, so bstore never chooses between two indexes by map order.
func (f MsgFilter) query(tx *bstore.Tx) *bstore.Query[Msg] {
	q := bstore.QueryTx[Msg](tx)
	domain := strings.ToLower(f.RecipientDomain)
	switch {
	case len(f.IDs) > 0:
		q.FilterIDs(f.IDs)
	case f.BaseID != 0:
		q.FilterNonzero(Msg{BaseID: f.BaseID})
	case f.Recipient != "":
		q.FilterNonzero(Msg{RecipientAddress: f.Recipient})
	case domain != "":
		q.FilterNonzero(Msg{RecipientDomain: domain})
	case f.Account != "":
		q.FilterNonzero(Msg{SenderAccount: f.Account})
	}
	if f.BaseID != 0 || f.Recipient != "" || domain != "" || f.Account != "" || f.SenderDomain != "" {
		// Checks the indexed field again too: cheaper than the bookkeeping.
		q.FilterFn(f.matches)
	}
	return q
}

// matches reports whether m matches the filter's fields other than IDs.
func (f MsgFilter) matches(m Msg) bool {
	return (f.BaseID == 0 || m.BaseID == f.BaseID) &&
		(f.Recipient == "" || m.RecipientAddress == f.Recipient) &&
		(f.RecipientDomain == "" || m.RecipientDomain == strings.ToLower(f.RecipientDomain)) &&
		(f.Account == "" || m.SenderAccount == f.Account) &&
		(f.SenderDomain == "" || strings.EqualFold(addressDomain(m.SenderAddress), f.SenderDomain))
}
