package crashtest

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"github.com/bouncekit/bouncekit/internal/workload"
)

// mix is the crash workload's share of each profile. Unlike the soak's
// (which follows the failure rates of real traffic), it is weighted
// towards failures, retries and late DSNs: each kill should land in the
// middle of as many kinds of state change as possible.
var mix = workload.Mix{
	{Profile: workload.ProfileOK, N: 30}, {Profile: workload.ProfileHard, N: 8},
	{Profile: workload.ProfileBlock, N: 5}, {Profile: workload.ProfileTemp1, N: 10},
	{Profile: workload.ProfileTemp2, N: 8}, {Profile: workload.ProfileTemp3, N: 6},
	{Profile: workload.ProfileTempFail, N: 10}, {Profile: workload.ProfileLate, N: 10},
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

// NewSubmission returns submission n of the workload with seed (1 to 3
// recipients): the same for the same n and seed, in every run.
func NewSubmission(seed uint64, n int64) workload.Submission {
	return workload.Submissions{
		Seed:          seed,
		Mix:           mix,
		Accounts:      []string{AccountKeep, AccountDrop},
		MaxRecipients: 3,
		Address: func(r *rand.Rand, p workload.Profile) string {
			return workload.Address(p, r.IntN(addressesPerProfile), domains[r.IntN(len(domains))])
		},
	}.Draw(n, 0)
}

// chance reports, deterministically for seed and key, whether an event
// with probability 1/n happens.
func chance(seed uint64, key string, n uint64) bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, key)
	return h.Sum64()%n == 0
}
