package bounce

import (
	"strings"
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

// TestPhrases checks what the scan relies on: every phrase is lower case,
// at least three bytes long, and starts and ends with a non-space byte, which
// is how the scan finds its first word.
func TestPhrases(t *testing.T) {
	for _, rules := range [][]textRule{textRules[:], aboutUsRules[:]} {
		for _, r := range rules {
			p := r.phrase
			if len(p) < 3 || p[0] == ' ' || p[len(p)-1] == ' ' || strings.ToLower(p) != p || strings.Contains(p, "\n") {
				t.Errorf("phrase %q: want lower case, 3 bytes or more, no space at either end, no line end", p)
			}
		}
	}
}

// TestScanTextLines checks the per-reply prefilter with phrases at line
// starts, at line ends continued on the next line, and after punctuation.
func TestScanTextLines(t *testing.T) {
	for _, c := range []struct {
		lines []string
		want  string // The phrase of the rule found, "" for none.
	}{
		{[]string{"mailbox", "full"}, "mailbox full"},
		{[]string{"550 5.2.2 the user's Mailbox", "Full, sorry"}, "mailbox full"},
		{[]string{"(mailbox full)"}, "mailbox full"},
		{[]string{"xmailbox full"}, ""},
		{[]string{""}, ""},
	} {
		ri, _ := scanText(c.lines[0], c.lines[1:], len(textRules), false)
		got := ""
		if ri >= 0 {
			got = textRules[ri].phrase
		}
		if c.want != "" && !strings.Contains(got, "mailbox") || c.want == "" && got != "" {
			t.Errorf("%q: rule %q, want %q", c.lines, got, c.want)
		}
	}
}
