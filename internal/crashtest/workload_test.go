package crashtest

import (
	"reflect"
	"testing"

	"github.com/bouncekit/bouncekit/internal/workload"
)

// TestNewSubmission checks that a submission depends only on seed and
// number, and that its recipients are distinct addresses of the mix's
// profiles.
func TestNewSubmission(t *testing.T) {
	for _, tc := range []struct {
		seed uint64
		n    int64
	}{{1, 1}, {1, 2}, {2, 1}, {99, 12345}} {
		a, b := NewSubmission(tc.seed, tc.n), NewSubmission(tc.seed, tc.n)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("seed %d, n %d: %+v and %+v", tc.seed, tc.n, a, b)
		}
		if a.Account != AccountKeep && a.Account != AccountDrop {
			t.Errorf("seed %d, n %d: account %q", tc.seed, tc.n, a.Account)
		}
		if len(a.Recipients) < 1 || len(a.Recipients) > 3 {
			t.Errorf("seed %d, n %d: %d recipients", tc.seed, tc.n, len(a.Recipients))
		}
		seen := map[string]bool{}
		for _, r := range a.Recipients {
			if seen[r] {
				t.Errorf("seed %d, n %d: %s twice", tc.seed, tc.n, r)
			}
			seen[r] = true
			if !mix.Has(workload.ProfileOf(r)) {
				t.Errorf("seed %d, n %d: %s has no profile", tc.seed, tc.n, r)
			}
		}
	}
}
