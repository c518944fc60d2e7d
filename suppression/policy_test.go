package suppression

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
)

func TestDecide(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	never := time.Time{}

	userUnknown := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: "userunknown"}
	mailboxFull := bounce.Failure{Permanent: false, Code: 452, EnhancedCode: bounce.EnhancedCode{4, 2, 2}, Reason: "mailboxfull"}
	expired := bounce.Failure{Reason: "expired"}
	nxdomain := bounce.Failure{Permanent: true, Reason: "hostunknown"}
	suspended := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 2, 1}, Reason: "suspend"}
	// Gmail's reputation rejections, as classified by bounce.Classify.
	gmailBlocked := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Reason: "blocked"}
	gmailRate := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Reason: "spamdetected"}
	atMail, atRcpt := userUnknown, userUnknown
	atMail.Stage, atRcpt.Stage = bounce.StageMail, bounce.StageRcpt
	failed := func(f bounce.Failure, ago time.Duration) Prior { return Prior{Time: now.Add(-ago), Failure: f} }
	success := func(ago time.Duration) Prior { return Prior{Time: now.Add(-ago), Success: true} }

	tests := []struct {
		name     string
		policy   Policy
		failure  bounce.Failure
		source   Source
		history  []Prior
		suppress bool
		category Category
		expires  time.Time
	}{
		{name: "user unknown", failure: userUnknown, suppress: true, category: CategoryHardBounce, expires: never},
		// A DNS answer without an SMTP reply: a week, not forever (issue 12).
		{name: "host unknown nxdomain", failure: nxdomain, suppress: true, category: CategoryHardBounce, expires: now.Add(7 * day)},
		{name: "nxdomain, shorter hard expiry wins", policy: Policy{HardExpiry: 3 * day}, failure: nxdomain, suppress: true, category: CategoryHardBounce, expires: now.Add(3 * day)},
		{name: "nxdomain, longer hard expiry", policy: Policy{HardExpiry: 90 * day}, failure: nxdomain, suppress: true, category: CategoryHardBounce, expires: now.Add(7 * day)},
		{name: "nxdomain, no-reply expiry configured", policy: Policy{NoReplyExpiry: day}, failure: nxdomain, suppress: true, category: CategoryHardBounce, expires: now.Add(day)},
		{name: "nxdomain, no-reply off: first counts only", policy: Policy{NoReplyExpiry: -1}, failure: nxdomain, suppress: false},
		{name: "nxdomain, no-reply off: third is soft", policy: Policy{NoReplyExpiry: -1}, failure: nxdomain, history: []Prior{failed(nxdomain, day), failed(expired, 2*day)},
			suppress: true, category: CategorySoftBounce, expires: now.Add(30 * day)},
		{name: "nxdomain, custom hard reasons", policy: Policy{HardReasons: []bounce.Reason{"hostunknown"}}, failure: nxdomain, suppress: true, category: CategoryHardBounce, expires: now.Add(7 * day)},
		{name: "relay dns 5.4.4 in a dsn", failure: bounce.Failure{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 4, 4}, Reason: "hostunknown"}, source: SourceDSN, suppress: true, category: CategoryHardBounce, expires: now.Add(7 * day)},
		{name: "host unknown in a reply", failure: bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 2}, Reason: "hostunknown"}, suppress: true, category: CategoryHardBounce, expires: never},
		{name: "user unknown without smtp code", failure: bounce.Failure{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: "userunknown"}, source: SourceDSN, suppress: true, category: CategoryHardBounce, expires: now.Add(7 * day)},
		{name: "notaccept text without codes", failure: bounce.Failure{Permanent: true, Reason: "notaccept"}, suppress: true, category: CategoryHardBounce, expires: now.Add(7 * day)},
		{name: "null mx without reply", failure: bounce.Failure{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 1, 10}, Reason: "notaccept"}, suppress: true, category: CategoryHardBounce, expires: never},
		{name: "null mx by code only", failure: bounce.Failure{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 1, 10}}, suppress: true, category: CategoryHardBounce, expires: never},
		{name: "null mx with hard expiry", policy: Policy{HardExpiry: 90 * day, NoReplyExpiry: day}, failure: bounce.Failure{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 1, 10}, Reason: "notaccept"}, suppress: true, category: CategoryHardBounce, expires: now.Add(90 * day)},
		{name: "521 no mail", failure: bounce.Failure{Permanent: true, Code: 521, Reason: "notaccept"}, suppress: true, category: CategoryHardBounce, expires: never},
		{name: "notaccept with a temporary code counts only", failure: bounce.Failure{Permanent: true, Code: 421, EnhancedCode: bounce.EnhancedCode{4, 3, 2}, Reason: "notaccept"}, suppress: false},
		{name: "has moved", failure: bounce.Failure{Permanent: true, Code: 551, EnhancedCode: bounce.EnhancedCode{5, 1, 6}, Reason: "hasmoved"}, suppress: true, category: CategoryHardBounce},
		{name: "null mx", failure: bounce.Failure{Permanent: true, Code: 556, EnhancedCode: bounce.EnhancedCode{5, 1, 10}, Reason: "notaccept"}, suppress: true, category: CategoryHardBounce},
		// suspend is not a hard bounce (sisimai: soft); it counts (issue 12).
		{name: "mailbox disabled counts only", failure: suspended, suppress: false},
		{name: "mailbox disabled third time", failure: suspended, history: []Prior{failed(suspended, day), failed(suspended, 2*day)},
			suppress: true, category: CategorySoftBounce, expires: now.Add(30 * day)},
		{name: "mailbox disabled, configured hard", policy: Policy{HardReasons: []bounce.Reason{"suspend"}}, failure: suspended, suppress: true, category: CategoryHardBounce, expires: never},
		{name: "unclassified 5.1.1 by code", failure: bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}}, suppress: true, category: CategoryHardBounce},
		{name: "undefined reason 521 by code", failure: bounce.Failure{Permanent: true, Code: 521, Reason: "undefined"}, suppress: true, category: CategoryHardBounce},
		{name: "hard reason but temporary counts only", failure: bounce.Failure{Permanent: false, Code: 450, EnhancedCode: bounce.EnhancedCode{4, 1, 1}, Reason: "userunknown"}, suppress: false},
		{name: "hard bounce with configured expiry", policy: Policy{HardExpiry: 90 * day}, failure: userUnknown, suppress: true, category: CategoryHardBounce, expires: now.Add(90 * day)},
		{name: "hard reasons configurable", policy: Policy{HardReasons: []bounce.Reason{"hostunknown"}}, failure: userUnknown, suppress: false},
		// A reply about our side is never a hard bounce of the recipient,
		// with the default definition or a configured list.
		{name: "user unknown at MAIL FROM", failure: atMail, suppress: false},
		{name: "user unknown at MAIL FROM, custom hard reasons", policy: Policy{HardReasons: []bounce.Reason{"userunknown"}}, failure: atMail, suppress: false},
		{name: "user unknown at RCPT TO, custom hard reasons", policy: Policy{HardReasons: []bounce.Reason{"userunknown"}}, failure: atRcpt, suppress: true, category: CategoryHardBounce, expires: never},

		{name: "gmail 5.7.1 blocked using", failure: gmailBlocked, suppress: false},
		{name: "gmail 5.7.1 unusual rate of unsolicited mail", failure: gmailRate, suppress: false},
		{name: "gmail 5.7.1 unclassified", failure: bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 7, 1}}, suppress: false},
		{name: "gmail 5.7.1 after many blocks", failure: gmailBlocked, history: []Prior{failed(gmailBlocked, day), failed(gmailBlocked, 2*day), failed(gmailBlocked, 3*day)}, suppress: false},
		{name: "policy violation", failure: bounce.Failure{Permanent: true, Code: 554, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Reason: "policyviolation"}, suppress: false},
		{name: "bad reputation", failure: bounce.Failure{Permanent: true, Code: 554, Reason: "badreputation"}, suppress: false},
		{name: "too many connections", failure: bounce.Failure{Code: 421, Reason: "toomanyconn"}, suppress: false},
		{name: "speeding", failure: bounce.Failure{Code: 450, EnhancedCode: bounce.EnhancedCode{4, 2, 1}, Reason: "speeding"}, suppress: false},
		{name: "plain 550 without reason counts only", failure: bounce.Failure{Permanent: true, Code: 550}, suppress: false},

		{name: "complaint", failure: bounce.Failure{Reason: "feedback"}, source: SourceARF, suppress: true, category: CategoryComplaint},
		{name: "complaint by source", failure: bounce.Failure{}, source: SourceARF, suppress: true, category: CategoryComplaint},
		{name: "complaint by reason", failure: bounce.Failure{Reason: "feedback"}, source: SourceDSN, suppress: true, category: CategoryComplaint},
		{name: "complaint with expiry", policy: Policy{ComplaintExpiry: day}, failure: bounce.Failure{Reason: "feedback"}, suppress: true, category: CategoryComplaint, expires: now.Add(day)},
		{name: "complaints ignored", policy: Policy{IgnoreComplaints: true}, failure: bounce.Failure{Reason: "feedback"}, source: SourceARF, suppress: false},

		{name: "first soft failure", failure: mailboxFull, suppress: false},
		{name: "second soft failure", failure: mailboxFull, history: []Prior{failed(expired, day)}, suppress: false},
		{name: "third soft failure", failure: mailboxFull, history: []Prior{failed(expired, day), failed(mailboxFull, 2*day)},
			suppress: true, category: CategorySoftBounce, expires: now.Add(30 * day)},
		{name: "third soft failure, history unordered", failure: mailboxFull, history: []Prior{success(3 * day), failed(expired, day), failed(mailboxFull, 2*day)},
			suppress: true, category: CategorySoftBounce, expires: now.Add(30 * day)},
		{name: "success resets", failure: mailboxFull, history: []Prior{failed(expired, day), success(2 * day), failed(mailboxFull, 3*day)}, suppress: false},
		{name: "success resets, unordered", failure: mailboxFull, history: []Prior{failed(mailboxFull, 3*day), failed(expired, day), success(2 * day)}, suppress: false},
		{name: "reputation blocks skipped in history", failure: mailboxFull, history: []Prior{failed(gmailBlocked, day), failed(mailboxFull, 2*day), failed(gmailRate, 3*day), failed(expired, 4*day)},
			suppress: true, category: CategorySoftBounce, expires: now.Add(30 * day)},
		{name: "permanent non-hard failures count", failure: bounce.Failure{Permanent: true, Code: 550}, history: []Prior{failed(bounce.Failure{Permanent: true, Code: 550}, day), failed(mailboxFull, 2*day)},
			suppress: true, category: CategorySoftBounce, expires: now.Add(30 * day)},
		{name: "threshold configurable", policy: Policy{SoftFailures: 2, SoftExpiry: 7 * day}, failure: mailboxFull, history: []Prior{failed(expired, day)},
			suppress: true, category: CategorySoftBounce, expires: now.Add(7 * day)},
		{name: "threshold one", policy: Policy{SoftFailures: 1}, failure: expired, suppress: true, category: CategorySoftBounce, expires: now.Add(30 * day)},
		{name: "soft off", policy: Policy{SoftFailures: -1}, failure: mailboxFull, history: []Prior{failed(expired, day), failed(expired, 2*day)}, suppress: false},
		{name: "soft never expires", policy: Policy{SoftExpiry: -1}, failure: mailboxFull, history: []Prior{failed(expired, day), failed(expired, 2*day)},
			suppress: true, category: CategorySoftBounce, expires: never},
		{name: "exempt reasons configurable", policy: Policy{ExemptReasons: []bounce.Reason{}}, failure: gmailBlocked, history: []Prior{failed(gmailBlocked, day), failed(gmailBlocked, 2*day)},
			suppress: true, category: CategorySoftBounce, expires: now.Add(30 * day)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Check{Account: "acc", Recipient: "john@example.com", Failure: tc.failure, History: tc.history, Source: tc.source, Now: now}
			history := append([]Prior(nil), tc.history...)
			d := tc.policy.Decide(c)
			if d.Suppress != tc.suppress {
				t.Fatalf("suppress %v, expected %v (decision %+v)", d.Suppress, tc.suppress, d)
			}
			if !tc.suppress {
				if d != (Decision{}) {
					t.Fatalf("decision not to suppress is not zero: %+v", d)
				}
				return
			}
			if d.Category != tc.category {
				t.Fatalf("category %q, expected %q", d.Category, tc.category)
			}
			if !d.ExpiresAt.Equal(tc.expires) {
				t.Fatalf("expires %v, expected %v", d.ExpiresAt, tc.expires)
			}
			if d.Reason == "" {
				t.Fatalf("empty reason text")
			}
			for i := range history {
				if !reflect.DeepEqual(history[i], c.History[i]) {
					t.Fatalf("Decide modified the history")
				}
			}
		})
		// A decision UsesHistory says is made without the history must
		// come out the same whatever the history holds.
		t.Run(tc.name+", history unused", func(t *testing.T) {
			c := Check{Account: "acc", Recipient: "john@example.com", Failure: tc.failure, History: tc.history, Source: tc.source, Now: now}
			if tc.policy.UsesHistory(c) {
				return
			}
			want := tc.policy.Decide(c)
			for _, h := range [][]Prior{nil, {success(day)}, {failed(mailboxFull, day), failed(expired, 2*day), failed(mailboxFull, 3*day)}} {
				c.History = h
				if got := tc.policy.Decide(c); got != want {
					t.Fatalf("UsesHistory false, but with history %v the decision is %+v, not %+v", h, got, want)
				}
			}
		})
	}
}

// TestUsesHistory pins which failures need the recipient's history: only
// one that counts toward a soft suppression of more than one failure.
func TestUsesHistory(t *testing.T) {
	userUnknown := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: "userunknown"}
	mailboxFull := bounce.Failure{Code: 452, EnhancedCode: bounce.EnhancedCode{4, 2, 2}, Reason: "mailboxfull"}
	blocked := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Reason: "blocked"}
	nxdomain := bounce.Failure{Permanent: true, Reason: "hostunknown"}
	tests := []struct {
		name   string
		policy Policy
		c      Check
		want   bool
	}{
		{"hard bounce", Policy{}, Check{Failure: userUnknown}, false},
		{"hard bounce without reply", Policy{}, Check{Failure: nxdomain}, false},
		{"no-reply hard bounce counting", Policy{NoReplyExpiry: -1}, Check{Failure: nxdomain}, true},
		{"complaint", Policy{}, Check{Source: SourceARF}, false},
		{"exempt", Policy{}, Check{Failure: blocked}, false},
		{"soft failure", Policy{}, Check{Failure: mailboxFull}, true},
		{"soft failure, threshold one", Policy{SoftFailures: 1}, Check{Failure: mailboxFull}, false},
		{"soft failure, soft suppression off", Policy{SoftFailures: -1}, Check{Failure: mailboxFull}, false},
		{"hard bounce, not in hard reasons", Policy{HardReasons: []bounce.Reason{"hostunknown"}}, Check{Failure: userUnknown}, true},
	}
	for _, tc := range tests {
		if got := tc.policy.UsesHistory(tc.c); got != tc.want {
			t.Errorf("%s: UsesHistory %v, want %v", tc.name, got, tc.want)
		}
		s := Store{Policy: tc.policy}
		if got := s.UsesHistory(tc.c); got != tc.want {
			t.Errorf("%s: Store.UsesHistory %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDecideReasonText(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	d := Policy{}.Decide(Check{Failure: bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: "userunknown"}, Now: now})
	if got, exp := d.Reason, "hard bounce: userunknown (550 5.1.1)"; got != exp {
		t.Fatalf("reason %q, expected %q", got, exp)
	}
}

func TestDecideReasonTextNoReply(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	d := Policy{}.Decide(Check{Failure: bounce.Failure{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 4, 4}, Reason: "hostunknown"}, Now: now})
	if got, exp := d.Reason, "hard bounce without an SMTP reply: hostunknown (5.4.4)"; got != exp {
		t.Fatalf("reason %q, expected %q", got, exp)
	}
}

// TestDefaultHardReasons checks that DefaultHardReasons lists exactly the
// reasons HardBounce accepts, so a Policy with HardReasons set to it decides
// as the zero Policy for failures with a 5xx reply.
func TestDefaultHardReasons(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	explicit := Policy{HardReasons: DefaultHardReasons()}
	reasons := append(DefaultHardReasons(), "suspend", "mailboxfull", "blocked", "rejected", "expired", "undefined", "networkerror", "filtered")
	for _, r := range reasons {
		hardReason := slices.Contains(DefaultHardReasons(), r)
		for _, code := range []int{0, 550} {
			f := bounce.Failure{Permanent: true, Code: code, Reason: r}
			if got := f.HardBounce(); got != hardReason {
				t.Errorf("%s code %d: HardBounce %v, expected %v", r, code, got, hardReason)
			}
			c := Check{Failure: f, Now: now}
			if d, e := (Policy{}).Decide(c), explicit.Decide(c); d != e {
				t.Errorf("%s code %d: zero policy %+v, explicit default reasons %+v", r, code, d, e)
			}
		}
	}
}

// BenchmarkDecide measures the policy on a hard bounce with a reply, one
// without (NXDOMAIN) and a soft failure with a full history.
func BenchmarkDecide(b *testing.B) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	soft := bounce.Failure{Permanent: false, Code: 452, EnhancedCode: bounce.EnhancedCode{4, 2, 2}, Reason: "mailboxfull"}
	var history []Prior
	for i := 1; i <= 10; i++ {
		history = append(history, Prior{Time: now.Add(-time.Duration(i) * time.Hour), Failure: soft})
	}
	checks := []struct {
		name string
		c    Check
	}{
		{"reply", Check{Failure: bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: "userunknown"}, Now: now}},
		{"noreply", Check{Failure: bounce.Failure{Permanent: true, Reason: "hostunknown"}, Now: now}},
		{"soft", Check{Failure: soft, History: history, Now: now}},
	}
	for _, bc := range checks {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if d := (Policy{}).Decide(bc.c); !d.Suppress {
					b.Fatalf("not suppressed: %+v", d)
				}
			}
		})
	}
}
