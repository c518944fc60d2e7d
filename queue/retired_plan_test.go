package queue

import (
	"fmt"
	"testing"

	"github.com/mjl-/bstore"

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
	cases := []planCase{
		{"account", page(RetiredFilter{Account: "big"}, paging.Page{Limit: 20}, 20, 1, 20), "MsgRetired", "SenderAccount", "index", 50},
		{"account, second page", page(RetiredFilter{Account: "big"}, paging.Page{After: 20, Limit: 20}, 20, 21, 40), "MsgRetired", "SenderAccount", "index", 130},
		// r7 has IDs 7, 107, ... 1907 among the first planHistory.
		{"account and recipient", page(RetiredFilter{Account: "big", Recipient: "r7@example.com"}, paging.Page{Limit: 5}, 5, 7, 407), "MsgRetired", "RecipientAddress+LastActivity", "index", 2*planHistory/100 + 8},
		{"no filter, cursor", page(RetiredFilter{}, paging.Page{After: 1000, Limit: 20}, 20, 1001, 1020), "MsgRetired", "", "pkscan", 30},
		{"no filter, last page", page(RetiredFilter{}, paging.Page{After: 6000, Limit: 20}, 10, 6001, 0), "MsgRetired", "", "pkscan", 30},
	}
	checkPlans(t, db, cases)
}
