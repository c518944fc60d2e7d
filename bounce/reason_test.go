package bounce

import (
	"sort"
	"testing"
)

func TestReasonsTaxonomy(t *testing.T) {
	rs := Reasons()
	if len(rs) != 36 {
		t.Fatalf("got %d reasons, want sisimai's 36", len(rs))
	}
	seen := map[Reason]bool{}
	for _, r := range rs {
		if seen[r] {
			t.Fatalf("duplicate reason %q", r)
		}
		seen[r] = true
	}
	if !sort.SliceIsSorted(rs, func(i, j int) bool { return rs[i] < rs[j] }) {
		t.Fatalf("reasons not sorted: %v", rs)
	}
}
