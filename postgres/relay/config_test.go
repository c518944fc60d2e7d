package relay_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/postgres/pgsent"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/postgres/relay"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	tests := []struct {
		node string
		db   *bstore.DB
		ok   bool
	}{
		{"mx1", db, true},
		{"mx-1.example_org", db, true},
		{strings.Repeat("a", 64), db, true},
		{"", db, false},
		{strings.Repeat("a", 65), db, false},
		{"mx 1", db, false},
		{"mx/1", db, false},
		{"mx\u00e9", db, false},
		{"mx1", nil, false},
	}
	for _, tc := range tests {
		r := &relay.Relay{Node: tc.node, DB: tc.db}
		err := r.Validate()
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, relay.ErrConfig) {
			t.Errorf("node %q, db %v: %v", tc.node, tc.db != nil, err)
		}
		if !tc.ok {
			if _, err := r.Flush(context.Background()); !errors.Is(err, relay.ErrConfig) {
				t.Errorf("flush with node %q, db %v: %v, want ErrConfig", tc.node, tc.db != nil, err)
			}
		}
	}
}

// TestMissingStores: a Relay without a store refuses the calls that need
// it, and writes nothing.
func TestMissingStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	r := &relay.Relay{Node: "a", DB: db}
	err := db.Write(ctx, func(tx *bstore.Tx) error {
		calls := map[string]error{}
		_, _, calls["stop"] = r.StopTx(tx, "alice", "bob@example.com", t0)
		_, _, calls["process"] = r.ProcessTx(tx, suppression.Check{Account: "alice", Recipient: "bob@example.com"})
		_, calls["delivered"] = r.DeliveredTx(tx, "alice", "bob@example.com")
		calls["enqueue"] = r.Enqueue(tx)
		calls["index"] = r.IndexTx(tx)
		for name, err := range calls {
			if !errors.Is(err, relay.ErrConfig) {
				t.Errorf("%s: %v, want ErrConfig", name, err)
			}
		}
		// A message that was not added cannot be indexed.
		r.Sent = &pgsent.Index{}
		if err := r.IndexTx(tx, &queue.Msg{RecipientAddress: "bob@example.com"}); err == nil {
			t.Errorf("index of a message without id: no error")
		}
		return nil
	})
	tcheck(t, err, "write")
	n := &node{db: db, r: r}
	if got := n.outbox(t); got != [3]int{} {
		t.Fatalf("outbox %v, want empty", got)
	}
	// Without a shared list the relay cannot say the policy decides
	// alone, so the queue hands it the history.
	hard := suppression.Check{Account: "alice", Recipient: "bob@example.com", Failure: bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: bounce.ReasonUserUnknown}}
	if !r.UsesHistory(hard) {
		t.Fatalf("UsesHistory without a shared list: false, want true")
	}
	r.Suppressions = &pgsuppression.Store{}
	if r.UsesHistory(hard) {
		t.Fatalf("UsesHistory of a hard bounce with the default policy: true, want false")
	}
}
