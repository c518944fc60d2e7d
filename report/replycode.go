package report

import "unicode/utf8"

// replyCodes returns up to max SMTP reply codes in s, in order: three
// digits [245][0-5][0-9] followed by a space, a hyphen or the end of s,
// optionally after a "#", at the start of s or after a character that
// cannot be part of a word, number, path or host name (anything but an
// ASCII letter or digit, "_", ".", "-", "/", ":" or "#"). After a code the
// search goes on behind its following space or hyphen, so a code glued to
// the one before it ("550 550") is not one. It does what matching
// `(?:^|[^\w.\-/:#])#?([245][0-5][0-9])(?:[ -]|$)` with regexp's
// FindAllStringSubmatch did (TestReplyCodesAsRegexp keeps them equal),
// without the regexp machine's backtracking on every diagnostic line.
func replyCodes(s string, max int) []string {
	var codes []string
	pos := 0
	for len(codes) < max && pos < len(s) {
		start, end, ok := nextReplyCode(s, pos)
		if !ok {
			break
		}
		codes = append(codes, s[start:start+3])
		pos = end
	}
	return codes
}

// nextReplyCode finds the first reply code at or after pos: the offset of
// its digits and the end of the match (after the space or hyphen).
func nextReplyCode(s string, pos int) (start, end int, ok bool) {
	for i := pos; i < len(s); {
		if i == 0 {
			// At the start of the text the code needs no character
			// before it.
			if start, end, ok := replyCodeAt(s, 0); ok {
				return start, end, true
			}
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if !replyCodeNeighbour(r) {
			if start, end, ok := replyCodeAt(s, i+w); ok {
				return start, end, true
			}
		}
		i += w
	}
	return 0, 0, false
}

// replyCodeAt matches an optional "#" and a code at offset j.
func replyCodeAt(s string, j int) (start, end int, ok bool) {
	if j < len(s) && s[j] == '#' {
		j++
	}
	if j+3 > len(s) {
		return 0, 0, false
	}
	if c := s[j]; c != '2' && c != '4' && c != '5' {
		return 0, 0, false
	}
	if c := s[j+1]; c < '0' || c > '5' {
		return 0, 0, false
	}
	if c := s[j+2]; c < '0' || c > '9' {
		return 0, 0, false
	}
	switch {
	case j+3 == len(s):
		return j, j + 3, true
	case s[j+3] == ' ' || s[j+3] == '-':
		return j, j + 4, true
	}
	return 0, 0, false
}

// replyCodeNeighbour reports whether r, just before a code, makes it part
// of something else: a word, a number, a path, a host name or a port.
func replyCodeNeighbour(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	switch r {
	case '_', '.', '-', '/', ':', '#':
		return true
	}
	return false
}
