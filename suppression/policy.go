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

	// Code is the SMTP reply code, 0 when there was no reply.
	Code int

	// EnhancedCode is the RFC 3463 status code, e.g. "5.1.1"; may be empty.
	EnhancedCode string

	// Reason is a reason name of sisimai's taxonomy, the string value of
	// queue.Reason: "userunknown", "blocked", "feedback", ... Empty or
	// "undefined" makes Decide look at the codes instead.
	Reason string
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
	DefaultSoftFailures = 3                   // Consecutive failed messages, like mox.
	DefaultSoftExpiry   = 30 * 24 * time.Hour // Like Postal.
)

// Policy decides whether a failure suppresses its recipient. The zero Policy
// is the documented default: hard bounces and complaints suppress at once
// and forever, DefaultSoftFailures consecutive failed messages suppress for
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

	// ComplaintExpiry is how long a complaint suppression lasts. 0 or
	// negative means never.
	ComplaintExpiry time.Duration

	// IgnoreComplaints turns off suppression on feedback reports.
	IgnoreComplaints bool

	// HardReasons are the reasons that, with a permanent failure, suppress at
	// once. Nil means DefaultHardReasons().
	HardReasons []string

	// ExemptReasons are the reasons that never suppress and do not count
	// toward SoftFailures: the failure is about the sender or the message,
	// not the recipient. Nil means DefaultExemptReasons().
	ExemptReasons []string
}

// DefaultHardReasons returns the reasons that mean the address is gone.
func DefaultHardReasons() []string {
	return []string{
		"userunknown", // 5.1.1: no such mailbox.
		"hostunknown", // 5.1.2: no such domain, NXDOMAIN.
		"hasmoved",    // 5.1.6: the mailbox moved and left no forward.
		"notaccept",   // 521/556, 5.1.10: the domain accepts no mail (RFC 7504, RFC 7505 null MX).
		"suspend",     // 5.2.1: the mailbox is disabled.
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
	kindCounts kind = iota // Counts toward SoftFailures.
	kindHard               // Suppress at once.
	kindExempt             // Never suppresses, neither counts nor resets.
)

func (p Policy) kind(f Failure) kind {
	reason := strings.ToLower(f.Reason)
	if reason == "" || reason == "undefined" {
		reason = reasonFromCodes(f)
	}
	if slices.Contains(p.exemptReasons(), reason) {
		return kindExempt
	}
	if f.Permanent && slices.Contains(p.hardReasons(), reason) {
		return kindHard
	}
	return kindCounts
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

func (p Policy) hardReasons() []string {
	if p.HardReasons == nil {
		return DefaultHardReasons()
	}
	return p.HardReasons
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
// suppresses. A permanent failure with a hard reason suppresses with
// CategoryHardBounce. Otherwise the failure counts, and the recipient is
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
