package bounce

import (
	"testing"
)

// scanMix returns the replies of the reply tables and the live reply set:
// a realistic mix of what a delivery loop classifies, as errors and as the
// lines the text rules read.
func scanMix(tb testing.TB) (errs []error, lines [][]string) {
	for _, c := range replyCases {
		errs = append(errs, c.err)
	}
	for _, r := range readLiveReplies(tb) {
		errs = append(errs, asClientErrors(r.reply)[0])
	}
	for _, err := range errs {
		if f := Classify(err); len(f.Lines) > 0 {
			lines = append(lines, f.Lines)
		}
	}
	// What the address and line rules are about.
	lines = append(lines,
		[]string{"<virus@example.org>: Recipient address rejected: User unknown"},
		[]string{"\"mailbox full\"@example.org: user\tunknown"},
		[]string{"mailbox", "full"},
		[]string{"Sender address", "rejected: Domain not found"},
		[]string{"unknown user: \"virus\""},
		[]string{"blocked using zen.spamhaus.org"},
		[]string{""},
	)
	return errs, lines
}

// BenchmarkScanText measures the text rules' scan per reply of the mix;
// BenchmarkClassifyMix gives the cost of a whole Classify of the same mix.
func BenchmarkScanText(b *testing.B) {
	_, mix := scanMix(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l := mix[i%len(mix)]
		scanText(l[0], l[1:], len(textRules), true)
	}
}

func BenchmarkClassifyMix(b *testing.B) {
	errs, _ := scanMix(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Classify(errs[i%len(errs)])
	}
}
