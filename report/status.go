package report

import (
	"strings"

	"github.com/bouncekit/bouncekit/bounce"
)

// findStatus returns the first RFC 3463 enhanced status code in s as
// written, or "" if there is none: see findStatusIndex.
func findStatus(s string) string {
	i, j := findStatusIndex(s)
	if i < 0 {
		return ""
	}
	return s[i:j]
}

// findStatusIndex returns the position s[i:j] of the first enhanced status
// code in s, or -1, -1. A code stands alone: not inside a word or a longer
// dotted number ("v2.1.13", "5.1.1.2"), though a sentence may end right
// after it ("... failed: 5.1.1."). Whether the digits and dots form a code
// is decided by bounce.ParseEnhancedCode, the module's one parser.
func findStatusIndex(s string) (i, j int) {
	for i = 0; i < len(s); i++ {
		c := s[i]
		if c != '2' && c != '4' && c != '5' || i > 0 && (isWordByte(s[i-1]) || s[i-1] == '.') {
			continue
		}
		j = i
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		// Dots that end the run end a sentence, as long as no digit
		// follows (the run stopped at something else).
		for j > i && s[j-1] == '.' {
			j--
		}
		if j < len(s) && isWordByte(s[j]) {
			continue
		}
		// A code has exactly two dots; most runs (a reply code, a
		// number) have none, and need no parse and no error value.
		if strings.Count(s[i:j], ".") != 2 {
			continue
		}
		if _, err := bounce.ParseEnhancedCode(s[i:j]); err == nil {
			return i, j
		}
	}
	return -1, -1
}

// isWordByte reports whether c is an ASCII letter, digit or underscore, as
// \w in a regular expression.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
