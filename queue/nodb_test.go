package queue_test

import (
	"context"
	"testing"

	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
)

// TestNoDB checks that every Handler method opening its own transaction
// returns ErrNoDB itself, unwrapped, before doing anything, with or without
// the other fields set.
func TestNoDB(t *testing.T) {
	// Canceled, so that a Run that got past the check returns (nil) at
	// once instead of hanging the test.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	handlers := map[string]*queue.Handler{
		"zero":           {},
		"with deliverer": {DSNDeliverer: &queuetest.Deliverer{}},
	}
	calls := []struct {
		name string
		call func(h *queue.Handler) error
	}{
		{"Run", func(h *queue.Handler) error { return h.Run(ctx) }},
		{"DeliverOutbox", func(h *queue.Handler) error {
			n, next, err := h.DeliverOutbox(ctx)
			if n != 0 || !next.IsZero() {
				t.Errorf("DeliverOutbox without DB: %d delivered, next %v; want 0 and zero", n, next)
			}
			return err
		}},
	}
	for hname, h := range handlers {
		for _, c := range calls {
			t.Run(hname+"/"+c.name, func(t *testing.T) {
				if err := c.call(h); err != queue.ErrNoDB {
					t.Fatalf("got %v, want ErrNoDB itself", err)
				}
			})
		}
	}
}
