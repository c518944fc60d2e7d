package suppression

import (
	"fmt"
	"slices"
	"strings"
	"time"
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

// Failure is a classified delivery failure as plain values, so this package
// needs nothing from package queue. The queue fills it from queue.Failure.
type Failure struct {
	// Permanent is true for failures retrying cannot fix (5xx replies,
	// nonexistent domains).
	Permanent bool

	// Code is the SMTP reply code, 0 when there was no reply: a DNS answer,
	// a failed connection or TLS handshake, or a DSN whose Diagnostic-Code
	// carries no SMTP reply. See NoReply.
	Code int

	// EnhancedCode is the RFC 3463 status code, e.g. "5.1.1"; may be empty.
	EnhancedCode string

	// Reason is a reason name of sisimai's taxonomy, the string value of
	// queue.Reason: "userunknown", "blocked", "feedback", ... Empty or
	// "undefined" makes Decide look at the codes instead.
	Reason string
}

// reason returns the lowercased reason, or the reason the codes name when
// the classifier gave none.
func (f Failure) reason() string {
	reason := strings.ToLower(f.Reason)
	if reason == "" || reason == "undefined" {
		reason = reasonFromCodes(f)
	}
	return reason
}

// HardBounce reports whether f says the address will never work. It is the
// one hard-bounce definition of bouncekit: queue.Failure.HardBounce calls it,
// and the zero Policy suppresses on it. A hard bounce is a permanent failure
// with reason userunknown (5.1.1), hostunknown (5.1.2, NXDOMAIN), hasmoved
// (5.1.6), or notaccept (521/556 of RFC 7504, the null MX of RFC 7505) unless
// its reply code, or its enhanced code when there is no reply code, has the
// temporary class 4. These are the reasons sisimai calls hard bounces.
//
// suspend (5.2.1 mailbox disabled, 5.7.13 account disabled) is not a hard
// bounce: mailboxes are disabled for unpaid bills, inactivity or abuse locks
// and are enabled again, and sisimai calls it a soft bounce. It counts toward
// Policy.SoftFailures. mox suppresses on 5.2.1 at once; a Policy with
// HardReasons including "suspend" does too.
//
// Whether the entry a hard bounce makes lasts forever is a separate
// question: see NoReply and Policy.NoReplyExpiry.
func (f Failure) HardBounce() bool {
	if !f.Permanent {
		return false
	}
	switch f.reason() {
	case "userunknown", "hostunknown", "hasmoved":
		return true
	case "notaccept":
		// A receiver may say "not now" about accepting mail (421 4.3.2).
		if f.Code != 0 {
			return f.Code/100 == 5
		}
		if f.EnhancedCode != "" {
			return f.EnhancedCode[0] == '5'
		}
		// No code at all: a bounce that only says the domain takes no mail.
		return true
	}
	return false
}

// NoReply reports whether f carried no SMTP reply (Code 0): the failure is
// a DNS answer (NXDOMAIN, no address records), a connection failure, or a
// report that gives no reply of the recipient's server. A DNS answer is a
// fact about a moment, which a provider outage or a domain registered
// tomorrow turns around, so a hard bounce without a reply suppresses only
// for Policy.NoReplyExpiry, unless it is a null MX (see NullMX).
func (f Failure) NoReply() bool {
	return f.Code == 0
}

// NullMX reports whether f is the recipient domain's null MX (RFC 7505
// section 3): reason notaccept with enhanced status X.1.10 (RFC 7505 section
// 4.2). The domain itself publishes that it accepts no mail, so its hard
// bounce suppresses like one with a reply, also when no SMTP reply was
// involved. A host whose own MX lookup finds a null MX reports it with
// status 5.1.10.
func (f Failure) NullMX() bool {
	if f.reason() != "notaccept" {
		return false
	}
	_, detail, _ := strings.Cut(f.EnhancedCode, ".")
	return detail == "1.10"
}

// String formats the failure for a Decision's reason text.
func (f Failure) String() string {
	var parts []string
	if f.Reason != "" {
		parts = append(parts, f.Reason)
	}
	var codes []string
	if f.Code != 0 {
		codes = append(codes, fmt.Sprint(f.Code))
	}
	if f.EnhancedCode != "" {
		codes = append(codes, f.EnhancedCode)
	}
	if len(codes) > 0 {
		parts = append(parts, "("+strings.Join(codes, " ")+")")
	}
	if len(parts) == 0 {
		return "unclassified failure"
	}
	return strings.Join(parts, " ")
}

// Outcome is the final result of one earlier message to a recipient: it was
// delivered, or it failed for good (bounced or expired in the queue).
type Outcome struct {
	Time    time.Time
	Success bool
	Failure Failure // Zero when Success.
}

// Check is the input of Policy.Decide: one message to Recipient has just
// failed for good with Failure.
type Check struct {
	Account   string
	Recipient string
	Failure   Failure

	// History holds the outcomes of earlier messages to the same base
	// address, newest first, without the message that failed now. Decide
	// orders a copy by Time (newest first) when the times are set, so the
	// caller's order matters only for equal times. Only the first
	// Policy.SoftFailures-1 relevant outcomes are looked at.
	History []Outcome

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
// is the documented default: hard bounces (Failure.HardBounce) with an SMTP
// reply or a null MX and complaints suppress at once and forever, hard
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
	// (Failure.NoReply: NXDOMAIN, no address records, a relay's report of
	// its own DNS lookup) suppresses, or HardExpiry when that is set and
	// shorter. A null MX (Failure.NullMX) is not limited by it. 0 means
	// DefaultNoReplyExpiry (7 days); negative means such a failure does not
	// suppress at once and counts toward SoftFailures instead.
	NoReplyExpiry time.Duration

	// ComplaintExpiry is how long a complaint suppression lasts. 0 or
	// negative means never.
	ComplaintExpiry time.Duration

	// IgnoreComplaints turns off suppression on feedback reports.
	IgnoreComplaints bool

	// HardReasons are the reasons that, with a permanent failure, suppress at
	// once. Nil means Failure.HardBounce, which takes DefaultHardReasons()
	// and also requires a notaccept failure not to have a temporary code.
	// NoReplyExpiry applies to either.
	HardReasons []string

	// ExemptReasons are the reasons that never suppress and do not count
	// toward SoftFailures: the failure is about the sender or the message,
	// not the recipient. Nil means DefaultExemptReasons().
	ExemptReasons []string
}

// DefaultHardReasons returns the reasons that mean the address is gone,
// the reasons Failure.HardBounce accepts. suspend is not one; see
// Failure.HardBounce.
func DefaultHardReasons() []string {
	return []string{
		"userunknown", // 5.1.1: no such mailbox.
		"hostunknown", // 5.1.2: no such domain, NXDOMAIN.
		"hasmoved",    // 5.1.6: the mailbox moved and left no forward.
		"notaccept",   // 521/556, 5.1.10: the domain accepts no mail (RFC 7504, RFC 7505 null MX).
	}
}

// DefaultExemptReasons returns the reasons that say "not from you" or "not
// this message" rather than "not this address". Suppressing the recipient for
// them would punish the recipient for the sender's reputation.
func DefaultExemptReasons() []string {
	return []string{
		"authfailure", "badreputation", "blocked", "contenterror", "delivered",
		"exceedlimit", "failedstarttls", "feedback", "filtered", "mesgtoobig",
		"norelaying", "notcompliantrfc", "onhold", "policyviolation", "rejected",
		"requireptr", "securityerror", "spamdetected", "speeding", "suppressed",
		"syntaxerror", "toomanyconn", "vacation", "virusdetected",
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

func (p Policy) kind(f Failure) kind {
	reason := f.reason()
	if slices.Contains(p.exemptReasons(), reason) {
		return kindExempt
	}
	var hard bool
	if p.HardReasons == nil {
		hard = f.HardBounce()
	} else {
		hard = f.Permanent && slices.Contains(p.HardReasons, reason)
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

// reasonFromCodes guesses a reason when the classifier gave none. Only the
// codes that name the address itself or a policy block are used.
func reasonFromCodes(f Failure) string {
	// RFC 3463: the subject and detail, without the class.
	_, detail, _ := strings.Cut(f.EnhancedCode, ".")
	switch {
	case detail == "1.1": // Bad destination mailbox address.
		return "userunknown"
	case detail == "1.2": // Bad destination system address.
		return "hostunknown"
	case detail == "1.6": // Destination mailbox has moved, no forwarding address.
		return "hasmoved"
	case detail == "1.10": // RFC 7505: recipient domain has a null MX.
		return "notaccept"
	case detail == "2.1": // Mailbox disabled, not accepting messages.
		return "suspend"
	case strings.HasPrefix(detail, "7."): // Security or policy status.
		return "policyviolation"
	}
	switch f.Code {
	case 521, 556: // RFC 7504: host or domain does not accept mail.
		return "notaccept"
	}
	return ""
}

func (p Policy) exemptReasons() []string {
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
// In order: a complaint (reason "feedback" or Source SourceARF) suppresses
// with CategoryComplaint unless IgnoreComplaints. An exempt reason never
// suppresses. A hard bounce (Failure.HardBounce, or a permanent failure with
// one of HardReasons when set) suppresses with CategoryHardBounce: for
// HardExpiry when it carried an SMTP reply or is a null MX, else for
// NoReplyExpiry (when that is negative, it counts as below). Otherwise the failure counts, and the recipient is
// soft suppressed when it and the SoftFailures-1 newest counting outcomes of
// History are all failures; a success in between resets the count, exempt
// failures are skipped.
func (p Policy) Decide(c Check) Decision {
	f := c.Failure
	if strings.EqualFold(f.Reason, "feedback") || c.Source == SourceARF {
		if p.IgnoreComplaints {
			return Decision{}
		}
		d := Decision{Suppress: true, Category: CategoryComplaint, Reason: "complaint: the recipient reported a message as spam"}
		d.ExpiresAt = expiry(c.Now, p.ComplaintExpiry)
		return d
	}

	switch p.kind(f) {
	case kindExempt:
		return Decision{}
	case kindHard:
		d := Decision{Suppress: true, Category: CategoryHardBounce, Reason: "hard bounce: " + f.String()}
		d.ExpiresAt = expiry(c.Now, p.HardExpiry)
		return d
	case kindHardBrief:
		d := Decision{Suppress: true, Category: CategoryHardBounce, Reason: "hard bounce without an SMTP reply: " + f.String()}
		d.ExpiresAt = expiry(c.Now, p.noReplyExpiry())
		return d
	}

	need := p.softFailures()
	if need < 0 {
		return Decision{}
	}
	history := slices.Clone(c.History)
	slices.SortStableFunc(history, func(a, b Outcome) int { return b.Time.Compare(a.Time) })
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
	d := Decision{Suppress: true, Category: CategorySoftBounce, Reason: fmt.Sprintf("soft bounce: %d consecutive failed messages, last: %s", failed, f)}
	d.ExpiresAt = expiry(c.Now, p.softExpiry())
	return d
}
