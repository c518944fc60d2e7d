package crashtest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/bouncekit/bouncekit/bounce"
)

// TestAttemptError pins the outcome of each profile per attempt: a
// restarted child must repeat the outcome of an attempt it did not record.
func TestAttemptError(t *testing.T) {
	for _, tc := range []struct {
		addr      string
		attempt   int64
		code      int // 0: accepted.
		permanent bool
	}{
		{"ok-1@a.example", 1, 0, false},
		{"late-3@b.example", 1, 0, false},
		{"hard-0@a.example", 1, 550, true},
		{"block-2@a.example", 3, 554, true},
		{"temp1-1@a.example", 1, 451, false},
		{"temp1-1@a.example", 2, 0, false},
		{"temp2-1@a.example", 2, 451, false},
		{"temp2-1@a.example", 3, 0, false},
		{"temp3-1@a.example", 3, 451, false},
		{"temp3-1@a.example", 4, 0, false},
		{"tempfail-5@b.example", 4, 451, false},
	} {
		err := AttemptError(tc.addr, tc.attempt)
		if tc.code == 0 {
			if err != nil {
				t.Errorf("%s attempt %d: %v, want accepted", tc.addr, tc.attempt, err)
			}
			continue
		}
		var se *bounce.SMTPError
		if !errors.As(err, &se) {
			t.Errorf("%s attempt %d: %v, want an SMTPError", tc.addr, tc.attempt, err)
			continue
		}
		if se.Code != tc.code {
			t.Errorf("%s attempt %d: code %d, want %d", tc.addr, tc.attempt, se.Code, tc.code)
		}
		if f := bounce.Classify(err); f.Permanent != tc.permanent {
			t.Errorf("%s attempt %d: permanent %v, want %v", tc.addr, tc.attempt, f.Permanent, tc.permanent)
		}
	}
}

// TestNewSubmission checks that a submission depends only on seed and
// number, and that its recipients are distinct workload addresses.
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
			known := false
			for _, pw := range profileWeights {
				known = known || ProfileOf(r) == pw.p
			}
			if !known {
				t.Errorf("seed %d, n %d: %s has no profile", tc.seed, tc.n, r)
			}
		}
	}
}
