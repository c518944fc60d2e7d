package bounce_test

import (
	"testing"

	"github.com/bouncekit/bouncekit/bounce"
)

// TestFailureHardBounce checks the hard-bounce definition and its helpers
// on hand-made failures, also ones without a reason, judged by their codes.
func TestFailureHardBounce(t *testing.T) {
	tests := []struct {
		name                string
		f                   bounce.Failure
		hard, noReply, null bool
	}{
		{"user unknown", bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: "userunknown"}, true, false, false},
		{"user unknown, upper case", bounce.Failure{Permanent: true, Code: 550, Reason: "UserUnknown"}, true, false, false},
		{"user unknown by code", bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: "undefined"}, true, false, false},
		{"user unknown, temporary", bounce.Failure{Code: 450, EnhancedCode: bounce.EnhancedCode{4, 1, 1}, Reason: "userunknown"}, false, false, false},
		{"nxdomain", bounce.Failure{Permanent: true, Reason: "hostunknown"}, true, true, false},
		{"has moved", bounce.Failure{Permanent: true, Code: 551, EnhancedCode: bounce.EnhancedCode{5, 1, 6}, Reason: "hasmoved"}, true, false, false},
		{"556", bounce.Failure{Permanent: true, Code: 556, Reason: "notaccept"}, true, false, false},
		{"null mx reply", bounce.Failure{Permanent: true, Code: 556, EnhancedCode: bounce.EnhancedCode{5, 1, 10}, Reason: "notaccept"}, true, false, true},
		{"null mx, no reply", bounce.Failure{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 1, 10}, Reason: "notaccept"}, true, true, true},
		{"null mx by code", bounce.Failure{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 1, 10}}, true, true, true},
		{"5.1.10 user unknown (Microsoft)", bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 10}, Reason: "userunknown"}, true, false, false},
		{"notaccept 5xx code, 4.x status", bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{4, 3, 2}, Reason: "notaccept"}, true, false, false},
		{"notaccept 4.x status, no code", bounce.Failure{Permanent: true, EnhancedCode: bounce.EnhancedCode{4, 3, 2}, Reason: "notaccept"}, false, true, false},
		{"notaccept 421", bounce.Failure{Permanent: true, Code: 421, Reason: "notaccept"}, false, false, false},
		{"notaccept no codes", bounce.Failure{Permanent: true, Reason: "notaccept"}, true, true, false},
		{"notaccept temporary", bounce.Failure{Reason: "notaccept"}, false, true, false},
		{"suspend", bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 2, 1}, Reason: "suspend"}, false, false, false},
		{"suspend by code", bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 2, 1}}, false, false, false},
		{"mailbox full", bounce.Failure{Permanent: true, Code: 552, EnhancedCode: bounce.EnhancedCode{5, 2, 2}, Reason: "mailboxfull"}, false, false, false},
		{"blocked", bounce.Failure{Permanent: true, Code: 554, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Reason: "blocked"}, false, false, false},
		{"refused connection", bounce.Failure{Reason: "networkerror"}, false, true, false},
		{"zero", bounce.Failure{}, false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.HardBounce(); got != tc.hard {
				t.Errorf("HardBounce %v, expected %v", got, tc.hard)
			}
			if got := tc.f.NoReply(); got != tc.noReply {
				t.Errorf("NoReply %v, expected %v", got, tc.noReply)
			}
			if got := tc.f.NullMX(); got != tc.null {
				t.Errorf("NullMX %v, expected %v", got, tc.null)
			}
		})
	}
}
