package bounce

import (
	"fmt"
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

// TestScanTextPlain checks that the plain scan of the rule table finds what
// the index finds, for every reply of the mix, limit and about-us setting.
func TestScanTextPlain(t *testing.T) {
	_, mix := scanMix(t)
	for _, l := range mix {
		for _, limit := range []int{len(textRules), firstWeakRule, 0} {
			for _, aboutUs := range []bool{true, false} {
				ri, about := scanText(l[0], l[1:], limit, aboutUs)
				pri, pabout := scanTextPlain(l[0], l[1:], limit, aboutUs)
				if ri != pri || about != pabout {
					t.Errorf("%q limit %d aboutUs %v: index %d %d, plain %d %d", l, limit, aboutUs, ri, about, pri, pabout)
				}
			}
		}
	}
}

// BenchmarkScanText compares the text rule index with a plain scan of the
// rule table, per reply of the mix; BenchmarkClassifyMix gives the cost of
// a whole Classify of the same mix.
func BenchmarkScanText(b *testing.B) {
	_, mix := scanMix(b)
	for _, impl := range []struct {
		name string
		scan func(string, []string, int, bool) (int, int)
	}{{"index", scanText}, {"plain", scanTextPlain}} {
		b.Run(fmt.Sprintf("%s/%d-replies", impl.name, len(mix)), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				l := mix[i%len(mix)]
				impl.scan(l[0], l[1:], len(textRules), true)
			}
		})
	}
}

func BenchmarkClassifyMix(b *testing.B) {
	errs, _ := scanMix(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Classify(errs[i%len(errs)])
	}
}

// scanTextPlain is scanText without the index, the reference it is tested
// and measured against: for each rule in order, the text is searched for
// the phrase's first word with strings.Index, and each place found is
// checked like scanText checks it.
func scanTextPlain(first string, more []string, limit int, aboutUs bool) (ri, about int) {
	// The text folded (lower case, tabs as spaces) once, the lines joined
	// by "\n", which no phrase contains; ends[k] is where line k ends.
	n := len(first) + len(more)
	for _, l := range more {
		n += len(l)
	}
	var b strings.Builder
	b.Grow(n)
	var endsBuf [8]int
	ends := endsBuf[:0]
	for k := 0; k <= len(more); k++ {
		s := first
		if k > 0 {
			b.WriteByte('\n')
			s = more[k-1]
		}
		for i := 0; i < len(s); i++ {
			b.WriteByte(fold(s[i]))
		}
		ends = append(ends, b.Len())
	}
	folded := b.String()

	matches := func(phrase string) bool {
		word := phrase
		if j := strings.IndexByte(phrase, ' '); j >= 0 {
			word = phrase[:j]
		}
		for off := 0; ; {
			j := strings.Index(folded[off:], word)
			if j < 0 {
				return false
			}
			p := off + j
			off = p + 1
			// The line of p.
			k, start := 0, 0
			for ends[k] < p {
				start = ends[k] + 1
				k++
			}
			s, next := first, more
			if k > 0 {
				s, next = more[k-1], more[k:]
			}
			i := p - start
			if (i == 0 || !isLetter(s[i-1])) && hasPrefixFold(s[i:], next, phrase) && !inAddress(s, i) {
				return true
			}
		}
	}
	ri, about = -1, -1
	for k := 0; k < limit; k++ {
		if matches(textRules[k].phrase) {
			ri = k
			break
		}
	}
	if aboutUs {
		for k := range aboutUsRules {
			if matches(aboutUsRules[k].phrase) {
				about = k
				break
			}
		}
	}
	return ri, about
}
