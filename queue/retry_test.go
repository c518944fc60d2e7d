package queue_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

// retryT0 is when the test messages were queued.
var retryT0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// minutes and hours, to keep the tables readable.
const (
	retryM = time.Minute
	retryH = time.Hour
)

// retryStep is one attempt of a message that fails every time: when it
// starts (after retryT0), whether its failure sends the delayed DSN (the
// first failure at which it is due), and on the last step why the policy
// gives up.
type retryStep struct {
	at     time.Duration
	dsn    bool
	giveUp queue.GiveUpReason
}

// retryTemp is a plain temporary failure.
var retryTemp = bounce.Failure{
	Code:         451,
	EnhancedCode: bounce.EnhancedCode{4, 3, 0},
	Reason:       bounce.ReasonSystemError,
	Lines:        []string{"Temporary server error. Please try again later"},
}

// retryRun fails the message of in at every step of want and checks every
// decision: the attempt count, the next attempt's time, the delayed DSN, the
// last attempt's time and the final give-up. Once due, the delayed DSN
// stays due until the policy gives up; the step that expects it is the
// first.
//
// lastAt is the expected LastAttemptAt after retryT0; zero means the last
// step's time. The schedule is exact: p runs without jitter.
func retryRun(t *testing.T, p queue.RetryPolicy, in queue.RetryInput, want []retryStep, lastAt time.Duration) {
	t.Helper()
	p = retryNoJitter(p)
	if lastAt == 0 {
		lastAt = want[len(want)-1].at
	}
	last := retryT0.Add(lastAt)
	var due bool
	for i, step := range want {
		now := retryT0.Add(step.at)
		d := p.Decide(in, now)
		if d.Attempts != int64(i+1) {
			t.Fatalf("attempt %d: Attempts %d", i+1, d.Attempts)
		}
		if first := d.DelayedDSNDue && !due; first != step.dsn {
			t.Errorf("attempt %d at %v: first DelayedDSNDue %v, want %v", i+1, step.at, first, step.dsn)
		}
		if due && d.Retry && !d.DelayedDSNDue {
			t.Errorf("attempt %d at %v: delayed DSN no longer due", i+1, step.at)
		}
		due = due || d.DelayedDSNDue
		if i == len(want)-1 {
			if d.Retry || d.GiveUp != step.giveUp || !d.NextAttempt.IsZero() || !d.LastAttemptAt.Equal(now) {
				t.Fatalf("last attempt %d: got %+v, want give up %q at %v", i+1, d, step.giveUp, now)
			}
			return
		}
		next := retryT0.Add(want[i+1].at)
		if !d.Retry || d.GiveUp != "" || !d.NextAttempt.Equal(next) {
			t.Fatalf("attempt %d at %v: got retry %v giveup %q next %v, want next %v", i+1, step.at, d.Retry, d.GiveUp, d.NextAttempt.Sub(retryT0), want[i+1].at)
		}
		if !d.LastAttemptAt.Equal(last) {
			t.Errorf("attempt %d: LastAttemptAt %v, want %v", i+1, d.LastAttemptAt.Sub(retryT0), lastAt)
		}
		in.Attempt = d.Attempts + 1
	}
	t.Fatalf("policy did not give up after %d attempts", len(want))
}

// retryNoJitter returns p without jitter, for exact times: with jitter,
// LastAttemptAt allows for the longest delays (TestRetryJitter).
func retryNoJitter(p queue.RetryPolicy) queue.RetryPolicy {
	p.Jitter = -1
	return p
}

// retryIn is the first attempt of a message queued at retryT0, failing
// with retryTemp.
func retryIn() queue.RetryInput {
	return queue.RetryInput{Attempt: 1, Queued: retryT0, Failure: retryTemp}
}

// The default schedule: 7.5m doubling to 8h, the delayed DSN at the failure
// after which the message will be 4h old, give up when the next attempt
// would pass 5 days (120h).
var retryDefaultSteps = []retryStep{
	{at: 0},
	{at: 7*retryM + 30*time.Second},
	{at: 22*retryM + 30*time.Second},
	{at: 52*retryM + 30*time.Second},
	{at: 1*retryH + 52*retryM + 30*time.Second},
	{at: 3*retryH + 52*retryM + 30*time.Second, dsn: true}, // Next attempt at 7h52.5m, past 4h.
	{at: 7*retryH + 52*retryM + 30*time.Second},            // Delay 8h from here on: the cap.
	{at: 15*retryH + 52*retryM + 30*time.Second},
	{at: 23*retryH + 52*retryM + 30*time.Second},
	{at: 31*retryH + 52*retryM + 30*time.Second},
	{at: 39*retryH + 52*retryM + 30*time.Second},
	{at: 47*retryH + 52*retryM + 30*time.Second},
	{at: 55*retryH + 52*retryM + 30*time.Second},
	{at: 63*retryH + 52*retryM + 30*time.Second},
	{at: 71*retryH + 52*retryM + 30*time.Second},
	{at: 79*retryH + 52*retryM + 30*time.Second},
	{at: 87*retryH + 52*retryM + 30*time.Second},
	{at: 95*retryH + 52*retryM + 30*time.Second},
	{at: 103*retryH + 52*retryM + 30*time.Second},
	{at: 111*retryH + 52*retryM + 30*time.Second},
	{at: 119*retryH + 52*retryM + 30*time.Second, giveUp: queue.GiveUpExpired}, // 127h52.5m would pass 120h.
}

// mox (queue/queue.go, deliver and failMsgsTx): backoff 7.5m << attempts
// before the attempt, give up at 8 attempts, delayed DSN when Attempts == 5.
var retryMoxSteps = []retryStep{
	{at: 0},
	{at: 7*retryM + 30*time.Second},
	{at: 22*retryM + 30*time.Second},
	{at: 52*retryM + 30*time.Second},
	{at: 1*retryH + 52*retryM + 30*time.Second, dsn: true},
	{at: 3*retryH + 52*retryM + 30*time.Second},
	{at: 7*retryH + 52*retryM + 30*time.Second},
	{at: 15*retryH + 52*retryM + 30*time.Second, giveUp: queue.GiveUpAttempts},
}

func TestRetryDefaultSchedule(t *testing.T) {
	// The greylisting shortcut is never used, so one attempt more could fit
	// before the deadline: Will-Retry-Until is the deadline.
	retryRun(t, queue.DefaultPolicy(), retryIn(), retryDefaultSteps, 120*retryH)

	// Without the shortcut, the last attempt is known exactly.
	p := queue.DefaultPolicy()
	p.GreylistRetry = -1 // No greylisting shortcut.
	retryRun(t, p, retryIn(), retryDefaultSteps, 0)

	// Once the shortcut is used, too.
	in := retryIn()
	in.GreylistedBefore = true
	in.Attempt = 2
	d := retryNoJitter(queue.DefaultPolicy()).Decide(in, retryT0.Add(5*retryM))
	// Attempts at 0, 5m, then delays 15m, 30m, 1h, 2h, 4h, 8h...: 20m,
	// 50m, 1h50m, 3h50m, 7h50m, 15h50m, ..., 119h50m.
	if !d.NextAttempt.Equal(retryT0.Add(20*retryM)) || !d.LastAttemptAt.Equal(retryT0.Add(119*retryH+50*retryM)) {
		t.Fatalf("after greylisting: %s", retryFormat(d))
	}
}

func TestRetryZeroPolicyIsDefault(t *testing.T) {
	retryRun(t, queue.RetryPolicy{}, retryIn(), retryDefaultSteps, 120*retryH)
	if err := (queue.RetryPolicy{}).Validate(); err != nil {
		t.Fatalf("zero policy: %v", err)
	}
}

func TestRetryMoxSchedule(t *testing.T) {
	retryRun(t, queue.MoxPolicy(), retryIn(), retryMoxSteps, 0)

	// mox's Will-Retry-Until is the 5th attempt plus 28h; ours is the real
	// last attempt, 14h earlier.
	in := retryIn()
	in.Attempt = 5
	fifth := retryT0.Add(retryMoxSteps[4].at)
	d := retryNoJitter(queue.MoxPolicy()).Decide(in, fifth)
	if !d.DelayedDSNDue {
		t.Fatalf("no delayed DSN after 5th failure")
	}
	if got := fifth.Add(28 * retryH).Sub(d.LastAttemptAt); got != 14*retryH {
		t.Fatalf("mox's retry-until minus ours: %v, want 14h", got)
	}
}

func TestRetryPlan(t *testing.T) {
	check := func(name string, plan []queue.PlannedAttempt, want []retryStep) {
		t.Helper()
		if len(plan) != len(want) {
			t.Fatalf("%s: %d attempts, want %d", name, len(plan), len(want))
		}
		for i, a := range plan {
			w := want[i]
			if !a.At.Equal(retryT0.Add(w.at)) || a.DelayedDSN != w.dsn || a.GiveUp != w.giveUp {
				t.Errorf("%s: attempt %d: %v dsn %v giveup %q, want %v %v %q", name, i+1, a.At.Sub(retryT0), a.DelayedDSN, a.GiveUp, w.at, w.dsn, w.giveUp)
			}
		}
	}
	check("default", queue.DefaultPolicy().Plan(retryT0, 0), retryDefaultSteps)
	check("zero", queue.RetryPolicy{}.Plan(retryT0, 0), retryDefaultSteps)
	check("mox", queue.MoxPolicy().Plan(retryT0, 0), retryMoxSteps)
	check("mox, 3 attempts", queue.MoxPolicy().Plan(retryT0, 3), []retryStep{
		{at: 0},
		{at: 7*retryM + 30*time.Second},
		{at: 22*retryM + 30*time.Second, giveUp: queue.GiveUpAttempts},
	})
	// Per-message MaxAttempts ends the default policy before 5 days.
	check("default, 2 attempts", queue.DefaultPolicy().Plan(retryT0, 2), []retryStep{
		{at: 0},
		{at: 7*retryM + 30*time.Second, giveUp: queue.GiveUpAttempts},
	})
}

// retryCase is one Decide call: attempt attempts+1 of a message queued at
// retryT0, failing at retryT0+now, without jitter.
type retryCase struct {
	name     string
	policy   queue.RetryPolicy
	attempts int64
	edit     func(in *queue.RetryInput) // Optional.
	failure  bounce.Failure
	now      time.Duration

	giveUp     queue.GiveUpReason // Empty: retry at next.
	next       time.Duration
	dsn        bool // DelayedDSNDue.
	greylisted bool
	last       time.Duration // LastAttemptAt; when giving up, now.
}

func retryCheck(t *testing.T, tc retryCase) {
	t.Helper()
	in := queue.RetryInput{Attempt: tc.attempts + 1, Queued: retryT0, Failure: tc.failure}
	if tc.edit != nil {
		tc.edit(&in)
	}
	now := retryT0.Add(tc.now)
	d := retryNoJitter(tc.policy).Decide(in, now)
	want := queue.RetryDecision{
		Retry:         tc.giveUp == "",
		GiveUp:        tc.giveUp,
		Attempts:      tc.attempts + 1,
		Greylisted:    tc.greylisted,
		DelayedDSNDue: tc.dsn,
		LastAttemptAt: retryT0.Add(tc.last),
	}
	if want.Retry {
		want.NextAttempt = retryT0.Add(tc.next)
	} else {
		want.LastAttemptAt = now
	}
	if d.Retry != want.Retry || d.GiveUp != want.GiveUp || d.Attempts != want.Attempts ||
		!d.NextAttempt.Equal(want.NextAttempt) || d.Greylisted != want.Greylisted ||
		d.DelayedDSNDue != want.DelayedDSNDue || !d.LastAttemptAt.Equal(want.LastAttemptAt) {
		t.Errorf("got  %s\nwant %s", retryFormat(d), retryFormat(want))
	}
}

func retryFormat(d queue.RetryDecision) string {
	var b strings.Builder
	b.WriteString("retry=")
	if d.Retry {
		b.WriteString("true next=+" + d.NextAttempt.Sub(retryT0).String())
	} else {
		b.WriteString("false giveup=" + string(d.GiveUp))
	}
	b.WriteString(" attempts=" + strconv.FormatInt(d.Attempts, 10))
	if d.Greylisted {
		b.WriteString(" greylisted")
	}
	if d.DelayedDSNDue {
		b.WriteString(" dsn")
	}
	b.WriteString(" last=+" + d.LastAttemptAt.Sub(retryT0).String())
	return b.String()
}

func TestRetryOptions(t *testing.T) {
	list := queue.RetryPolicy{Schedule: []time.Duration{retryM, 10 * retryM, retryH}, MaxAttempts: 10, DelayedDSNAfterAge: -1}
	exp := queue.RetryPolicy{Initial: retryM, Factor: 3, Cap: retryH, MaxAttempts: 6}
	constant := queue.RetryPolicy{Initial: 10 * retryM, Factor: 1, MaxAge: retryH}
	age := queue.RetryPolicy{Schedule: []time.Duration{30 * retryM}, MaxAge: retryH}
	permanent := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: bounce.ReasonUserUnknown}
	mox := queue.MoxPolicy()
	def := queue.DefaultPolicy()

	cases := []retryCase{
		// Schedule as a list; the last delay repeats. Attempts at 0, 1m,
		// 11m, then hourly to the 10th at 7h11m.
		{name: "list first", policy: list, failure: retryTemp, next: retryM, last: 7*retryH + 11*retryM},
		{name: "list third", policy: list, attempts: 2, failure: retryTemp, now: 11 * retryM, next: retryH + 11*retryM, last: 7*retryH + 11*retryM},
		{name: "list repeats last", policy: list, attempts: 5, failure: retryTemp, now: 3*retryH + 11*retryM, next: 4*retryH + 11*retryM, last: 7*retryH + 11*retryM},
		{name: "list max attempts", policy: list, attempts: 9, failure: retryTemp, now: 7*retryH + 11*retryM, giveUp: queue.GiveUpAttempts},

		// Exponential: 1m, 3m, 9m, 27m, then the 1h cap; attempts at 0, 1m,
		// 4m, 13m, 40m, 1h40m.
		{name: "exponential first", policy: exp, failure: retryTemp, next: retryM, last: retryH + 40*retryM},
		{name: "exponential third", policy: exp, attempts: 2, failure: retryTemp, now: 4 * retryM, next: 13 * retryM, last: retryH + 40*retryM},
		{name: "exponential capped", policy: exp, attempts: 4, failure: retryTemp, now: 40 * retryM, next: retryH + 40*retryM, last: retryH + 40*retryM},
		{name: "exponential max attempts", policy: exp, attempts: 5, failure: retryTemp, now: retryH + 40*retryM, giveUp: queue.GiveUpAttempts},

		// Factor 1: a constant delay. With MaxAge 1h: attempts at 0, 10m, ...,
		// 60m (an attempt exactly at MaxAge is made).
		{name: "constant", policy: constant, failure: retryTemp, next: 10 * retryM, last: retryH},
		{name: "constant at max age", policy: constant, attempts: 5, failure: retryTemp, now: 50 * retryM, next: retryH, last: retryH},
		{name: "constant expired", policy: constant, attempts: 6, failure: retryTemp, now: retryH, giveUp: queue.GiveUpExpired},

		// MaxAge boundary.
		{name: "next attempt at max age", policy: age, attempts: 1, failure: retryTemp, now: 30 * retryM, next: retryH, last: retryH},
		{name: "next attempt past max age", policy: age, attempts: 1, failure: retryTemp, now: 30*retryM + time.Nanosecond, giveUp: queue.GiveUpExpired},
		{name: "failure long after max age", policy: age, attempts: 1, failure: retryTemp, now: 48 * retryH, giveUp: queue.GiveUpExpired},

		// Permanent failures give up at once, before any other check.
		{name: "permanent first attempt", policy: def, failure: permanent, giveUp: queue.GiveUpPermanent},
		{name: "permanent beats attempts", policy: mox, attempts: 7, failure: permanent, now: 15 * retryH, giveUp: queue.GiveUpPermanent},
		{name: "attempts beat expired", policy: queue.RetryPolicy{MaxAttempts: 2, MaxAge: retryM}, attempts: 1, failure: retryTemp, now: retryH, giveUp: queue.GiveUpAttempts},
		{name: "max attempts 1", policy: queue.RetryPolicy{MaxAttempts: 1}, failure: retryTemp, giveUp: queue.GiveUpAttempts},

		// Per-message MaxAttempts overrides the policy's, both ways.
		{name: "msg max attempts lower", policy: mox, attempts: 2, edit: func(in *queue.RetryInput) { in.MaxAttempts = 3 }, failure: retryTemp, now: 22 * retryM, giveUp: queue.GiveUpAttempts},
		{name: "msg max attempts higher", policy: mox, attempts: 7, edit: func(in *queue.RetryInput) { in.MaxAttempts = 10 }, failure: retryTemp, now: 15 * retryH, next: 31 * retryH, dsn: true, last: 47 * retryH},
		{name: "msg max attempts higher capped", policy: mox, attempts: 8, edit: func(in *queue.RetryInput) { in.MaxAttempts = 10 }, failure: retryTemp, now: 31 * retryH, next: 47 * retryH, dsn: true, last: 47 * retryH}, // mox: 32h.
		{name: "msg max attempts higher reached", policy: mox, attempts: 9, edit: func(in *queue.RetryInput) { in.MaxAttempts = 10 }, failure: retryTemp, now: 47 * retryH, giveUp: queue.GiveUpAttempts},
		{name: "msg max attempts before max age", policy: def, attempts: 1, edit: func(in *queue.RetryInput) { in.MaxAttempts = 2 }, failure: retryTemp, now: 7*retryM + 30*time.Second, giveUp: queue.GiveUpAttempts},
		{name: "msg max attempts with max age", policy: def, edit: func(in *queue.RetryInput) { in.MaxAttempts = 3 }, failure: retryTemp, next: 7*retryM + 30*time.Second, last: 22*retryM + 30*time.Second},

		// Delayed DSN by attempt count: due at and after the count (the
		// Handler sends it once, see TestDelayedDSNEligibility).
		{name: "dsn attempts before", policy: queue.RetryPolicy{Schedule: []time.Duration{retryM}, MaxAttempts: 5, DelayedDSNAfterAttempts: 2}, failure: retryTemp, next: retryM, last: 4 * retryM},
		{name: "dsn attempts at", policy: queue.RetryPolicy{Schedule: []time.Duration{retryM}, MaxAttempts: 5, DelayedDSNAfterAttempts: 2}, attempts: 1, failure: retryTemp, now: retryM, next: 2 * retryM, dsn: true, last: 4 * retryM},
		{name: "dsn attempts after", policy: queue.RetryPolicy{Schedule: []time.Duration{retryM}, MaxAttempts: 5, DelayedDSNAfterAttempts: 2}, attempts: 2, failure: retryTemp, now: 2 * retryM, next: 3 * retryM, dsn: true, last: 4 * retryM},

		// Delayed DSN by age: at the failure after which the message will be
		// that old when next tried.
		{name: "dsn age before", policy: queue.RetryPolicy{Schedule: []time.Duration{20 * retryM, 40 * retryM}, MaxAttempts: 4, DelayedDSNAfterAge: retryH}, failure: retryTemp, next: 20 * retryM, last: 100 * retryM},
		{name: "dsn age reached by next attempt", policy: queue.RetryPolicy{Schedule: []time.Duration{20 * retryM, 40 * retryM}, MaxAttempts: 4, DelayedDSNAfterAge: retryH}, attempts: 1, failure: retryTemp, now: 20 * retryM, next: retryH, dsn: true, last: 100 * retryM},
		{name: "dsn age passed", policy: queue.RetryPolicy{Schedule: []time.Duration{20 * retryM, 40 * retryM}, MaxAttempts: 4, DelayedDSNAfterAge: retryH}, attempts: 2, failure: retryTemp, now: retryH, next: 100 * retryM, dsn: true, last: 100 * retryM},
		{name: "dsn not when giving up", policy: mox, attempts: 4, edit: func(in *queue.RetryInput) { in.MaxAttempts = 5 }, failure: retryTemp, now: retryH + 52*retryM + 30*time.Second, giveUp: queue.GiveUpAttempts},
		{name: "dsn not when permanent", policy: mox, attempts: 4, failure: permanent, now: retryH + 52*retryM + 30*time.Second, giveUp: queue.GiveUpPermanent},

		// A zero Queued is taken as now: 5 days from the failure.
		{name: "zero queued", policy: def, edit: func(in *queue.RetryInput) { in.Queued = time.Time{} }, failure: retryTemp, now: 200 * retryH, next: 200*retryH + 7*retryM + 30*time.Second, last: 200*retryH + 120*retryH},
		// Attempt numbers below 1 count as 1.
		{name: "negative attempt", policy: mox, edit: func(in *queue.RetryInput) { in.Attempt = -4 }, failure: retryTemp, next: 7*retryM + 30*time.Second, last: 15*retryH + 52*retryM + 30*time.Second},
		{name: "zero attempt", policy: mox, edit: func(in *queue.RetryInput) { in.Attempt = 0 }, failure: retryTemp, next: 7*retryM + 30*time.Second, last: 15*retryH + 52*retryM + 30*time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.policy.Validate(); err != nil {
				t.Fatalf("policy: %v", err)
			}
			retryCheck(t, tc)
		})
	}
}

func TestRetryGreylisting(t *testing.T) {
	const (
		grey  = 5 * retryM                // DefaultPolicy's GreylistRetry.
		sched = 7*retryM + 30*time.Second // The schedule's first delay.
	)
	reply := func(code int, enhanced string, reason bounce.Reason, lines ...string) bounce.Failure {
		enh, _ := bounce.ParseEnhancedCode(enhanced) // Empty: none.
		return bounce.Failure{Permanent: code >= 500, Code: code, EnhancedCode: enh, Reason: reason, Lines: lines}
	}
	cases := []struct {
		name   string
		policy queue.RetryPolicy
		f      bounce.Failure
		before bool // GreylistedBefore; the attempt is the second.
		grey   bool
	}{
		// Real greylisting replies.
		{name: "postgrey", f: reply(450, "4.2.0", bounce.ReasonUndefined, "<rcpt@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html"), grey: true},
		{name: "milter-greylist", f: reply(451, "4.7.1", bounce.ReasonUndefined, "Greylisting in action, please come back in 00:05:00"), grey: true},
		{name: "rspamd", f: reply(451, "4.7.1", bounce.ReasonUndefined, "Try again later"), grey: true},
		{name: "openbsd spamd", f: reply(451, "", bounce.ReasonUndefined, "Temporary failure, please try again later."), grey: true},
		{name: "sqlgrey", f: reply(450, "", bounce.ReasonUndefined, "Greylisted for 5 minutes (default)"), grey: true},
		{name: "graylisted multi-line", f: reply(450, "4.7.1", bounce.ReasonBlocked, "Service unavailable", "Client host graylisted, please come back later"), grey: true},
		{name: "gray-listing 421", f: reply(421, "4.7.0", bounce.ReasonUndefined, "You have been GRAY-LISTED; retry soon"), grey: true},
		{name: "come back later 4.2.0", f: reply(450, "4.2.0", bounce.ReasonUndefined, "Please come back later"), grey: true},
		{name: "greylist text beats speeding", f: reply(451, "4.7.1", bounce.ReasonSpeeding, "Greylisted: too many messages, try again later"), grey: true},
		{name: "classify detail", f: bounce.Failure{Code: 451, Reason: bounce.ReasonUndefined, Detail: bounce.DetailGreylisted}, grey: true},

		// Not greylisting.
		{name: "outlook server error", f: retryTemp},
		{name: "gmail rate", f: reply(450, "4.2.1", bounce.ReasonSpeeding, "The user you are trying to contact is receiving mail at a rate that", "prevents additional messages from being delivered. Please try again later.")},
		{name: "rate limit try again later", f: reply(451, "4.7.1", bounce.ReasonSpeeding, "Rate limit exceeded, try again later")},
		{name: "too many connections", f: reply(421, "4.7.0", bounce.ReasonTooManyConn, "Too many concurrent connections, try again later")},
		{name: "yahoo deferred", f: reply(421, "4.7.0", bounce.ReasonBadReputation, "[TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints")},
		{name: "no reverse dns", f: reply(450, "4.7.1", bounce.ReasonRequirePTR, "Client host rejected: cannot find your reverse hostname, [192.0.2.1]")},
		{name: "try again later with 421 and no enhanced code", f: reply(421, "", bounce.ReasonUndefined, "Service not available, try again later")},
		{name: "network error", f: bounce.Failure{Reason: bounce.ReasonNetworkError, Detail: bounce.DetailConnectionRefused}},
		{name: "classify detail other", f: bounce.Failure{Code: 451, Reason: bounce.ReasonTooManyConn, Detail: bounce.DetailTooManyRecipients, Lines: []string{"greylisted"}}},

		// Once per message (which earlier results count: TestRetryInput).
		{name: "greylisted before", f: reply(450, "4.2.0", bounce.ReasonUndefined, "Greylisted"), before: true},

		// Only shorter than the schedule, and not with GreylistRetry zero.
		{name: "mox has no shortcut", policy: queue.MoxPolicy(), f: reply(450, "4.2.0", bounce.ReasonUndefined, "Greylisted")},
		{name: "schedule already shorter", policy: queue.RetryPolicy{Schedule: []time.Duration{retryM}, MaxAttempts: 5, GreylistRetry: grey}, f: reply(450, "4.2.0", bounce.ReasonUndefined, "Greylisted")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy // The zero policy is DefaultPolicy.
			in := queue.RetryInput{Attempt: 1, Queued: retryT0, Failure: tc.f, GreylistedBefore: tc.before}
			if tc.before {
				in.Attempt = 2
			}
			d := p.Decide(in, retryT0) // JitterDraw 0: the delay itself.
			var want time.Duration
			switch {
			case tc.grey:
				want = grey
			case len(p.Schedule) > 0:
				want = p.Schedule[0]
			case tc.before:
				want = 2 * sched
			default:
				want = sched
			}
			if !d.Retry || d.Greylisted != tc.grey || d.NextAttempt.Sub(retryT0) != want {
				t.Fatalf("retry %v greylisted %v next +%v, want greylisted %v next +%v", d.Retry, d.Greylisted, d.NextAttempt.Sub(retryT0), tc.grey, want)
			}
			if tc.grey && d.LastAttemptAt.Before(d.NextAttempt) {
				t.Fatalf("LastAttemptAt %v before NextAttempt %v", d.LastAttemptAt, d.NextAttempt)
			}
		})
	}

	// A permanent reply that mentions greylisting is permanent.
	in := retryIn()
	in.Failure = reply(550, "5.7.1", bounce.ReasonBlocked, "Greylisted too often, go away")
	d := queue.DefaultPolicy().Decide(in, retryT0)
	if d.Retry || d.GiveUp != queue.GiveUpPermanent || d.Greylisted {
		t.Fatalf("permanent greylist text: %+v", d)
	}
}

// retryDraws returns a JitterDraw per call from a source seeded with seed,
// as the Handler draws them: uniform in [-1, 1).
func retryDraws(seed uint64) func() float64 {
	r := rand.New(rand.NewPCG(seed, seed+1))
	return func() float64 { return 2*r.Float64() - 1 }
}

func TestRetryJitter(t *testing.T) {
	// Jitter 1/4 and binary fractions keep the arithmetic exact.
	p := queue.RetryPolicy{Schedule: []time.Duration{8 * retryM}, MaxAttempts: 3, Jitter: 0.25}
	for _, tc := range []struct {
		draw float64
		next time.Duration
	}{
		{-1, 6 * retryM},                          // 1 - 1/4.
		{0, 8 * retryM},                           // The middle: no change.
		{0.5, 9 * retryM},                         // 1 + 1/8.
		{1, 10 * retryM},                          // 1 + 1/4.
		{0.875, 9*retryM + 45*time.Second},        // 1 + 7/32 = 39/32.
		{-0.875, 6*retryM + 15*time.Second},       // 1 - 7/32 = 25/32.
		{1.5, 8 * retryM},                         // Out of range: the middle.
		{-1.5, 8 * retryM},                        // Out of range.
		{math.NaN(), 8 * retryM},                  // Not a number.
		{math.Inf(1), 8 * retryM},                 // Infinite.
		{math.Inf(-1), 8 * retryM},                // Infinite.
		{math.SmallestNonzeroFloat64, 8 * retryM}, // Too small to show.
	} {
		in := retryIn()
		in.JitterDraw = tc.draw
		d := p.Decide(in, retryT0)
		if got := d.NextAttempt.Sub(retryT0); got != tc.next {
			t.Errorf("draw %v: next +%v, want +%v", tc.draw, got, tc.next)
		}
		// Will-Retry-Until takes the remaining delay at its longest: 8m * 5/4,
		// whatever this attempt's draw.
		if got, want := d.LastAttemptAt.Sub(d.NextAttempt), 10*retryM; got != want {
			t.Errorf("draw %v: last attempt %v after next, want %v", tc.draw, got, want)
		}
	}

	// With Jitter off, the draw does not count and the last attempt is
	// exact.
	off := p
	off.Jitter = -1
	for _, draw := range []float64{-1, 0, 0.5} {
		in := retryIn()
		in.JitterDraw = draw
		if d := off.Decide(in, retryT0); d.NextAttempt.Sub(retryT0) != 8*retryM || d.LastAttemptAt.Sub(retryT0) != 16*retryM {
			t.Fatalf("jitter off, draw %v: %s", draw, retryFormat(d))
		}
	}

	// Seeded draws give the same decisions every run, within bounds.
	def := queue.DefaultPolicy()
	a, b := retryDraws(1), retryDraws(1)
	distinct := map[time.Time]bool{}
	for i := range 50 {
		in := retryIn()
		in.Attempt = int64(i%7) + 1
		ina, inb := in, in
		ina.JitterDraw, inb.JitterDraw = a(), b()
		da := def.Decide(ina, retryT0)
		db := def.Decide(inb, retryT0)
		if !da.NextAttempt.Equal(db.NextAttempt) || !da.LastAttemptAt.Equal(db.LastAttemptAt) {
			t.Fatalf("same seed, different decisions: %v %v", da, db)
		}
		plain := def.Decide(in, retryT0).NextAttempt.Sub(retryT0)
		got := da.NextAttempt.Sub(retryT0)
		lo := time.Duration(float64(plain) * 0.9)
		hi := time.Duration(float64(plain) * 1.1)
		if got < lo || got >= hi {
			t.Fatalf("attempt %d: next +%v outside [%v, %v)", in.Attempt, got, lo, hi)
		}
		if in.Attempt == 1 {
			distinct[da.NextAttempt] = true
		}
	}
	if len(distinct) < 5 {
		t.Fatalf("jitter gave %d distinct first delays in 8 draws", len(distinct))
	}
}

// TestRetryJitterLastAttempt checks that LastAttemptAt is an upper bound of
// the real attempts, whatever the jitter, and never passes MaxAge.
func TestRetryJitterLastAttempt(t *testing.T) {
	policies := map[string]queue.RetryPolicy{
		"default": queue.DefaultPolicy(),
		"mox":     queue.MoxPolicy(),
		"mox wide jitter": func() queue.RetryPolicy {
			p := queue.MoxPolicy()
			p.Jitter = 0.5
			return p
		}(),
	}
	for name, p := range policies {
		for _, draw := range []func() float64{func() float64 { return -1 }, func() float64 { return 1 }, func() float64 { return 0 }, retryDraws(3)} {
			in := retryIn()
			now := retryT0
			var bound time.Time
			for range 100 {
				in.JitterDraw = draw()
				d := p.Decide(in, now)
				if !bound.IsZero() && now.After(bound) {
					t.Fatalf("%s: attempt %d at +%v after an earlier LastAttemptAt +%v", name, d.Attempts, now.Sub(retryT0), bound.Sub(retryT0))
				}
				if !d.Retry {
					break
				}
				if d.LastAttemptAt.Before(d.NextAttempt) {
					t.Fatalf("%s: LastAttemptAt before NextAttempt", name)
				}
				if p.MaxAge > 0 && d.LastAttemptAt.After(retryT0.Add(p.MaxAge)) {
					t.Fatalf("%s: LastAttemptAt +%v past MaxAge", name, d.LastAttemptAt.Sub(retryT0))
				}
				if bound.IsZero() || d.LastAttemptAt.Before(bound) {
					bound = d.LastAttemptAt
				}
				in.Attempt = d.Attempts + 1
				now = d.NextAttempt
			}
		}
	}
}

func TestRetryValidate(t *testing.T) {
	valid := map[string]queue.RetryPolicy{
		"zero":         {},
		"default":      queue.DefaultPolicy(),
		"mox":          queue.MoxPolicy(),
		"list":         {Schedule: []time.Duration{time.Minute}, MaxAttempts: 3},
		"age only":     {MaxAge: time.Hour},
		"partial":      {MaxAttempts: 30},
		"features off": {MaxAttempts: 3, MaxAge: -1, DelayedDSNAfterAge: -1, GreylistRetry: -1, Jitter: -1},
		"attempts 1":   {MaxAttempts: 1},
		"factor 1":     {Factor: 1, MaxAttempts: 3},
		"initial =cap": {Initial: time.Hour, Cap: time.Hour, MaxAttempts: 3},
	}
	for name, p := range valid {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	invalid := []struct {
		name   string
		policy queue.RetryPolicy
		want   string
	}{
		{"no limit", queue.RetryPolicy{MaxAge: -1, Jitter: 0.1}, "no limit: MaxAge is off and MaxAttempts is zero"},
		{"negative max attempts", queue.RetryPolicy{MaxAttempts: -1, MaxAge: time.Hour}, "negative MaxAttempts -1"},
		{"negative initial", queue.RetryPolicy{Initial: -time.Second, MaxAttempts: 3}, "negative Initial -1s"},
		{"negative cap", queue.RetryPolicy{Cap: -time.Second, MaxAttempts: 3}, "negative Cap -1s"},
		{"factor below 1", queue.RetryPolicy{Factor: 0.5, MaxAttempts: 3}, "Factor 0.5 is below 1"},
		{"negative factor", queue.RetryPolicy{Factor: -2, MaxAttempts: 3}, "Factor -2 is below 1"},
		{"factor nan", queue.RetryPolicy{Factor: math.NaN(), MaxAttempts: 3}, "Factor NaN is below 1 or not a number"},
		{"factor inf", queue.RetryPolicy{Factor: math.Inf(1), MaxAttempts: 3}, "Factor +Inf is below 1 or not a number"},
		{"initial above cap", queue.RetryPolicy{Initial: 2 * time.Hour, Cap: time.Hour, MaxAttempts: 3}, "Initial 2h0m0s exceeds Cap 1h0m0s"},
		{"initial above default cap", queue.RetryPolicy{Initial: 9 * time.Hour, MaxAttempts: 3}, "Initial 9h0m0s exceeds Cap 8h0m0s"},
		{"zero schedule delay", queue.RetryPolicy{Schedule: []time.Duration{time.Minute, 0}, MaxAttempts: 3}, "Schedule[1] is 0s, must be positive"},
		{"negative schedule delay", queue.RetryPolicy{Schedule: []time.Duration{-time.Minute}, MaxAttempts: 3}, "Schedule[0] is -1m0s, must be positive"},
		{"schedule and exponential", queue.RetryPolicy{Schedule: []time.Duration{time.Minute}, Initial: time.Minute, MaxAttempts: 3}, "Schedule replaces Initial, Factor and Cap"},
		{"negative dsn attempts", queue.RetryPolicy{MaxAttempts: 3, DelayedDSNAfterAttempts: -1}, "negative DelayedDSNAfterAttempts -1"},
		{"jitter 1", queue.RetryPolicy{MaxAttempts: 3, Jitter: 1}, "Jitter 1 is not below 1"},
		{"jitter inf", queue.RetryPolicy{MaxAttempts: 3, Jitter: math.Inf(1)}, "Jitter +Inf is not below 1"},
		{"jitter nan", queue.RetryPolicy{MaxAttempts: 3, Jitter: math.NaN()}, "Jitter NaN is not below 1"},
	}
	for _, tc := range invalid {
		err := tc.policy.Validate()
		if !errors.Is(err, queue.ErrInvalidRetryPolicy) {
			t.Errorf("%s: got %v, want ErrInvalidRetryPolicy", tc.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "queue: invalid retry policy: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q, want it to contain %q", tc.name, err, tc.want)
		}
	}

	// Every problem is listed.
	err := queue.RetryPolicy{MaxAttempts: -1, Cap: -1, Jitter: 2}.Validate()
	if err == nil || !strings.Contains(err.Error(), "negative Cap -1ns; negative MaxAttempts -1; Jitter 2 is not below 1") {
		t.Fatalf("several problems: %v", err)
	}
}

// TestRetryPartialPolicy checks that a policy with a few fields set keeps
// DefaultPolicy's age limit, delayed DSN, greylisting retry and jitter for
// the fields left zero, and that a negative value turns each off.
func TestRetryPartialPolicy(t *testing.T) {
	partial := queue.RetryPolicy{MaxAttempts: 30}
	def := queue.DefaultPolicy()
	def.MaxAttempts = 30
	in := retryIn()
	draw := retryDraws(1)
	for _, now := range []time.Duration{0, 3*retryH + 52*retryM + 30*time.Second, 119*retryH + 52*retryM + 30*time.Second} {
		in.JitterDraw = draw()
		got := partial.Decide(in, retryT0.Add(now))
		want := def.Decide(in, retryT0.Add(now))
		tcompare(t, got, want, fmt.Sprintf("decision at %v", now))
	}

	// The delayed DSN at about 4 hours and the 5-day limit are kept.
	plan := partial.Plan(retryT0, 0)
	var dsns int
	for _, a := range plan {
		if a.DelayedDSN {
			dsns++
			tcompare(t, a.At, retryT0.Add(3*retryH+52*retryM+30*time.Second), "delayed dsn attempt")
		}
	}
	tcompare(t, dsns, 1, "delayed dsns")
	last := plan[len(plan)-1]
	tcompare(t, last.GiveUp, queue.GiveUpExpired, "give up")
	if last.At.After(retryT0.Add(120 * retryH)) {
		t.Fatalf("last attempt %v after the 5-day limit", last.At)
	}

	// Negative values turn the features off.
	off := queue.RetryPolicy{MaxAttempts: 30, MaxAge: -1, DelayedDSNAfterAge: -1, GreylistRetry: -1, Jitter: -1}
	plan = off.Plan(retryT0, 0)
	tcompare(t, len(plan), 30, "attempts without age limit")
	for _, a := range plan {
		if a.DelayedDSN {
			t.Fatalf("delayed dsn with DelayedDSNAfterAge off")
		}
	}
	grey := retryIn()
	grey.Failure = bounce.Failure{Code: 450, EnhancedCode: bounce.EnhancedCode{4, 2, 0}, Reason: bounce.ReasonUndefined, Detail: bounce.DetailGreylisted}
	if d := off.Decide(grey, retryT0); d.Greylisted {
		t.Fatalf("greylisting shortcut with GreylistRetry off")
	}
	if d := partial.Decide(grey, retryT0); !d.Greylisted || !d.NextAttempt.Equal(retryT0.Add(5*retryM)) {
		t.Fatalf("default greylisting shortcut not kept: %+v", d)
	}
}

// TestRetryInvalidPolicies checks that Decide and Plan neither panic nor hang
// on policies Validate rejects, and on extreme messages.
func TestRetryInvalidPolicies(t *testing.T) {
	policies := []queue.RetryPolicy{
		{Jitter: 0.5},
		{Schedule: []time.Duration{0}},
		{Schedule: []time.Duration{-time.Hour}, MaxAge: time.Hour},
		{Initial: -time.Hour, MaxAttempts: 5},
		{Factor: math.NaN(), MaxAge: time.Hour},
		{Factor: 0.5, Initial: time.Hour, MaxAttempts: 1 << 40},
		{Cap: math.MaxInt64, Factor: 10, MaxAttempts: math.MaxInt64},
		{Jitter: math.Inf(1), MaxAttempts: 4},
	}
	for i, p := range policies {
		draw := retryDraws(5)
		for _, attempt := range []int64{1, 4, 1001, math.MaxInt64} {
			in := retryIn()
			in.Attempt = attempt
			in.JitterDraw = draw()
			d := p.Decide(in, retryT0)
			if d.Retry == (d.GiveUp != "") {
				t.Fatalf("policy %d, attempt %d: Retry %v with GiveUp %q", i, attempt, d.Retry, d.GiveUp)
			}
		}
		if plan := p.Plan(retryT0, 0); len(plan) == 0 || len(plan) > 10000 {
			t.Fatalf("policy %d: plan of %d attempts", i, len(plan))
		}
	}

	// Valid, but the delay takes millions of attempts to reach the cap:
	// LastAttemptAt stops stepping and bounds the rest by the cap.
	p := queue.RetryPolicy{Factor: 1.0000001, Initial: time.Nanosecond, MaxAge: 24 * time.Hour}
	d := p.Decide(retryIn(), retryT0)
	if !d.Retry || !d.NextAttempt.Equal(retryT0.Add(time.Nanosecond)) || !d.LastAttemptAt.Equal(retryT0.Add(24*time.Hour)) {
		t.Fatalf("slow factor: %s", retryFormat(d))
	}
	p = queue.RetryPolicy{Factor: 1.0000001, Initial: time.Nanosecond, MaxAttempts: 1e9}
	d = p.Decide(retryIn(), retryT0)
	if min := retryT0.Add(1e9 * time.Nanosecond); !d.Retry || d.LastAttemptAt.Before(min) {
		t.Fatalf("slow factor: LastAttemptAt %v before %v", d.LastAttemptAt, min)
	}
}

// FuzzRetryDecide checks the invariants of Decide on valid policies.
func FuzzRetryDecide(f *testing.F) {
	f.Add(int64(0), int64(450e9), 2.0, int64(8*3600e9), int64(0), int64(120*3600e9), int64(0), 0.1, int64(3), int64(0), false, 451, "4.7.1", "greylisted", 0.3)
	f.Add(int64(1), int64(60e9), 1.0, int64(0), int64(5), int64(0), int64(2), 0.0, int64(4), int64(7), false, 450, "", "try again later", 0.9)
	f.Add(int64(2), int64(0), 0.0, int64(0), int64(8), int64(0), int64(0), 0.5, int64(100), int64(0), true, 550, "5.1.1", "user unknown", 0.0)
	f.Fuzz(func(t *testing.T, sched, initial int64, factor float64, capacity, maxAttempts, maxAge, msgMax int64, jitter float64, attempts int64, ageNs int64, permanent bool, code int, enhanced, text string, r float64) {
		p := queue.RetryPolicy{
			Initial:       time.Duration(initial),
			Factor:        factor,
			Cap:           time.Duration(capacity),
			MaxAttempts:   maxAttempts,
			MaxAge:        time.Duration(maxAge),
			GreylistRetry: 5 * time.Minute,
			Jitter:        jitter,
		}
		if sched%3 == 1 {
			p = queue.RetryPolicy{Schedule: []time.Duration{time.Duration(initial), time.Hour}, MaxAttempts: maxAttempts, MaxAge: time.Duration(maxAge), Jitter: jitter}
		}
		if p.Validate() != nil {
			return
		}
		enh, _ := bounce.ParseEnhancedCode(enhanced) // Not a code: none.
		in := queue.RetryInput{
			Attempt:     attempts,
			Queued:      retryT0,
			MaxAttempts: msgMax,
			Failure:     bounce.Failure{Permanent: permanent, Code: code, EnhancedCode: enh, Lines: []string{text}},
			JitterDraw:  2*r - 1, // r as randsrc.Float64 returns it: the seeds span [0, 1).
		}
		now := retryT0.Add(time.Duration(ageNs))
		d := p.Decide(in, now)
		if d.Retry == (d.GiveUp != "") {
			t.Fatalf("Retry %v with GiveUp %q", d.Retry, d.GiveUp)
		}
		if permanent && d.GiveUp != queue.GiveUpPermanent {
			t.Fatalf("permanent failure: %+v", d)
		}
		if !d.Retry {
			if !d.LastAttemptAt.Equal(now) || d.DelayedDSNDue {
				t.Fatalf("give up: %+v", d)
			}
			return
		}
		if !d.NextAttempt.After(now) || d.LastAttemptAt.Before(d.NextAttempt) {
			t.Fatalf("now %v: %+v", now, d)
		}
		if p.MaxAge > 0 && d.NextAttempt.After(retryT0.Add(p.MaxAge)) {
			t.Fatalf("next attempt past MaxAge: %+v", d)
		}
	})
}

func BenchmarkRetryDecide(b *testing.B) {
	p := queue.DefaultPolicy()
	in := retryIn()
	in.Attempt = 4
	draw := retryDraws(1)
	now := retryT0.Add(time.Hour)
	b.ReportAllocs()
	for range b.N {
		in.JitterDraw = draw()
		d := p.Decide(in, now)
		if !d.Retry {
			b.Fatal("gave up")
		}
	}
}

func BenchmarkRetryDecideGreylist(b *testing.B) {
	p := queue.DefaultPolicy()
	in := retryIn()
	in.Failure = bounce.Failure{Code: 450, EnhancedCode: bounce.EnhancedCode{4, 2, 0}, Lines: []string{"<rcpt@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html"}}
	draw := retryDraws(1)
	b.ReportAllocs()
	for range b.N {
		in.JitterDraw = draw()
		d := p.Decide(in, retryT0)
		if !d.Greylisted {
			b.Fatal("not greylisted")
		}
	}
}
