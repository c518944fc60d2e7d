package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/bouncekit/bouncekit/internal/workload"
)

// mix is the soak's share of each profile, per 1000 recipients: 10%
// permanent (hard, block), 30% temporary (temp1, temp2, temp3, tempfail),
// 5% late DSNs, the rest accepted at once. Unlike the crash test's mix
// (weighted towards state changes), it follows the rates of real traffic,
// so the throughput and database size it reports mean something.
var mix = workload.Mix{
	{Profile: workload.ProfileOK, N: 550}, {Profile: workload.ProfileLate, N: 50},
	{Profile: workload.ProfileHard, N: 60}, {Profile: workload.ProfileBlock, N: 40},
	{Profile: workload.ProfileTemp1, N: 100}, {Profile: workload.ProfileTemp2, N: 80},
	{Profile: workload.ProfileTemp3, N: 60}, {Profile: workload.ProfileTempFail, N: 60},
}

// numDomains is how many recipient domains the workload spreads over.
const numDomains = 20

// submission is one message the workload adds: an account and 1 to 10
// recipients.
type submission struct {
	account    string
	recipients []string
}

// soakWorkload draws submissions from a seeded source. Addresses are drawn
// from a pool per profile as large as the expected number of its
// recipients, so many repeat (per account, as suppression lists are) and
// meet the suppression list.
type soakWorkload struct {
	seed     uint64
	accounts []string
	pool     map[workload.Profile]int
}

func newWorkload(seed uint64, msgs int64, accounts []string) *soakWorkload {
	w := &soakWorkload{seed: seed, accounts: accounts, pool: map[workload.Profile]int{}}
	total := int64(mix.Total())
	for _, pw := range mix {
		w.pool[pw.Profile] = int(max(16, msgs*int64(pw.N)/total))
	}
	return w
}

// submission returns submission n with at most limit recipients: the
// same for the same seed and n.
func (w *soakWorkload) submission(n int64, limit int) submission {
	r := rand.New(rand.NewPCG(w.seed, uint64(n)))
	s := submission{account: w.accounts[r.IntN(len(w.accounts))]}
	count := min(1+r.IntN(10), limit)
	seen := map[string]bool{}
	for len(s.recipients) < count {
		p := mix.Draw(r)
		i := r.IntN(w.pool[p])
		addr := workload.Address(p, i, fmt.Sprintf("d%02d.example", i%numDomains))
		if !seen[addr] {
			seen[addr] = true
			s.recipients = append(s.recipients, addr)
		}
	}
	return s
}
