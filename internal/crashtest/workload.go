package crashtest

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"

	"github.com/bouncekit/bouncekit/bounce"
)

// Profile is how a recipient's server answers. A recipient address starts
// with its profile's name, so the outcome of an attempt follows from the
// address and the attempt number alone.
type Profile string

// Profiles of the workload's recipients.
const (
	ProfileOK       Profile = "ok"       // Accepts.
	ProfileHard     Profile = "hard"     // 550 5.1.1 at RCPT: a hard bounce, suppressed at once.
	ProfileBlock    Profile = "block"    // 554 5.7.1 policy block: permanent, never suppressed.
	ProfileTemp1    Profile = "temp1"    // 451 4.3.0 once, then accepts.
	ProfileTemp2    Profile = "temp2"    // 451 4.3.0 twice, then accepts.
	ProfileTemp3    Profile = "temp3"    // 451 4.3.0 three times, then accepts.
	ProfileTempFail Profile = "tempfail" // 451 4.2.0 always: given up after the policy's attempts.
	ProfileLate     Profile = "late"     // Accepts, then a DSN with 5.1.1 comes back.
)

// profileWeights are the relative frequencies of the profiles in the
// workload.
var profileWeights = []struct {
	p Profile
	w int
}{
	{ProfileOK, 30}, {ProfileHard, 8}, {ProfileBlock, 5}, {ProfileTemp1, 10},
	{ProfileTemp2, 8}, {ProfileTemp3, 6}, {ProfileTempFail, 10}, {ProfileLate, 10},
}

// addressesPerProfile is how many addresses of each profile exist per
// domain: small, so addresses repeat and suppression entries get hit.
const addressesPerProfile = 8

var domains = []string{"a.example", "b.example"}

// Accounts of the workload.
const (
	AccountKeep = "keep" // Keeps retired messages (KeepRetired a year).
	AccountDrop = "drop" // Keeps none (KeepRetired negative).
)

// ProfileOf returns the profile of a workload recipient address.
func ProfileOf(addr string) Profile {
	p, _, _ := strings.Cut(addr, "-")
	return Profile(p)
}

// AttemptError returns the SMTP error of attempt number n (1 for the
// first) to addr, or nil when that attempt is accepted.
func AttemptError(addr string, n int64) error {
	temp := func(k int64) error {
		if n > k {
			return nil
		}
		return &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 3, 0}, Stage: bounce.StageRcpt, Line: "temporary local problem, try again later"}
	}
	switch ProfileOf(addr) {
	case ProfileHard:
		return &bounce.SMTPError{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}
	case ProfileBlock:
		return &bounce.SMTPError{Permanent: true, Code: 554, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Stage: bounce.StageRcpt, Line: "message rejected by local policy"}
	case ProfileTemp1:
		return temp(1)
	case ProfileTemp2:
		return temp(2)
	case ProfileTemp3:
		return temp(3)
	case ProfileTempFail:
		return &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 2, 0}, Stage: bounce.StageRcpt, Line: "mailbox temporarily unavailable"}
	}
	return nil
}

// Submission is one message the workload adds: an account and 1 to 3
// recipients.
type Submission struct {
	N          int64
	Account    string
	Recipients []string
}

// NewSubmission returns submission n of the workload with seed: the same
// for the same n and seed, in every run.
func NewSubmission(seed uint64, n int64) Submission {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	s := Submission{N: n, Account: AccountKeep}
	if r.IntN(2) == 1 {
		s.Account = AccountDrop
	}
	total := 0
	for _, pw := range profileWeights {
		total += pw.w
	}
	count := 1 + r.IntN(3)
	seen := map[string]bool{}
	for len(s.Recipients) < count {
		x := r.IntN(total)
		p := profileWeights[0].p
		for _, pw := range profileWeights {
			if x < pw.w {
				p = pw.p
				break
			}
			x -= pw.w
		}
		addr := fmt.Sprintf("%s-%d@%s", p, r.IntN(addressesPerProfile), domains[r.IntN(len(domains))])
		if !seen[addr] {
			seen[addr] = true
			s.Recipients = append(s.Recipients, addr)
		}
	}
	return s
}

// SenderAddress is the MAIL FROM address of an account's messages.
func SenderAddress(account string) string {
	return account + "@sender.example"
}

// chance reports, deterministically for seed and key, whether an event
// with probability 1/n happens.
func chance(seed uint64, key string, n uint64) bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, key)
	return h.Sum64()%n == 0
}
