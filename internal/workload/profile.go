// Package workload is the simulated mail traffic and host of the internal
// test programs (internal/crashtest, internal/soak, internal/scaling): the
// recipient profiles whose SMTP answer follows from the address and the
// attempt number alone, the late RFC 3464 DSNs remote MTAs send, and the
// database, Handler and worker wiring every simulated host repeats.
//
// The programs differ on purpose only in their mix of profiles (Mix), how
// often addresses repeat (Submissions.Address), their accounts and their
// retry policy; those stay with each program.
//
// # Layout
//
//   - profile.go: Profile, the address scheme, AttemptError, Mix.
//   - submission.go: the seeded draw of the messages a workload adds.
//   - message.go: the messages of the workload and the late DSNs.
//   - host.go: OpenDB, Handler, HookQueue, Workers.
package workload

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

// Profile is how a recipient's server answers. A recipient address starts
// with its profile's name (see Address), so the outcome of an attempt
// follows from the address and the attempt number alone: a run that was
// killed, or repeated with the same seed, sees the same outcomes.
type Profile string

// Profiles of the workload's recipients.
const (
	ProfileOK       Profile = "ok"       // Accepts.
	ProfileLate     Profile = "late"     // Accepts; a 5.1.1 DSN comes back later.
	ProfileHard     Profile = "hard"     // 550 5.1.1 at RCPT: a hard bounce, suppressed at once.
	ProfileBlock    Profile = "block"    // 554 5.7.1 policy block: permanent, not suppressed.
	ProfileTemp1    Profile = "temp1"    // Greylisted once (451 4.7.1), then accepts.
	ProfileTemp2    Profile = "temp2"    // 451 4.3.0 twice, then accepts.
	ProfileTemp3    Profile = "temp3"    // 452 4.3.1 at DATA three times, then accepts.
	ProfileTempFail Profile = "tempfail" // 451 4.4.1 at connect, always: given up by the retry policy.
)

// Address returns recipient number i of profile p at domain.
func Address(p Profile, i int, domain string) string {
	return fmt.Sprintf("%s-%d@%s", p, i, domain)
}

// ProfileOf returns the profile of an address made by Address.
func ProfileOf(addr string) Profile {
	p, _, _ := strings.Cut(addr, "-")
	return Profile(p)
}

// AttemptError returns the SMTP error of attempt number n (1 for the
// first) to addr, or nil when that attempt is accepted.
func AttemptError(addr string, n int64) error {
	until := func(k int64, err error) error {
		if n > k {
			return nil
		}
		return err
	}
	switch ProfileOf(addr) {
	case ProfileHard:
		return &bounce.SMTPError{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}
	case ProfileBlock:
		return &bounce.SMTPError{Permanent: true, Code: 554, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Stage: bounce.StageRcpt, Line: "message rejected by local policy"}
	case ProfileTemp1:
		return until(1, &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 7, 1}, Stage: bounce.StageRcpt, Line: "greylisted, please try again later"})
	case ProfileTemp2:
		return until(2, &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 3, 0}, Stage: bounce.StageRcpt, Line: "temporary local problem, try again later"})
	case ProfileTemp3:
		return until(3, &bounce.SMTPError{Code: 452, EnhancedCode: bounce.EnhancedCode{4, 3, 1}, Stage: bounce.StageData, Line: "insufficient system storage"})
	case ProfileTempFail:
		return &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 4, 1}, Stage: bounce.StageConnect, Line: "no answer from host"}
	}
	return nil
}

// Accepted is the reply to an attempt AttemptError accepts, as
// Handler.DeliveredMsgs records it: 250 with enhanced code 2.0.0 (RFC 3463
// section 3.1).
func Accepted() queue.Delivery {
	return queue.Delivery{Code: 250, EnhancedCode: bounce.EnhancedCode{2, 0, 0}, Line: "ok"}
}

// Weight is the relative frequency of a profile in a Mix.
type Weight struct {
	Profile Profile
	N       int
}

// Mix is the share of each profile among a workload's recipients.
type Mix []Weight

// Total is the sum of the weights.
func (m Mix) Total() int {
	total := 0
	for _, w := range m {
		total += w.N
	}
	return total
}

// Draw returns a profile drawn from r with the mix's weights. It takes one
// number from r, so a seeded workload draws the same profiles in every
// run.
func (m Mix) Draw(r *rand.Rand) Profile {
	x := r.IntN(m.Total())
	for _, w := range m {
		if x < w.N {
			return w.Profile
		}
		x -= w.N
	}
	return m[0].Profile
}

// Has reports whether p is one of the mix's profiles.
func (m Mix) Has(p Profile) bool {
	for _, w := range m {
		if w.Profile == p {
			return true
		}
	}
	return false
}
