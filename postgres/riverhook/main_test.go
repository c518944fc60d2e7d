package riverhook_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/bouncekit/bouncekit/postgres/internal/hooknode"
)

// TestMain runs a webhook node instead of the tests when the multi-node
// test started this binary as one (hooknode.EnvNode), and checks that no
// goroutine outlives the tests.
func TestMain(m *testing.M) {
	if hooknode.IsNode() {
		os.Exit(hooknode.Main())
	}
	code := m.Run()
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
		code = 1
	}
	os.Exit(code)
}
