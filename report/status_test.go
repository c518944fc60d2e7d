package report

import "testing"

func TestFindStatus(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"5.1.1", "5.1.1"},
		{"Status: 5.1.1 (user unknown)", "5.1.1"},
		{"failed: 4.4.7.", "4.4.7"},
		{"failed: 4.4.7..", "4.4.7"},
		{"550 5.1.10 RESOLVER.ADR.RecipientNotFound", "5.1.10"},
		{"#5.1.0 Address rejected", "5.1.0"},
		{"(5.7.1)", "5.7.1"},
		{"v2.1.13 released", ""},      // Inside a word.
		{"5.1.1.2", ""},               // A longer dotted number.
		{"5.1.1abc", ""},              // Followed by a word.
		{"5.1.1_x", ""},               // \w includes the underscore.
		{"5.1234.1", ""},              // Subject of four digits.
		{"3.1.1 then 4.2.2", "4.2.2"}, // Class 3 does not exist.
		{"x.5.1.1", ""},               // After a dot.
		{"", ""},
	} {
		if got := findStatus(tc.in); got != tc.want {
			t.Errorf("findStatus(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
