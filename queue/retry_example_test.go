package queue_test

import (
	"fmt"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

// A delivery loop asks the policy what to do after each failed attempt. (The
// Handler's FailMsgs does this from the stored message, and decides itself
// whether the sender gets the delayed DSN that is due.)
func ExampleRetryPolicy_Decide() {
	policy := queue.MoxPolicy()
	if err := policy.Validate(); err != nil {
		panic(err)
	}

	queued := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	in := queue.RetryInput{
		Attempt: 5, // Four attempts failed before this one.
		Queued:  queued,
		Failure: bounce.Failure{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 3, 0}, Reason: bounce.ReasonSystemError},
	}
	now := queued.Add(time.Hour + 52*time.Minute + 30*time.Second)

	// JitterDraw 0: the scheduled delay. Will-Retry-Until allows for the
	// longest delays the policy's jitter may still bring.
	d := policy.Decide(in, now)
	fmt.Println("retry:", d.Retry, "attempts:", d.Attempts)
	fmt.Println("next attempt:", d.NextAttempt.Format(time.DateTime))
	fmt.Println("delayed DSN due:", d.DelayedDSNDue)
	fmt.Println("will retry until:", d.LastAttemptAt.Format(time.DateTime))

	// The Handler draws JitterDraw from Handler.Rand for every failure, in
	// [-1, 1): with mox's Jitter the delay varies by up to 1/90.
	in.JitterDraw = 0.9
	d = policy.Decide(in, now)
	fmt.Println("next attempt after", d.NextAttempt.Sub(now))

	// Without jitter, Will-Retry-Until is the exact last attempt.
	exact := policy
	exact.Jitter = -1
	fmt.Println("exact last attempt:", exact.Decide(in, now).LastAttemptAt.Format(time.DateTime))

	// After the 8th failure, mox's policy gives up.
	in.Attempt = 8
	d = policy.Decide(in, queued.Add(16*time.Hour))
	fmt.Println("retry:", d.Retry, "give up:", d.GiveUp)
	// Output:
	// retry: true attempts: 5
	// next attempt: 2025-03-04 12:52:30
	// delayed DSN due: true
	// will retry until: 2025-03-05 01:00:30
	// next attempt after 2h1m12s
	// exact last attempt: 2025-03-05 00:52:30
	// retry: false give up: attempts
}

// Plan shows a policy's schedule for a message that never gets through.
func ExampleRetryPolicy_Plan() {
	queued := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	for i, a := range queue.MoxPolicy().Plan(queued, 0) {
		fmt.Printf("attempt %d at +%v", i+1, a.At.Sub(queued))
		if a.DelayedDSN {
			fmt.Print(", then a delayed DSN")
		}
		if a.GiveUp != "" {
			fmt.Print(", then give up: ", a.GiveUp)
		}
		fmt.Println()
	}
	// Output:
	// attempt 1 at +0s
	// attempt 2 at +7m30s
	// attempt 3 at +22m30s
	// attempt 4 at +52m30s
	// attempt 5 at +1h52m30s, then a delayed DSN
	// attempt 6 at +3h52m30s
	// attempt 7 at +7h52m30s
	// attempt 8 at +15h52m30s, then give up: attempts
}
