package workload

import "math/rand/v2"

// Submission is one message a workload adds: an account and its
// recipients, distinct addresses made by Address.
type Submission struct {
	N          int64
	Account    string
	Recipients []string
}

// Submissions draws the submissions of a seeded workload. Submission n
// depends only on Seed and n, so a restarted or repeated run adds the same
// messages.
type Submissions struct {
	Seed          uint64
	Mix           Mix
	Accounts      []string // Drawn with equal chance.
	MaxRecipients int      // Each submission has 1 to MaxRecipients, drawn with equal chance.
	// Address returns a recipient of profile p, drawing what it needs
	// (number, domain) from r. It decides how often addresses repeat, so
	// that suppression entries get hit. It must be able to return more
	// distinct addresses than MaxRecipients.
	Address func(r *rand.Rand, p Profile) string
}

// Draw returns submission n with at most limit recipients (no limit if
// limit is 0).
func (s Submissions) Draw(n int64, limit int) Submission {
	r := rand.New(rand.NewPCG(s.Seed, uint64(n)))
	sub := Submission{N: n, Account: s.Accounts[r.IntN(len(s.Accounts))]}
	count := 1 + r.IntN(s.MaxRecipients)
	if limit > 0 {
		count = min(count, limit)
	}
	seen := map[string]bool{}
	for len(sub.Recipients) < count {
		addr := s.Address(r, s.Mix.Draw(r))
		if !seen[addr] {
			seen[addr] = true
			sub.Recipients = append(sub.Recipients, addr)
		}
	}
	return sub
}
