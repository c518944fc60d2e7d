package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests: a Run loop,
// a server or a request left running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
