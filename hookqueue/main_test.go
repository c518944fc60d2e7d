package hookqueue

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests: a request,
// worker or committer left running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
