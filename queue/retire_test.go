package queue_test

import (
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/queue"
)

// TestKeepRetiredDefault checks that the zero KeepRetired keeps retired
// messages long enough for late bounces, that a longer retry policy
// stretches it, and that a negative one keeps nothing.
func TestKeepRetiredDefault(t *testing.T) {
	for _, tc := range []struct {
		name    string
		account string
		policy  queue.RetryPolicy
		keep    time.Duration // Zero: not kept.
	}{
		{"zero: default period", "defaults", queue.RetryPolicy{}, queue.DefaultKeepRetired},
		{"zero: policy max age plus a week", "defaults", queue.RetryPolicy{MaxAge: 30 * 24 * time.Hour}, 37 * 24 * time.Hour},
		{"explicit", "alice", queue.RetryPolicy{}, 30 * 24 * time.Hour},
		{"negative: not kept", "nohistory", queue.RetryPolicy{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.policy)
			m := e.add(func(m *queue.Msg) { m.SenderAccount = tc.account }, "gone@example.com")[0]
			out := e.fail([]queue.Msg{m}, permErr())
			tcompare(t, out[0].Retired, tc.keep > 0, "retired")
			r, ok := e.retired(m.ID)
			tcompare(t, ok, tc.keep > 0, "retired record")
			if ok {
				tcompare(t, r.KeepUntil, t0.Add(tc.keep), "keep until")
			}
			if _, queued := e.get(m.ID); queued {
				t.Fatalf("message still queued")
			}
		})
	}
}
