package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/bouncekit/bouncekit/bounce"
)

// profile is how a recipient's server answers. A recipient address starts
// with its profile's name, so the outcome of an attempt follows from the
// address and the attempt number alone, in every run with the same seed.
type profile string

// Profiles of the workload. Weights are per 1000 recipients: 10%
// permanent (hard, block), 30% temporary (temp1, temp2, temp3, tempfail),
// 5% late DSNs, the rest accepted at once.
const (
	profileOK       profile = "ok"       // Accepts.
	profileLate     profile = "late"     // Accepts; a 5.1.1 DSN comes back later.
	profileHard     profile = "hard"     // 550 5.1.1 at RCPT: a hard bounce, suppressed at once.
	profileBlock    profile = "block"    // 554 5.7.1 policy block: permanent, not suppressed.
	profileTemp1    profile = "temp1"    // Greylisted once (451 4.7.1), then accepts.
	profileTemp2    profile = "temp2"    // 451 4.3.0 twice, then accepts.
	profileTemp3    profile = "temp3"    // 452 4.3.1 three times, then accepts.
	profileTempFail profile = "tempfail" // 451 4.4.1 always: given up when the policy's age limit passes.
)

var profileWeights = []struct {
	p profile
	w int
}{
	{profileOK, 550}, {profileLate, 50}, {profileHard, 60}, {profileBlock, 40},
	{profileTemp1, 100}, {profileTemp2, 80}, {profileTemp3, 60}, {profileTempFail, 60},
}

// numDomains is how many recipient domains the workload spreads over.
const numDomains = 20

// profileOf returns the profile of a workload recipient address.
func profileOf(addr string) profile {
	p, _, _ := strings.Cut(addr, "-")
	return profile(p)
}

// attemptError returns the SMTP error of attempt number n (1 for the
// first) to addr, or nil when that attempt is accepted.
func attemptError(addr string, n int64) error {
	until := func(k int64, err error) error {
		if n > k {
			return nil
		}
		return err
	}
	switch profileOf(addr) {
	case profileHard:
		return &bounce.SMTPError{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}
	case profileBlock:
		return &bounce.SMTPError{Permanent: true, Code: 554, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Stage: bounce.StageRcpt, Line: "message rejected by local policy"}
	case profileTemp1:
		return until(1, &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 7, 1}, Stage: bounce.StageRcpt, Line: "greylisted, please try again later"})
	case profileTemp2:
		return until(2, &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 3, 0}, Stage: bounce.StageRcpt, Line: "temporary local problem, try again later"})
	case profileTemp3:
		return until(3, &bounce.SMTPError{Code: 452, EnhancedCode: bounce.EnhancedCode{4, 3, 1}, Stage: bounce.StageData, Line: "insufficient system storage"})
	case profileTempFail:
		return &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 4, 1}, Stage: bounce.StageConnect, Line: "no answer from host"}
	}
	return nil
}

// submission is one message the workload adds: an account and 1 to 10
// recipients.
type submission struct {
	account    string
	recipients []string
}

// workload draws submissions from a seeded source. Addresses are drawn
// from a pool per profile as large as the expected number of its
// recipients, so many repeat (per account, as suppression lists are) and
// meet the suppression list.
type workload struct {
	seed     uint64
	accounts []string
	pool     map[profile]int
}

func newWorkload(seed uint64, msgs int64, accounts []string) *workload {
	w := &workload{seed: seed, accounts: accounts, pool: map[profile]int{}}
	for _, pw := range profileWeights {
		w.pool[pw.p] = int(max(16, msgs*int64(pw.w)/1000))
	}
	return w
}

// submission returns submission n with at most limit recipients: the
// same for the same seed and n.
func (w *workload) submission(n int64, limit int) submission {
	r := rand.New(rand.NewPCG(w.seed, uint64(n)))
	s := submission{account: w.accounts[r.IntN(len(w.accounts))]}
	count := min(1+r.IntN(10), limit)
	seen := map[string]bool{}
	for len(s.recipients) < count {
		x := r.IntN(1000)
		p := profileWeights[0].p
		for _, pw := range profileWeights {
			if x < pw.w {
				p = pw.p
				break
			}
			x -= pw.w
		}
		i := r.IntN(w.pool[p])
		addr := fmt.Sprintf("%s-%d@d%02d.example", p, i, i%numDomains)
		if !seen[addr] {
			seen[addr] = true
			s.recipients = append(s.recipients, addr)
		}
	}
	return s
}

// senderAddress is the MAIL FROM address of an account's messages.
func senderAddress(account string) string {
	return account + "@sender.example"
}

// messageHeader is the header of a workload message, as the
// MessageOpener returns it and a late DSN returns it.
func messageHeader(from, to, subject, messageID string) string {
	return "From: " + from + "\r\n" +
		"To: " + to + "\r\n" +
		"Subject: " + subject + "\r\n" +
		"Message-ID: <" + messageID + ">\r\n" +
		"Date: Mon, 05 Jan 2026 09:00:00 +0000\r\n" +
		"\r\n"
}
