package queue

import (
	"fmt"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/plantest"
	"github.com/bouncekit/bouncekit/paging"
)

// TestQueryPlanListRetiredOldest checks that ListRetired oldest first
// (the zero paging.Page) keeps the index of newest first: the filter, not
// the order, picks it.
func TestQueryPlanListRetiredOldest(t *testing.T) {
	db := planDB(t)
	page := func(f RetiredFilter, p paging.Page, wantLen int, wantFirst, wantNext int64) func(tx *bstore.Tx) error {
		return func(tx *bstore.Tx) error {
			l, next, err := ListRetired(tx, f, p)
			if err != nil {
				return err
			}
			if len(l) != wantLen || len(l) > 0 && l[0].ID != wantFirst || next != wantNext {
				var first int64
				if len(l) > 0 {
					first = l[0].ID
				}
				return fmt.Errorf("page of %d from %d, next %d; want %d from %d, next %d", len(l), first, next, wantLen, wantFirst, wantNext)
			}
			for i := 1; i < len(l); i++ {
				if l[i].ID <= l[i-1].ID {
					return fmt.Errorf("ID %d after %d, want ascending", l[i].ID, l[i-1].ID)
				}
			}
			return nil
		}
	}
	cases := []plantest.Case{
		{Name: "account", Run: page(RetiredFilter{Account: "big"}, paging.Page{Limit: 20}, 20, 1, 20), Type: "MsgRetired", Index: "SenderAccount", Plan: plantest.Index, MaxReads: 50},
		{Name: "account, second page", Run: page(RetiredFilter{Account: "big"}, paging.Page{After: 20, Limit: 20}, 20, 21, 40), Type: "MsgRetired", Index: "SenderAccount", Plan: plantest.Index, MaxReads: 130},
		// r7 has IDs 7, 107, ... 1907 among the first planHistory.
		{Name: "account and recipient", Run: page(RetiredFilter{Account: "big", Recipient: "r7@example.com"}, paging.Page{Limit: 5}, 5, 7, 407), Type: "MsgRetired", Index: "RecipientAddress", Plan: plantest.Index, MaxReads: 2*planHistory/100 + 8},
		{Name: "no filter, cursor", Run: page(RetiredFilter{}, paging.Page{After: 1000, Limit: 20}, 20, 1001, 1020), Type: "MsgRetired", Plan: plantest.PKScan, MaxReads: 30},
		{Name: "no filter, last page", Run: page(RetiredFilter{}, paging.Page{After: 6000, Limit: 20}, 10, 6001, 0), Type: "MsgRetired", Plan: plantest.PKScan, MaxReads: 30},
	}
	plantest.Check(t, db, cases)
}
