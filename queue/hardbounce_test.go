package queue

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/suppression"
)

// TestHardBounceAgreesWithPolicy checks, for every reason, permanent and
// temporary, with and without an SMTP reply and enhanced code, that
// Failure.HardBounce is what the zero suppression.Policy treats as a hard
// bounce, and that the entry lasts forever only with a reply or a null MX
// (issue 12).
func TestHardBounceAgreesWithPolicy(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	brief := now.Add(suppression.DefaultNoReplyExpiry)
	if n := len(Reasons()); n != 36 {
		t.Fatalf("%d reasons, want sisimai's 36", n)
	}
	// Independent of the implementation: the reasons that are a hard bounce
	// when permanent.
	hardReasons := map[Reason]bool{ReasonUserUnknown: true, ReasonHostUnknown: true, ReasonHasMoved: true, ReasonNotAccept: true}

	for _, r := range Reasons() {
		for _, perm := range []bool{true, false} {
			class, code := 4, 450
			if perm {
				class, code = 5, 550
			}
			variants := []struct {
				name     string
				code     int
				enhanced string
				nullMX   bool // The enhanced code is X.1.10.
			}{
				{"reply", code, "", false},
				{"reply with status", code, fmt.Sprintf("%d.0.0", class), false},
				{"reply with null mx status", code, fmt.Sprintf("%d.1.10", class), true},
				{"no reply", 0, "", false},
				{"no reply, status", 0, fmt.Sprintf("%d.0.0", class), false},
				{"no reply, null mx status", 0, fmt.Sprintf("%d.1.10", class), true},
			}
			for _, v := range variants {
				name := fmt.Sprintf("%s/permanent=%v/%s", r, perm, v.name)
				f := Failure{Permanent: perm, Code: v.code, EnhancedCode: v.enhanced, Reason: r}

				// An undefined reason with X.1.10 is read as notaccept.
				wantHard := perm && (hardReasons[r] || r == ReasonUndefined && v.nullMX)
				if got := f.HardBounce(); got != wantHard {
					t.Errorf("%s: HardBounce %v, want %v", name, got, wantHard)
					continue
				}

				d := suppression.Policy{}.Decide(suppression.Check{Account: "alice", Recipient: "bob@example.com", Failure: suppressionFailure(f), Source: suppression.SourceQueue, Now: now})
				if (d.Category == suppression.CategoryHardBounce) != wantHard {
					t.Errorf("%s: HardBounce %v but policy decided %+v", name, wantHard, d)
					continue
				}
				if !wantHard {
					// Without history, only a complaint suppresses at once.
					if d.Suppress != (r == ReasonFeedback) {
						t.Errorf("%s: not a hard bounce, policy decided %+v", name, d)
					}
					continue
				}
				nullMX := v.nullMX && (r == ReasonNotAccept || r == ReasonUndefined)
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

// TestHardBounceClassified decides failures as Classify and ClassifyReply
// make them: the cases issue 12 names.
func TestHardBounceClassified(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	never := time.Time{}
	brief := now.Add(suppression.DefaultNoReplyExpiry)
	tests := []struct {
		name     string
		f        Failure
		reason   Reason
		hard     bool
		suppress bool
		expires  time.Time
	}{
		// A DNS answer is a fact about a moment: an expiring entry only.
		{"nxdomain", Classify(fmt.Errorf("mx lookup: %w", &net.DNSError{Err: "no such host", Name: "example.invalid", IsNotFound: true})), ReasonHostUnknown, true, true, brief},
		{"relay dns failure in a dsn", ClassifyReply(0, "5.4.4", "Host or domain name not found. Name service error for name=example.jp type=A: Host not found"), ReasonHostUnknown, true, true, brief},
		// A null MX is the domain's own statement (RFC 7505): permanent.
		{"null mx found by the host", Classify(&SMTPError{Permanent: true, EnhancedCode: "5.1.10", Command: "dial", Line: "example.com has a null MX"}), ReasonNotAccept, true, true, never},
		{"null mx in a dsn", ClassifyReply(0, "5.1.10", "host/domain does not accept mail"), ReasonNotAccept, true, true, never},
		{"null mx reply", ClassifyReply(556, "5.1.10", "Recipient address has null MX"), ReasonNotAccept, true, true, never},
		{"user unknown reply", Classify(&SMTPError{Code: 550, EnhancedCode: "5.1.1", Command: "rcpt", Line: "user unknown"}), ReasonUserUnknown, true, true, never},
		// suspend: not a hard bounce in either definition.
		{"mailbox disabled", Classify(&SMTPError{Code: 550, EnhancedCode: "5.2.1", Command: "rcpt", Line: "mailbox disabled, not accepting messages"}), ReasonSuspend, false, false, never},
		{"account disabled", ClassifyReply(550, "5.7.13", "user account disabled"), ReasonSuspend, false, false, never},
		// No reply and not a hard bounce: a refused connection.
		{"refused", Classify(&SMTPError{Command: "dial", Err: &net.OpError{Op: "dial", Err: fmt.Errorf("connection refused")}}), ReasonNetworkError, false, false, never},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.f.Reason != tc.reason {
				t.Fatalf("reason %s, want %s (%+v)", tc.f.Reason, tc.reason, tc.f)
			}
			if got := tc.f.HardBounce(); got != tc.hard {
				t.Fatalf("HardBounce %v, want %v", got, tc.hard)
			}
			d := suppression.Policy{}.Decide(suppression.Check{Failure: suppressionFailure(tc.f), Now: now})
			if d.Suppress != tc.suppress || (d.Category == suppression.CategoryHardBounce) != tc.hard || !d.ExpiresAt.Equal(tc.expires) {
				t.Fatalf("decision %+v, want suppress %v, hard bounce %v, expires %v", d, tc.suppress, tc.hard, tc.expires)
			}
		})
	}
}
