package queue

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
)

// RetryPolicy decides, after a failed delivery attempt, whether and when to
// try again, when to give up, and when the delayed DSN is due. Its Decide
// method is a pure function of a RetryInput (the attempt number, when the
// message was queued, the failure, the message's own limit, whether it was
// greylisted before, the random jitter draw) and the time. Whether a DSN
// may and should go to the sender (NOTIFY, the null sender, reports) is not
// the policy's to decide: the Handler decides that, for every DSN, in one
// place.
//
// A zero field takes DefaultPolicy's value, so RetryPolicy{MaxAttempts: 30}
// is the default policy with at most 30 attempts, keeping its age limit and
// delayed DSN; the zero RetryPolicy is DefaultPolicy. A negative MaxAge,
// DelayedDSNAfterAge, GreylistRetry or Jitter turns that feature off.
// Validate rejects policies that cannot work (a factor below 1, no limit
// at all, ...); the Handler checks its policy before the first decision.
type RetryPolicy struct {
	// Schedule lists the delay after each failed attempt: Schedule[0] after
	// the first, Schedule[1] after the second, and so on; the last delay
	// repeats. Empty: exponential back-off from Initial, Factor and Cap,
	// which must then be zero.
	Schedule []time.Duration

	// Initial is the exponential back-off's delay after the first failed
	// attempt. Zero: 7.5 minutes. Must not be negative.
	Initial time.Duration

	// Factor multiplies the delay after each further failed attempt. Zero:
	// 2. A factor of 1 gives a constant delay.
	Factor float64

	// Cap is the longest exponential delay, before jitter. Zero: 8 hours.
	// Must not be negative.
	Cap time.Duration

	// MaxAttempts is the number of attempts after which the policy gives up
	// (GiveUpAttempts). A message's own MaxAttempts, if above zero,
	// overrides it. Zero: no limit on the count, as in DefaultPolicy (then
	// MaxAge must not be negative). Must not be negative.
	MaxAttempts int64

	// MaxAge gives up on a message once its next attempt would come more
	// than MaxAge after it was queued (GiveUpExpired), even with attempts
	// left, like Postfix's maximal_queue_lifetime. Zero: 5 days (RFC 5321
	// section 4.5.4.1). Negative: no age limit (MaxAttempts must be set).
	MaxAge time.Duration

	// DelayedDSNAfterAttempts makes the delayed DSN due after this many
	// failed attempts (mox: 5). Zero: not by count, as in DefaultPolicy.
	// Must not be negative.
	DelayedDSNAfterAttempts int64

	// DelayedDSNAfterAge makes the delayed DSN due at the first failure
	// after which the message will have waited at least this long, counted
	// from Queued, when it is next tried, like Postfix's delay_warning_time.
	// Because the decision is made at a failure, the DSN goes out at the
	// failure before that age is reached rather than hours after it. Zero:
	// 4 hours. Negative: not by age.
	DelayedDSNAfterAge time.Duration

	// GreylistRetry is the delay after a greylisting reply (a temporary
	// reply whose text says greylisted, see Decide), used instead of a
	// longer scheduled delay, once per message: a server that greylists
	// accepts a retry after a few minutes, so waiting hours is a needless
	// delay. Zero: 5 minutes. Negative: greylisting replies follow the
	// schedule.
	GreylistRetry time.Duration

	// Jitter spreads retries so messages that failed together (say, during
	// a remote outage) do not all come back at the same moment: each delay
	// is multiplied by 1+Jitter*RetryInput.JitterDraw, a factor in
	// [1-Jitter, 1+Jitter]. It must be below 1. Zero: 0.1. Negative: no
	// jitter.
	Jitter float64
}

// Defaults of the exponential back-off: RFC 5321 section 4.5.4.1 asks for
// at least 30 minutes between retries of a message to one destination; mox
// and many MTAs start shorter and double, which helps greylisted and
// briefly unreachable recipients without hammering a host that stays down.
const (
	retryDefaultInitial = 7*time.Minute + 30*time.Second
	retryDefaultFactor  = 2.0
	retryDefaultCap     = 8 * time.Hour
)

// Defaults of DefaultPolicy's limits, taken by a policy's zero fields.
const (
	retryDefaultMaxAge        = 5 * 24 * time.Hour // RFC 5321 section 4.5.4.1: "at least 4-5 days".
	retryDefaultDelayedDSNAge = 4 * time.Hour
	retryDefaultGreylist      = 5 * time.Minute
	retryDefaultJitter        = 0.1
)

// retryMaxPlanned bounds the attempts Plan lists.
const retryMaxPlanned = 10000

// retryMaxSteps bounds the attempts lastAttempt steps through one by one; a
// steady delay is skipped arithmetically, so only a schedule longer than
// this, or a factor very close to 1, reaches it.
const retryMaxSteps = 1000

// DefaultPolicy returns the policy of RFC 5321 section 4.5.4.1: retry for
// about 5 days (the RFC asks for at least 4-5), with delays of 7.5 minutes
// doubling to a cap of 8 hours, and a delayed DSN when the message will be
// 4 hours old (RFC 3464; Postfix's delay_warning_time is similar). A
// greylisting reply is retried after 5 minutes, and delays get ±10% jitter.
//
// Without jitter a message that never gets through is tried at 0, 7.5m,
// 22.5m, 52.5m, 1h52.5m, 3h52.5m, 7h52.5m and then every 8 hours up to
// 119h52.5m: 21 attempts. The delayed DSN follows the failure at 3h52.5m,
// whose next attempt is at 7h52.5m; its Will-Retry-Until is the 5 day
// deadline (see RetryDecision.LastAttemptAt).
func DefaultPolicy() RetryPolicy {
	return RetryPolicy{
		Initial:            retryDefaultInitial,
		Factor:             retryDefaultFactor,
		Cap:                retryDefaultCap,
		MaxAge:             retryDefaultMaxAge,
		DelayedDSNAfterAge: retryDefaultDelayedDSNAge,
		GreylistRetry:      retryDefaultGreylist,
		Jitter:             retryDefaultJitter,
	}
}

// MoxPolicy returns the policy of the mox mail server, for hosts migrating
// from it: delays of 7.5m, 15m, 30m, 1h, 2h, 4h and 8h, so attempts at 0,
// 7.5m, 22.5m, 52.5m, 1h52.5m, 3h52.5m, 7h52.5m and 15h52.5m; give up after
// 8 attempts; the delayed DSN after the 5th failed attempt. mox has no age
// limit and no greylisting shortcut, and neither has this policy.
//
// Two differences, both documented in mox's terms: mox doubles without a cap,
// which matters only for messages with a MaxAttempts above 9 (here the delay
// stops at 16 hours); and mox writes Will-Retry-Until as the 5th attempt plus
// 28 hours, about 14 hours past its real last attempt, while Decide reports
// the real one. mox's jitter of -5 to +4 seconds on the 7.5 minute base,
// doubled with it, is a Jitter of 1/90.
func MoxPolicy() RetryPolicy {
	return RetryPolicy{
		Initial:                 retryDefaultInitial,
		Factor:                  2,
		Cap:                     16 * time.Hour,
		MaxAttempts:             8,
		MaxAge:                  -1, // No age limit.
		DelayedDSNAfterAttempts: 5,
		DelayedDSNAfterAge:      -1, // Not by age.
		GreylistRetry:           -1, // No greylisting shortcut.
		Jitter:                  1.0 / 90,
	}
}

// ErrInvalidRetryPolicy is wrapped by the errors of RetryPolicy.Validate.
var ErrInvalidRetryPolicy = errors.New("queue: invalid retry policy")

// Validate returns an error wrapping ErrInvalidRetryPolicy that lists every
// problem of p, or nil if p is usable. Decide does not call it: check a
// policy once, when it is configured. Decide on an invalid policy returns a
// decision without panicking, but which one is unspecified.
func (p RetryPolicy) Validate() error {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	for i, d := range p.Schedule {
		if d <= 0 {
			bad("Schedule[%d] is %v, must be positive", i, d)
		}
	}
	if len(p.Schedule) > 0 && (p.Initial != 0 || p.Factor != 0 || p.Cap != 0) {
		bad("Schedule replaces Initial, Factor and Cap, which must be zero with it")
	}
	if p.Initial < 0 {
		bad("negative Initial %v", p.Initial)
	}
	if p.Cap < 0 {
		bad("negative Cap %v", p.Cap)
	}
	if math.IsNaN(p.Factor) || math.IsInf(p.Factor, 0) || p.Factor < 0 || p.Factor > 0 && p.Factor < 1 {
		bad("Factor %v is below 1 or not a number", p.Factor)
	}
	if e := p.effective(); len(p.Schedule) == 0 && p.Initial >= 0 && p.Cap >= 0 && e.Initial > e.Cap {
		bad("Initial %v exceeds Cap %v", e.Initial, e.Cap)
	}
	if p.MaxAttempts < 0 {
		bad("negative MaxAttempts %d", p.MaxAttempts)
	}
	if p.MaxAttempts == 0 && p.MaxAge < 0 {
		bad("no limit: MaxAge is off and MaxAttempts is zero")
	}
	if p.DelayedDSNAfterAttempts < 0 {
		bad("negative DelayedDSNAfterAttempts %d", p.DelayedDSNAfterAttempts)
	}
	if math.IsNaN(p.Jitter) || p.Jitter >= 1 {
		bad("Jitter %v is not below 1", p.Jitter)
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidRetryPolicy, strings.Join(problems, "; "))
}

// GiveUpReason says why a message is no longer retried.
type GiveUpReason string

// Reasons to give up. RetryPolicy.Decide returns the first three; the
// Handler adds GiveUpSuppressed.
const (
	GiveUpPermanent GiveUpReason = "permanent" // The failure was permanent.
	GiveUpAttempts  GiveUpReason = "attempts"  // MaxAttempts attempts were made.
	GiveUpExpired   GiveUpReason = "expired"   // The next attempt would come after MaxAge.
)

// RetryInput is what RetryPolicy.Decide decides from: the failed attempt and
// the few facts about its message that the policy uses. The Handler makes it
// from the stored Msg; a host that keeps its own records fills it in from
// those.
type RetryInput struct {
	// Attempt is the number of the attempt that failed, counting from 1:
	// Msg.Attempts before the attempt, plus one. Below 1 counts as 1.
	Attempt int64

	// Queued is when the message was queued (Msg.Queued): MaxAge and
	// DelayedDSNAfterAge count from it. Zero: the time of the failure.
	Queued time.Time

	// MaxAttempts, if above zero, overrides the policy's MaxAttempts for
	// this message (Msg.MaxAttempts).
	MaxAttempts int64

	// GreylistedBefore is true when an earlier attempt of the message got a
	// greylisting reply: the greylisting shortcut is taken once per message,
	// so a server that keeps greylisting does not get an attempt every few
	// minutes.
	GreylistedBefore bool

	// Failure is how the attempt failed, as bounce.Classify describes it.
	Failure bounce.Failure

	// JitterDraw places this attempt's delay in the policy's jitter range:
	// -1 is the shortest (1-Jitter times the scheduled delay), 1 the
	// longest, 0 the scheduled delay itself. The Handler draws it uniformly
	// from Handler.Rand; a seeded or fixed value gives exact results in
	// tests. Zero, and anything outside [-1, 1]: the scheduled delay.
	JitterDraw float64
}

// RetryDecision is what RetryPolicy.Decide decided about a failed attempt.
type RetryDecision struct {
	// Retry is true when the message stays queued until NextAttempt; false
	// when the policy gives up for the reason in GiveUp.
	Retry bool

	// GiveUp says why the policy gives up; empty when Retry is true.
	GiveUp GiveUpReason

	// Attempts is the message's new attempt count, including the failed
	// attempt: store it in Msg.Attempts.
	Attempts int64

	// NextAttempt is when to try again; zero when giving up.
	NextAttempt time.Time

	// Greylisted is true when NextAttempt comes from GreylistRetry instead
	// of the schedule.
	Greylisted bool

	// DelayedDSNDue is true when the policy's time for a delayed DSN (RFC
	// 3464 Action: delayed) has come: DelayedDSNAfterAttempts or
	// DelayedDSNAfterAge is reached. It stays true at the later failures;
	// the Handler sends a message's one delayed DSN at the first of them,
	// if the sender can get one (see FailMsgs) and records that in
	// Msg.DelayedDSNSent. Never true when giving up: then a failure DSN is
	// due instead.
	DelayedDSNDue bool

	// LastAttemptAt is the time of the last attempt the policy will make if
	// every attempt fails: the RFC 3464 Will-Retry-Until of a delayed DSN,
	// never earlier than the real last attempt, whatever the later jitter
	// draws. It is exact when the policy has no jitter (Jitter negative) and
	// either MaxAge is zero or no greylisting shortcut is left
	// (GreylistRetry zero, or already used). Otherwise jitter or a later
	// shortcut may fit more attempts before the deadline,
	// so it is an upper bound: the earlier of Queued+MaxAge and the last
	// attempt with every delay at its longest. When giving up it is the time
	// of the failed attempt.
	LastAttemptAt time.Time
}

// Decide decides what follows failed attempt in.Attempt of a message, which
// ended at now with in.Failure, in this order:
//
//   - A permanent failure gives up (GiveUpPermanent).
//   - Reaching MaxAttempts (in.MaxAttempts if above zero) gives up
//     (GiveUpAttempts).
//   - Otherwise the next attempt is now plus the delay for this attempt
//     number, or GreylistRetry for a greylisting reply, scaled by the
//     jitter in.JitterDraw selects. If that is more than MaxAge after
//     in.Queued, the policy gives up
//     now (GiveUpExpired) instead of waiting for an attempt it will not make.
//   - The delayed DSN is due when DelayedDSNAfterAttempts or
//     DelayedDSNAfterAge is reached.
//
// A greylisting reply is a temporary failure with Detail bounce.DetailGreylisted,
// as bounce.Classify sets it. A bounce.Failure without Detail (made by hand, or an older
// result) is recognised from its reply: a 4xx code or a 4.x.x enhanced
// code, with text that says greylist or graylist (in any spelling), or one with
// enhanced code 4.2.0, 4.7.0 or 4.7.1 or a bare 450 or 451 code whose text
// says try again later or come back later (Postgrey, rspamd,
// milter-greylist, OpenBSD spamd). Its shortcut is taken only if
// in.GreylistedBefore is false. Rate limits (reason speeding or
// toomanyconn) follow the schedule unless they say greylisted: coming back
// in minutes tends to prolong them.
func (p RetryPolicy) Decide(in RetryInput, now time.Time) RetryDecision {
	p = p.effective()
	f := in.Failure
	d := RetryDecision{Attempts: max(in.Attempt, 1), LastAttemptAt: now}

	queued := in.Queued
	if queued.IsZero() {
		queued = now
	}
	limit := p.MaxAttempts
	if in.MaxAttempts > 0 {
		limit = in.MaxAttempts
	}
	var deadline time.Time
	if p.MaxAge > 0 {
		deadline = queued.Add(p.MaxAge)
	}

	if f.Permanent {
		d.GiveUp = GiveUpPermanent
		return d
	}
	if limit > 0 && d.Attempts >= limit {
		d.GiveUp = GiveUpAttempts
		return d
	}

	delay := p.delay(d.Attempts)
	shortcut := p.GreylistRetry > 0 && !in.GreylistedBefore
	if shortcut && p.GreylistRetry < delay && greylisting(f) {
		delay = p.GreylistRetry
		d.Greylisted = true
		shortcut = false
	}
	jitter := p.Jitter
	if draw := in.JitterDraw; jitter > 0 && draw >= -1 && draw <= 1 { // Also not NaN.
		delay = retryScale(delay, 1+jitter*draw)
	}
	next := now.Add(max(delay, time.Nanosecond))
	// RFC 5321 section 4.5.4.1: give up after a period, with a failure DSN.
	if !deadline.IsZero() && next.After(deadline) {
		d.GiveUp = GiveUpExpired
		return d
	}

	d.Retry = true
	d.NextAttempt = next
	// Jitter, or a greylisting shortcut still to come, can fit more attempts
	// before the deadline than the plain schedule: then only the deadline
	// bounds the last one.
	k := retryIncrement(d.Attempts)
	d.LastAttemptAt = p.lastAttempt(next, k, limit, time.Time{}, jitter)
	if !deadline.IsZero() {
		if jitter > 0 || shortcut {
			d.LastAttemptAt = retryEarlier(d.LastAttemptAt, deadline)
		} else {
			d.LastAttemptAt = p.lastAttempt(next, k, limit, deadline, 0)
		}
	}
	d.DelayedDSNDue = p.DelayedDSNAfterAttempts > 0 && d.Attempts >= p.DelayedDSNAfterAttempts ||
		p.DelayedDSNAfterAge > 0 && !next.Before(queued.Add(p.DelayedDSNAfterAge))
	return d
}

// PlannedAttempt is one attempt of a message that fails every time, as
// listed by RetryPolicy.Plan.
type PlannedAttempt struct {
	At time.Time // When the attempt starts.

	// DelayedDSN is true when a failure of this attempt sends the delayed
	// DSN: the first attempt at which it is due.
	DelayedDSN bool

	// GiveUp is set on the last attempt: why none follows.
	GiveUp GiveUpReason
}

// Plan lists the attempts of a message queued at queued, with the given
// per-message MaxAttempts (zero: the policy's), if every attempt fails
// temporarily and immediately, without greylisting or jitter: the policy's
// schedule, as Decide would make it. It lists at most 10000 attempts.
func (p RetryPolicy) Plan(queued time.Time, maxAttempts int64) []PlannedAttempt {
	p.Jitter = -1 // The plain schedule, and exact LastAttemptAt.
	in := RetryInput{Attempt: 1, Queued: queued, MaxAttempts: maxAttempts, Failure: bounce.Failure{Reason: bounce.ReasonUndefined}}
	now := queued
	var plan []PlannedAttempt
	var sent bool
	for range retryMaxPlanned {
		d := p.Decide(in, now)
		delayed := d.DelayedDSNDue && !sent
		sent = sent || delayed
		plan = append(plan, PlannedAttempt{At: now, DelayedDSN: delayed, GiveUp: d.GiveUp})
		if !d.Retry {
			break
		}
		in.Attempt = retryIncrement(d.Attempts)
		now = d.NextAttempt
	}
	return plan
}

// retryEarlier returns the earlier of a and b.
func retryEarlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// retryIncrement returns n+1, or n at the largest int64.
func retryIncrement(n int64) int64 {
	if n == math.MaxInt64 {
		return n
	}
	return n + 1
}

// effective returns p with its zero fields set to DefaultPolicy's values
// and the features turned off with a negative value set to zero, which is
// "off" inside Decide.
func (p RetryPolicy) effective() RetryPolicy {
	p.MaxAge = retryOrDefault(p.MaxAge, retryDefaultMaxAge)
	p.DelayedDSNAfterAge = retryOrDefault(p.DelayedDSNAfterAge, retryDefaultDelayedDSNAge)
	p.GreylistRetry = retryOrDefault(p.GreylistRetry, retryDefaultGreylist)
	switch {
	case p.Jitter == 0:
		p.Jitter = retryDefaultJitter
	case p.Jitter < 0:
		p.Jitter = 0
	}
	if p.Initial == 0 {
		p.Initial = retryDefaultInitial
	}
	if p.Factor == 0 {
		p.Factor = retryDefaultFactor
	}
	if p.Cap == 0 {
		p.Cap = retryDefaultCap
	}
	return p
}

// retryOrDefault returns def for a zero d, zero (off) for a negative d,
// and d otherwise.
func retryOrDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// delay returns the scheduled delay after failed attempt n (from 1), before
// jitter. p must be effective.
func (p RetryPolicy) delay(n int64) time.Duration {
	if len(p.Schedule) > 0 {
		i := min(max(n-1, 0), int64(len(p.Schedule)-1))
		return p.Schedule[i]
	}
	d := float64(p.Initial) * math.Pow(p.Factor, float64(n-1))
	if !(d < float64(p.Cap)) { // Also NaN.
		return p.Cap
	}
	return time.Duration(d)
}

// steady reports whether every delay after failed attempt n equals delay(n).
func (p RetryPolicy) steady(n int64) bool {
	if len(p.Schedule) > 0 {
		return n >= int64(len(p.Schedule))
	}
	return p.Factor == 1 || p.delay(n) >= p.Cap
}

// lastAttempt returns the time of the last attempt if attempt k (from 1),
// at t, and all later attempts fail, each delay taken at its longest jitter.
func (p RetryPolicy) lastAttempt(t time.Time, k, limit int64, deadline time.Time, jitter float64) time.Time {
	for range retryMaxSteps {
		if limit > 0 && k >= limit {
			return t
		}
		d := retryScale(p.delay(k), 1+jitter)
		if d <= 0 {
			return t // Invalid policy; do not loop.
		}
		if p.steady(k) {
			return retryRepeat(t, d, k, limit, deadline)
		}
		next := t.Add(d)
		if !deadline.IsZero() && next.After(deadline) {
			return t
		}
		t = next
		k = retryIncrement(k)
	}
	// Too many steps: an upper bound, the deadline or the remaining attempts
	// at the longest delay.
	if !deadline.IsZero() {
		return deadline
	}
	longest := p.Cap
	if len(p.Schedule) > 0 {
		longest = 0
		for _, d := range p.Schedule {
			longest = max(longest, d)
		}
	}
	if d := retryScale(longest, 1+jitter); d > 0 {
		return retryRepeat(t, d, k, limit, deadline)
	}
	return t
}

// retryRepeat returns the last of the attempts after attempt k at t made
// every d, until the limit or the deadline.
func retryRepeat(t time.Time, d time.Duration, k, limit int64, deadline time.Time) time.Time {
	n := int64(math.MaxInt64 / d)
	if limit > 0 {
		n = min(n, max(limit-k, 0))
	}
	if !deadline.IsZero() {
		n = min(n, max(int64(deadline.Sub(t)/d), 0))
	}
	return t.Add(d * time.Duration(n))
}

// retryScale returns d times f, saturated at the longest Duration, and 0
// for a negative or undefined product.
func retryScale(d time.Duration, f float64) time.Duration {
	x := float64(d) * f
	switch {
	case !(x > 0):
		return 0
	case x >= math.MaxInt64:
		return math.MaxInt64
	}
	return time.Duration(x)
}

// greylisting reports whether f is a greylisting reply, see Decide.
func greylisting(f bounce.Failure) bool {
	if f.Permanent {
		return false
	}
	if f.Detail != "" {
		return f.Detail == bounce.DetailGreylisted
	}
	return isGreylisting(f.Permanent, f.Code, f.EnhancedCode, f.Reason, f.Lines...)
}

// greylistedBefore reports whether the result of one of the first
// attempts delivery attempts (DSN results do not count) was a greylisting
// reply, for RetryInput.GreylistedBefore. Counting only the earlier
// attempts makes the answer the same whether or not the caller already
// appended the result of the attempt being decided.
func greylistedBefore(results []MsgResult, attempts int64) bool {
	var n int64
	for _, r := range results {
		if r.DSN {
			continue
		}
		if n >= attempts {
			break
		}
		n++
		if !r.Success && isGreylisting(r.Permanent, r.Code, r.failure().EnhancedCode, r.Reason, r.Error) {
			return true
		}
	}
	return false
}

func isGreylisting(permanent bool, code int, enhanced bounce.EnhancedCode, reason bounce.Reason, text ...string) bool {
	if permanent || !(code >= 400 && code < 500 || enhanced.Temporary()) {
		return false
	}
	for _, s := range text {
		for _, w := range []string{"greylist", "graylist", "grey-list", "gray-list", "grey list", "gray list"} {
			if containsFoldASCII(s, w) {
				return true
			}
		}
	}
	if reason == bounce.ReasonSpeeding || reason == bounce.ReasonTooManyConn {
		return false
	}
	switch {
	case enhanced == bounce.EnhancedCode{4, 2, 0}, enhanced == bounce.EnhancedCode{4, 7, 0}, enhanced == bounce.EnhancedCode{4, 7, 1}:
	case enhanced.IsZero() && (code == 450 || code == 451):
	default:
		return false
	}
	for _, s := range text {
		if containsFoldASCII(s, "try again later") || containsFoldASCII(s, "come back later") {
			return true
		}
	}
	return false
}

// containsFoldASCII reports whether s contains lower, which is lower case
// ASCII, ignoring ASCII case in s. It does not allocate.
func containsFoldASCII(s, lower string) bool {
	n := len(lower)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
