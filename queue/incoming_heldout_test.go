package queue

import "testing"

// incomingHeldOut is a held-out set: sisimai's labelled bounces that are
// not in the shared corpus (report/testdata/heldout/README.md). It is a
// measurement only; no rule is written from its files.
const incomingHeldOut = "../report/testdata/heldout"

// Floors for the held-out measurement: just below what was measured, so
// that a regression fails. They are not targets: a rule change is judged
// on the shared corpus and the MTAs' documentation, and these figures are
// expected to follow.
const (
	minHeldOutVerdict = 0.919 // Failed recipient and sisimai's hard/soft verdict right, per row: 286/311.
	minHeldOutClass   = 0.967 // Failed recipient and permanent/temporary as sisimai's status class: 301/311.
	minHeldOutReason  = 0.742 // Reason equal to sisimai's, per row: 231/311.
)

// TestIncomingHeldOut scores the incoming path on the held-out set with
// the rules of TestIncomingCorpus (judgeCorpusFile), logs the table per
// format and the figures for the README, and asserts the floors.
func TestIncomingHeldOut(t *testing.T) {
	per, all, table := measureCorpus(t, incomingHeldOut)
	verdict := float64(all.rcpt) / float64(all.rows)
	reason := float64(all.reason) / float64(all.rows)
	class := float64(all.class) / float64(all.rows)
	t.Logf("held-out set, per format:%s", table)
	// Read by scripts/figures for the README.
	t.Logf("figure heldout.verdict: %.1f%% of %d rows", 100*verdict, all.rows)
	t.Logf("figure heldout.reason: %.1f%%", 100*reason)
	t.Logf("figure heldout.class: %.1f%%", 100*class)
	if len(per) == 0 {
		t.Fatalf("no rows in %s", incomingHeldOut)
	}
	if verdict < minHeldOutVerdict {
		t.Errorf("recipient and verdict right for %.3f of rows, floor %.3f", verdict, minHeldOutVerdict)
	}
	if reason < minHeldOutReason {
		t.Errorf("reason right for %.3f of rows, floor %.3f", reason, minHeldOutReason)
	}
	if class < minHeldOutClass {
		t.Errorf("recipient and class right for %.3f of rows, floor %.3f", class, minHeldOutClass)
	}
}
