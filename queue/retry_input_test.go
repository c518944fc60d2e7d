package queue

import (
	"github.com/bouncekit/bouncekit/bounce"
	"testing"
	"time"
)

// TestRetryInput checks what FailMsgs gives the retry policy from a stored
// message: the attempt number, Queued, MaxAttempts, the failure, and
// whether an earlier attempt was greylisted, counting only the first
// m.Attempts results of delivery attempts.
func TestRetryInput(t *testing.T) {
	queued := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	grey := MsgResult{Code: 450, EnhancedCode: "4.2.0", Error: "450 4.2.0 <rcpt@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html"}
	plain := MsgResult{Reason: bounce.ReasonNetworkError, Error: "dial tcp 192.0.2.1:25: connect: connection refused"}
	dsnGrey := MsgResult{DSN: true, Code: 450, Error: "greylisted"}
	f := bounce.Failure{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 3, 0}, Reason: bounce.ReasonSystemError}

	cases := []struct {
		name     string
		attempts int64
		results  []MsgResult
		attempt  int64
		before   bool
	}{
		{name: "first attempt", attempt: 1},
		{name: "first attempt, own result appended", results: []MsgResult{grey}, attempt: 1},
		{name: "greylisted before", attempts: 1, results: []MsgResult{grey}, attempt: 2, before: true},
		{name: "greylisted before, own result appended", attempts: 1, results: []MsgResult{grey, plain}, attempt: 2, before: true},
		{name: "earlier result not greylisting", attempts: 1, results: []MsgResult{plain}, attempt: 2},
		{name: "own greylisting result does not count", attempts: 1, results: []MsgResult{plain, grey}, attempt: 2},
		{name: "dsn result does not count", attempts: 1, results: []MsgResult{dsnGrey, plain}, attempt: 2},
		{name: "greylisted after a dsn result", attempts: 2, results: []MsgResult{plain, dsnGrey, grey}, attempt: 3, before: true},
		{name: "negative attempts", attempts: -5, attempt: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Msg{Queued: queued, MaxAttempts: 7, Attempts: tc.attempts, Results: tc.results}
			got := retryInput(&m, f)
			want := RetryInput{Attempt: tc.attempt, Queued: queued, MaxAttempts: 7, GreylistedBefore: tc.before, Failure: f}
			if got.Attempt != want.Attempt || !got.Queued.Equal(want.Queued) || got.MaxAttempts != want.MaxAttempts ||
				got.GreylistedBefore != want.GreylistedBefore || got.Failure.Code != f.Code || got.Failure.Reason != f.Reason {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		})
	}
}
