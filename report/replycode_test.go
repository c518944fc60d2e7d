package report

import (
	"regexp"
	"slices"
	"testing"
)

// replyRe is the expression replyCodes replaces, kept as its oracle.
var replyRe = regexp.MustCompile(`(?:^|[^\w.\-/:#])#?([245][0-5][0-9])(?:[ -]|$)`)

func regexpReplyCodes(s string, max int) []string {
	var l []string
	for _, m := range replyRe.FindAllStringSubmatch(s, max) {
		l = append(l, m[1])
	}
	return l
}

var replyCodeCases = []string{
	"", "550", "550 5.1.1 user unknown", "550-5.1.1 first line", "#550 x", "x#550 x", " #550 x",
	"host said: 550 5.1.1 no", "mx.example.com:550 no", "port 2550 closed", "1.550 x", "/550 x",
	"550 550 550", "550  550", "220 mx ready 250 ok 550 no", "it was 451", "4511 x", "4510", "560 x", "599 x",
	"(550) x", "<550> x", "\"550\" x", "é550 x", "\xff550 x", "550\n", "a 450-4.2.2 b", "a_550 x",
	"smtp; 550 5.7.1 <a@b>: rejected", "Remote host said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked",
	"###550 x", "# 550 x", "#550", "#55", "25", "2", "255-", "250-ok 550 no",
}

// TestReplyCodesAsRegexp: the scanner finds what the expression found.
func TestReplyCodesAsRegexp(t *testing.T) {
	for _, s := range replyCodeCases {
		for _, max := range []int{1, 2, maxReplyCodes} {
			got, want := replyCodes(s, max), regexpReplyCodes(s, max)
			if !slices.Equal(got, want) {
				t.Errorf("replyCodes(%q, %d) = %q, regexp %q", s, max, got, want)
			}
		}
	}
}

func FuzzReplyCodes(f *testing.F) {
	for _, s := range replyCodeCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := replyCodes(s, maxReplyCodes), regexpReplyCodes(s, maxReplyCodes)
		if !slices.Equal(got, want) {
			t.Fatalf("replyCodes(%q) = %q, regexp %q", s, got, want)
		}
	})
}
