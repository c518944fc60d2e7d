package suppression

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
)

// Category says why an address is suppressed. It decides how long the entry
// lives and whether a later success removes it.
type Category string

// The categories.
const (
	CategoryHardBounce Category = "hardbounce" // The address is gone: unknown user, unknown domain, disabled mailbox.
	CategorySoftBounce Category = "softbounce" // Several messages in a row failed; expires by default.
	CategoryComplaint  Category = "complaint"  // The recipient reported a message as spam (ARF, RFC 5965).
	CategoryManual     Category = "manual"     // Added by an operator or through an API.
	CategoryImport     Category = "import"     // Imported from another system's list.
)

// Categories lists every Category.
func Categories() []Category {
	return []Category{CategoryHardBounce, CategorySoftBounce, CategoryComplaint, CategoryManual, CategoryImport}
}

// Source says where the information that caused an entry came from.
type Source string

// The sources.
const (
	SourceQueue  Source = "queue"  // A failed delivery attempt of our own queue.
	SourceDSN    Source = "dsn"    // An incoming delivery status notification (RFC 3464).
	SourceARF    Source = "arf"    // An incoming abuse/feedback report (RFC 5965).
	SourceAPI    Source = "api"    // An operator or application.
	SourceImport Source = "import" // A CSV import.
)

// Sources lists every Source.
func Sources() []Source {
	return []Source{SourceQueue, SourceDSN, SourceARF, SourceAPI, SourceImport}
}

// describe formats a failure for a Decision's reason text, e.g.
// "userunknown (550 5.1.1)".
func describe(f bounce.Failure) string {
	var parts []string
	if f.Reason != "" {
		parts = append(parts, string(f.Reason))
	}
	var codes []string
	if f.Code != 0 {
		codes = append(codes, fmt.Sprint(f.Code))
	}
	if !f.EnhancedCode.IsZero() {
		codes = append(codes, f.EnhancedCode.String())
	}
	if len(codes) > 0 {
		parts = append(parts, "("+strings.Join(codes, " ")+")")
	}
	if len(parts) == 0 {
		return "unclassified failure"
	}
	return strings.Join(parts, " ")
}

// Prior is the final result of one earlier message to a recipient: it was
// delivered, or it failed for good (bounced or expired in the queue). The
// name keeps it apart from the queue's and the webhook's Outcome, which
// report what a call did now.
type Prior struct {
	Time    time.Time
	Success bool
	Failure bounce.Failure // Zero when Success.
}

// Check is the input of Policy.Decide: one message to Recipient has just
// failed for good with Failure.
type Check struct {
	Account   string
	Recipient string
	Failure   bounce.Failure

	// History holds the outcomes of earlier messages to the same base
	// address, newest first, without the message that failed now. Decide
	// orders a copy by Time (newest first) when the times are set, so the
	// caller's order matters only for equal times. Only the first
	// Policy.SoftFailures-1 relevant outcomes are looked at.
	History []Prior

	// Source is where the failure was learned; empty means SourceQueue.
	Source Source

	// Now is the time of the decision; expiry is computed from it.
	Now time.Time
}

// Decision is the result of Policy.Decide.
type Decision struct {
	Suppress  bool
	Category  Category
	Reason    string    // For people, e.g. "hard bounce: userunknown (550 5.1.1)".
	ExpiresAt time.Time // Zero: the entry never expires.
}

// Defaults of Policy's zero fields.
const (
	DefaultSoftFailures  = 3                   // Consecutive failed messages, like mox.
	DefaultSoftExpiry    = 30 * 24 * time.Hour // Like Postal.
	DefaultNoReplyExpiry = 7 * 24 * time.Hour  // A week of DNS answers, not forever.
)

// Policy decides whether a failure suppresses its recipient. The zero Policy
// is the documented default: hard bounces (bounce.Failure.HardBounce) with
// an SMTP reply or a null MX and complaints suppress at once and forever, hard
// bounces without a reply (a DNS answer) for DefaultNoReplyExpiry,
// DefaultSoftFailures consecutive failed messages suppress for
// DefaultSoftExpiry, reputation and policy blocks never suppress.
type Policy struct {
	// SoftFailures is the number of consecutive failed messages (counting
	// the one that failed now) after which the recipient is soft
	// suppressed. 0 means DefaultSoftFailures; negative turns soft
	// suppression off.
	SoftFailures int

	// SoftExpiry is how long a soft suppression lasts. 0 means
	// DefaultSoftExpiry; negative means never expire.
	SoftExpiry time.Duration

	// HardExpiry is how long a hard-bounce suppression lasts. 0 or negative
	// means never.
	HardExpiry time.Duration

	// NoReplyExpiry is how long a hard bounce that carried no SMTP reply
	// (bounce.Failure.NoReply: NXDOMAIN, no address records, a relay's
	// report of its own DNS lookup) suppresses, or HardExpiry when that is
	// set and shorter. A null MX (bounce.Failure.NullMX) is not limited by
	// it. 0 means
	// DefaultNoReplyExpiry (7 days); negative means such a failure does not
	// suppress at once and counts toward SoftFailures instead.
	NoReplyExpiry time.Duration

	// ComplaintExpiry is how long a complaint suppression lasts. 0 or
	// negative means never.
	ComplaintExpiry time.Duration

	// IgnoreComplaints turns off suppression on feedback reports.
	IgnoreComplaints bool

	// HardReasons are the reasons that, with a permanent failure, suppress at
	// once. Nil means bounce.Failure.HardBounce, the one hard-bounce
	// definition, which takes DefaultHardReasons() and also requires a
	// notaccept failure not to have a temporary code. NoReplyExpiry applies
	// to either. mox suppresses on a disabled mailbox at once; HardReasons
	// with bounce.ReasonSuspend added does too.
	HardReasons []bounce.Reason

	// ExemptReasons are the reasons that never suppress and do not count
	// toward SoftFailures: the failure is about the sender or the message,
	// not the recipient. Nil means DefaultExemptReasons().
	ExemptReasons []bounce.Reason
}

// DefaultHardReasons returns the reasons that mean the address is gone:
// bounce.HardReasons, the reasons bounce.Failure.HardBounce accepts. suspend
// is not one; see bounce.Failure.HardBounce.
func DefaultHardReasons() []bounce.Reason {
	return bounce.HardReasons()
}

// DefaultExemptReasons returns the reasons that say "not from you" or "not
// this message" rather than "not this address". Suppressing the recipient for
// them would punish the recipient for the sender's reputation.
func DefaultExemptReasons() []bounce.Reason {
	return []bounce.Reason{
		bounce.ReasonAuthFailure, bounce.ReasonBadReputation, bounce.ReasonBlocked, bounce.ReasonContentError,
		bounce.ReasonDelivered, bounce.ReasonExceedLimit, bounce.ReasonFailedSTARTTLS, bounce.ReasonFeedback,
		bounce.ReasonFiltered, bounce.ReasonMesgTooBig, bounce.ReasonNoRelaying, bounce.ReasonNotCompliantRFC,
		bounce.ReasonOnHold, bounce.ReasonPolicyViolation, bounce.ReasonRejected, bounce.ReasonRequirePTR,
		bounce.ReasonSecurityError, bounce.ReasonSpamDetected, bounce.ReasonSpeeding, bounce.ReasonSuppressed,
		bounce.ReasonSyntaxError, bounce.ReasonTooManyConn, bounce.ReasonVacation, bounce.ReasonVirusDetected,
	}
}

// kind is how Decide treats one failure.
type kind int

const (
	kindCounts    kind = iota // Counts toward SoftFailures.
	kindHard                  // Suppress at once, for HardExpiry.
	kindHardBrief             // Suppress at once, for NoReplyExpiry: a hard bounce without a reply.
	kindExempt                // Never suppresses, neither counts nor resets.
)

func (p Policy) kind(f bounce.Failure) kind {
	reason := f.EffectiveReason()
	if slices.Contains(p.exemptReasons(), reason) {
		return kindExempt
	}
	var hard bool
	if p.HardReasons == nil {
		hard = f.HardBounce()
	} else {
		// As HardBounce: a reply about our side (greeting, EHLO, STARTTLS,
		// AUTH, MAIL FROM) is never a hard bounce of the recipient.
		hard = f.Permanent && !f.Stage.AboutSender() && slices.Contains(p.HardReasons, reason)
	}
	switch {
	case !hard:
		return kindCounts
	case !f.NoReply() || f.NullMX():
		return kindHard
	case p.NoReplyExpiry < 0:
		return kindCounts
	}
	return kindHardBrief
}

func (p Policy) exemptReasons() []bounce.Reason {
	if p.ExemptReasons == nil {
		return DefaultExemptReasons()
	}
	return p.ExemptReasons
}

func (p Policy) softFailures() int {
	if p.SoftFailures == 0 {
		return DefaultSoftFailures
	}
	return p.SoftFailures
}

// noReplyExpiry is the lifetime of a hard bounce without a reply: never
// longer than a hard bounce's.
func (p Policy) noReplyExpiry() time.Duration {
	d := p.NoReplyExpiry
	if d == 0 {
		d = DefaultNoReplyExpiry
	}
	if p.HardExpiry > 0 && p.HardExpiry < d {
		d = p.HardExpiry
	}
	return d
}

func (p Policy) softExpiry() time.Duration {
	if p.SoftExpiry == 0 {
		return DefaultSoftExpiry
	}
	return p.SoftExpiry
}

// expiry returns the expiry time for a lifetime d; d <= 0 is forever (zero).
func expiry(now time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return now.Add(d)
}

// Decide says whether the failure in c suppresses its recipient. It is a pure
// function of p and c.
//
// In order: a complaint (reason feedback or Source SourceARF) suppresses
// with CategoryComplaint unless IgnoreComplaints. An exempt reason never
// suppresses; a failure is judged by bounce.Failure.EffectiveReason, so one
// without a reason is judged by its codes. A hard bounce
// (bounce.Failure.HardBounce, or a permanent failure with one of
// HardReasons when set) suppresses with CategoryHardBounce: for HardExpiry
// when it carried an SMTP reply or is a null MX, else for NoReplyExpiry
// (when that is negative, it counts as below). Otherwise the failure
// counts, and the recipient is soft suppressed when it and the SoftFailures-1 newest counting outcomes of
// History are all failures; a success in between resets the count, exempt
// failures are skipped.
func (p Policy) Decide(c Check) Decision {
	if d, ok := p.decideAlone(c); ok {
		return d
	}
	need := p.softFailures()
	history := slices.Clone(c.History)
	slices.SortStableFunc(history, func(a, b Prior) int { return b.Time.Compare(a.Time) })
	failed := 1 // The message that failed now.
	for _, o := range history {
		if failed >= need {
			break
		}
		if o.Success {
			break
		}
		if p.kind(o.Failure) == kindExempt {
			continue
		}
		failed++
	}
	if failed < need {
		return Decision{}
	}
	d := Decision{Suppress: true, Category: CategorySoftBounce, Reason: fmt.Sprintf("soft bounce: %d consecutive failed messages, last: %s", failed, describe(c.Failure))}
	d.ExpiresAt = expiry(c.Now, p.softExpiry())
	return d
}

// UsesHistory reports whether Decide reads c.History for c: only a failure
// that counts toward SoftFailures (greater than one) does. A caller that
// reads the history from its database can leave it out otherwise; a hard
// bounce, a complaint or an exempt failure is decided on itself.
func (p Policy) UsesHistory(c Check) bool {
	_, ok := p.decideAlone(c)
	return !ok && p.softFailures() > 1
}

// decideAlone returns Decide's decision and true when it does not depend on
// c.History: a complaint, an exempt reason, a hard bounce, or soft
// suppression turned off.
func (p Policy) decideAlone(c Check) (Decision, bool) {
	f := c.Failure
	if f.EffectiveReason() == bounce.ReasonFeedback || c.Source == SourceARF {
		if p.IgnoreComplaints {
			return Decision{}, true
		}
		d := Decision{Suppress: true, Category: CategoryComplaint, Reason: "complaint: the recipient reported a message as spam"}
		d.ExpiresAt = expiry(c.Now, p.ComplaintExpiry)
		return d, true
	}

	switch p.kind(f) {
	case kindExempt:
		return Decision{}, true
	case kindHard:
		d := Decision{Suppress: true, Category: CategoryHardBounce, Reason: "hard bounce: " + describe(f)}
		d.ExpiresAt = expiry(c.Now, p.HardExpiry)
		return d, true
	case kindHardBrief:
		d := Decision{Suppress: true, Category: CategoryHardBounce, Reason: "hard bounce without an SMTP reply: " + describe(f)}
		d.ExpiresAt = expiry(c.Now, p.noReplyExpiry())
		return d, true
	}
	if p.softFailures() < 0 {
		return Decision{}, true
	}
	return Decision{}, false
}
