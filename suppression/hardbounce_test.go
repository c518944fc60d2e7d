package suppression_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/suppression"
)

// TestHardBounceAgreesWithPolicy checks, for every reason
// (bounce.Reasons), permanent and temporary, with and without an SMTP reply
// and enhanced code, that bounce.Failure.HardBounce is what the zero
// suppression.Policy treats as a hard bounce, and that the entry lasts
// forever only with a reply or a null MX (issue 12). They are one
// definition (issue 16).
func TestHardBounceAgreesWithPolicy(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	brief := now.Add(suppression.DefaultNoReplyExpiry)
	if n := len(bounce.Reasons()); n != 36 {
		t.Fatalf("%d reasons, want sisimai's 36", n)
	}
	// Independent of the implementation: the reasons that are a hard bounce
	// when permanent.
	hardReasons := map[bounce.Reason]bool{bounce.ReasonUserUnknown: true, bounce.ReasonHostUnknown: true, bounce.ReasonHasMoved: true, bounce.ReasonNotAccept: true}

	for _, r := range bounce.Reasons() {
		for _, perm := range []bool{true, false} {
			class, code := 4, 450
			if perm {
				class, code = 5, 550
			}
			variants := []struct {
				name     string
				code     int
				enhanced bounce.EnhancedCode
				nullMX   bool // The enhanced code is X.1.10.
			}{
				{"reply", code, bounce.EnhancedCode{}, false},
				{"reply with status", code, bounce.EnhancedCode{class, 0, 0}, false},
				{"reply with null mx status", code, bounce.EnhancedCode{class, 1, 10}, true},
				{"no reply", 0, bounce.EnhancedCode{}, false},
				{"no reply, status", 0, bounce.EnhancedCode{class, 0, 0}, false},
				{"no reply, null mx status", 0, bounce.EnhancedCode{class, 1, 10}, true},
			}
			for _, v := range variants {
				name := fmt.Sprintf("%s/permanent=%v/%s", r, perm, v.name)
				f := bounce.Failure{Permanent: perm, Code: v.code, EnhancedCode: v.enhanced, Reason: r}

				// An undefined reason with X.1.10 is read as notaccept.
				wantHard := perm && (hardReasons[r] || r == bounce.ReasonUndefined && v.nullMX)
				if got := f.HardBounce(); got != wantHard {
					t.Errorf("%s: HardBounce %v, want %v", name, got, wantHard)
					continue
				}

				d := suppression.Policy{}.Decide(suppression.Check{Account: "alice", Recipient: "bob@example.com", Failure: f, Source: suppression.SourceQueue, Now: now})
				if (d.Category == suppression.CategoryHardBounce) != wantHard {
					t.Errorf("%s: HardBounce %v but policy decided %+v", name, wantHard, d)
					continue
				}
				if !wantHard {
					// Without history, only a complaint suppresses at once.
					if d.Suppress != (r == bounce.ReasonFeedback) {
						t.Errorf("%s: not a hard bounce, policy decided %+v", name, d)
					}
					continue
				}
				nullMX := v.nullMX && (r == bounce.ReasonNotAccept || r == bounce.ReasonUndefined)
				var wantExpires time.Time
				if v.code == 0 && !nullMX {
					wantExpires = brief
				}
				if !d.Suppress || !d.ExpiresAt.Equal(wantExpires) {
					t.Errorf("%s: suppress %v, expires %v, want expires %v", name, d.Suppress, d.ExpiresAt, wantExpires)
				}
			}
		}
	}
}

// TestHardBounceClassified decides failures as bounce.Classify and bounce.ClassifyReply
// make them: the cases issue 12 names.
func TestHardBounceClassified(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	never := time.Time{}
	brief := now.Add(suppression.DefaultNoReplyExpiry)
	tests := []struct {
		name     string
		f        bounce.Failure
		reason   bounce.Reason
		hard     bool
		suppress bool
		expires  time.Time
	}{
		// A DNS answer is a fact about a moment: an expiring entry only.
		{"nxdomain", bounce.Classify(fmt.Errorf("mx lookup: %w", &net.DNSError{Err: "no such host", Name: "example.invalid", IsNotFound: true})), bounce.ReasonHostUnknown, true, true, brief},
		{"relay dns failure in a dsn", bounce.ClassifyReply(0, bounce.EnhancedCode{5, 4, 4}, "Host or domain name not found. Name service error for name=example.jp type=A: Host not found"), bounce.ReasonHostUnknown, true, true, brief},
		// A null MX is the domain's own statement (RFC 7505): permanent.
		{"null mx found by the host", bounce.Classify(&bounce.SMTPError{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 1, 10}, Stage: bounce.StageDial, Line: "example.com has a null MX"}), bounce.ReasonNotAccept, true, true, never},
		{"null mx in a dsn", bounce.ClassifyReply(0, bounce.EnhancedCode{5, 1, 10}, "host/domain does not accept mail"), bounce.ReasonNotAccept, true, true, never},
		{"null mx reply", bounce.ClassifyReply(556, bounce.EnhancedCode{5, 1, 10}, "Recipient address has null MX"), bounce.ReasonNotAccept, true, true, never},
		{"user unknown reply", bounce.Classify(&bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}), bounce.ReasonUserUnknown, true, true, never},
		// suspend: not a hard bounce in either definition.
		{"mailbox disabled", bounce.Classify(&bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 2, 1}, Stage: bounce.StageRcpt, Line: "mailbox disabled, not accepting messages"}), bounce.ReasonSuspend, false, false, never},
		{"account disabled", bounce.ClassifyReply(550, bounce.EnhancedCode{5, 7, 13}, "user account disabled"), bounce.ReasonSuspend, false, false, never},
		// No reply and not a hard bounce: a refused connection.
		{"refused", bounce.Classify(&bounce.SMTPError{Stage: bounce.StageDial, Err: &net.OpError{Op: "dial", Err: fmt.Errorf("connection refused")}}), bounce.ReasonNetworkError, false, false, never},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.f.Reason != tc.reason {
				t.Fatalf("reason %s, want %s (%+v)", tc.f.Reason, tc.reason, tc.f)
			}
			if got := tc.f.HardBounce(); got != tc.hard {
				t.Fatalf("HardBounce %v, want %v", got, tc.hard)
			}
			d := suppression.Policy{}.Decide(suppression.Check{Failure: tc.f, Now: now})
			if d.Suppress != tc.suppress || (d.Category == suppression.CategoryHardBounce) != tc.hard || !d.ExpiresAt.Equal(tc.expires) {
				t.Fatalf("decision %+v, want suppress %v, hard bounce %v, expires %v", d, tc.suppress, tc.hard, tc.expires)
			}
		})
	}
}
