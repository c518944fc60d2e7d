package queue_test

import (
	"reflect"
	"testing"

	"github.com/bouncekit/bouncekit/queue"
)

// TestSplitByAccount: batches of one account each, accounts in the order
// they first appear, messages in their own order.
func TestSplitByAccount(t *testing.T) {
	m := func(id int64, account string) queue.Msg { return queue.Msg{ID: id, SenderAccount: account} }
	tests := []struct {
		in   []queue.Msg
		want [][]int64
	}{
		{nil, nil},
		{[]queue.Msg{m(1, "a")}, [][]int64{{1}}},
		{[]queue.Msg{m(1, "b"), m(2, "a"), m(3, "b"), m(4, "c"), m(5, "a")}, [][]int64{{1, 3}, {2, 5}, {4}}},
	}
	for _, tc := range tests {
		var got [][]int64
		for _, batch := range queue.SplitByAccount(tc.in) {
			var ids []int64
			for _, x := range batch {
				ids = append(ids, x.ID)
			}
			got = append(got, ids)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitByAccount(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
