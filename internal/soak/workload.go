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
	{Profile: workload.ProfileOK, N: 550},
	{Profile: workload.ProfileLate, N: 50},
	{Profile: workload.ProfileHard, N: 60},
	{Profile: workload.ProfileBlock, N: 40},
	{Profile: workload.ProfileTemp1, N: 100},
	{Profile: workload.ProfileTemp2, N: 80},
	{Profile: workload.ProfileTemp3, N: 60},
	{Profile: workload.ProfileTempFail, N: 60},
}

// numDomains is how many recipient domains the workload spreads over.
const numDomains = 20

// newWorkload returns the soak's submissions with seed for a run of msgs
// messages: 1 to 10 recipients each. Addresses are drawn from a pool per
// profile as large as the expected number of its recipients, so many
// repeat (per account, as suppression lists are) and meet the suppression
// list.
func newWorkload(seed uint64, msgs int64, accounts []string) workload.Submissions {
	pool := map[workload.Profile]int{}
	total := int64(mix.Total())
	for _, w := range mix {
		pool[w.Profile] = int(max(16, msgs*int64(w.N)/total))
	}
	return workload.Submissions{
		Seed:          seed,
		Mix:           mix,
		Accounts:      accounts,
		MaxRecipients: 10,
		Address: func(r *rand.Rand, p workload.Profile) string {
			i := r.IntN(pool[p])
			return workload.Address(p, i, fmt.Sprintf("d%02d.example", i%numDomains))
		},
	}
}
