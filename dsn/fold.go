package dsn

import (
	"strings"
	"unicode/utf8"
)

// Line limits for Compose, RFC 5322 section 2.1.1: lines should be at most
// 78 octets and must be at most 998. A field is folded only before white
// space that is followed by other characters (section 3.2.2), so that no
// line consists of white space alone (section 4 forbids generating that
// obsolete form).
const (
	foldSoft = 78
	foldHard = 998
	// maxRun is the longest run of characters without white space that
	// Compose writes on one line. Longer runs in free text are split between
	// characters; in other fields they are refused.
	maxRun = 900
	// maxSpace is the longest run of white space in a field value. With
	// maxRun it bounds a continuation line: one fold always suffices.
	maxSpace = foldHard - maxRun - 1
)

// runs reports the longest run of non-white-space octets and the longest run
// of white space in s. A "\n" counts as white space: Compose writes it as a
// fold.
func runs(s string) (word, space int) {
	w, sp := 0, 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ' ' || c == '\t' || c == '\n' {
			sp++
			w = 0
			space = max(space, sp)
		} else {
			w++
			sp = 0
			word = max(word, w)
		}
	}
	return word, space
}

// isWSP reports white space as Compose folds it; "\n" in a value marks a
// line break of the original text.
func isWSP(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// field writes a field whose value has no run longer than maxRun (the
// callers check): see fieldText.
func (c *composer) field(name, value string) { c.fieldText(name, value, false) }

// fieldText writes "name: value" folded into lines of at most foldSoft
// octets where white space allows and foldHard always. A "\n" in value is a
// place to fold (a line of a multi-line SMTP reply); unfolded it reads as one
// space, like any other fold. If split is set, a run of more than maxRun
// octets without white space is split between two characters, never inside
// a UTF-8 sequence or a \x{HEX} escape (RFC 6533 section 3), by a fold that
// adds a space when unfolded. White space around the value is left out (a
// reader trims it), and runs of white space must be at most maxSpace octets
// (the callers check), so every continuation line has something besides
// white space and fits.
func (c *composer) fieldText(name, value string, split bool) {
	c.str(name)
	c.str(": ")
	n := len(name) + 2
	value = strings.Trim(value, " \t\n")
	for value != "" {
		// A word is the white space before a run of other characters, and
		// that run.
		i, nl := 0, false
		for ; i < len(value); i++ {
			if b := value[i]; b == '\n' {
				nl = true
			} else if b != ' ' && b != '\t' {
				break
			}
		}
		j := i
		for j < len(value) && !isWSP(value[j]) {
			j++
		}
		space, word := value[:i], value[i:j]
		value = value[j:]
		if space != "" && word != "" && (nl || n+len(space)+len(word) > foldSoft) {
			// Fold before the white space, which starts the next line:
			// no line ends in white space that a relay might strip.
			c.buf = append(c.buf, "\r\n"...)
			n = 0
		}
		if nl {
			c.spaces(space)
		} else {
			c.buf = append(c.buf, space...)
		}
		n += len(space)
		for split && n+len(word) > foldHard {
			k := cutPoint(word, min(maxRun, foldHard-n))
			c.str(word[:k])
			c.str("\r\n ")
			n = 1
			word = word[k:]
		}
		c.str(word)
		n += len(word)
	}
	c.str("\r\n")
}

// spaces writes white space, with "\n" as a space.
func (c *composer) spaces(s string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			c.buf = append(c.buf, ' ')
		} else {
			c.buf = append(c.buf, s[i])
		}
	}
}

// cutPoint returns the largest k <= limit (and > 0) at which s can be split:
// not inside a UTF-8 sequence, and not inside a \x{HEX} escape.
func cutPoint(s string, limit int) int {
	k := min(limit, len(s))
	if k == len(s) {
		return k
	}
	for k > 1 && !utf8.RuneStart(s[k]) {
		k--
	}
	// An escape is at most `\x{10FFFF}`, 10 octets.
	from := max(0, k-9)
	if j := strings.LastIndex(s[from:k], `\x{`); j >= 0 {
		j += from
		if e := strings.IndexByte(s[j:], '}'); e >= 0 && j+e >= k && j > 0 {
			k = j
		}
	}
	return max(k, 1)
}

// escapeText returns free text for a delivery-status field that Parse
// unescapes (Diagnostic-Code, the Status comment): without SMTPUTF8 every
// non-ASCII character as \x{HEX} (RFC 6533 section 3), and in both forms a
// backslash that would start such an escape as \x{5C}, so the text reads
// back unchanged. If allBackslashes is set, every backslash is escaped (in a
// comment a backslash quotes the next character, RFC 5322 section 3.2.2).
func escapeText(s string, utf8Allowed, allBackslashes bool) string {
	escNonASCII := !utf8Allowed && !isASCII(s)
	escBackslash := allBackslashes && strings.IndexByte(s, '\\') >= 0 || strings.Contains(s, `\x{`)
	if !escNonASCII && !escBackslash {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i, r := range s {
		switch {
		case r == '\\' && (allBackslashes || strings.HasPrefix(s[i+1:], "x{")):
			b.WriteString(`\x{5C}`)
		case r >= 0x80 && escNonASCII:
			writeEscape(&b, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// text7 returns s for an identifier field that Parse reports as is
// (Original-Envelope-Id, Final-Log-ID): without SMTPUTF8, non-ASCII
// characters as \x{HEX}.
func text7(s string, utf8Allowed bool) string {
	if utf8Allowed || isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
		} else {
			writeEscape(&b, r)
		}
	}
	return b.String()
}

func writeEscape(b *strings.Builder, r rune) {
	const hex = "0123456789ABCDEF"
	var buf [8]byte
	i := len(buf)
	for v := uint32(r); ; v >>= 4 {
		i--
		buf[i] = hex[v&0xf]
		if v < 0x10 {
			break
		}
	}
	b.WriteString(`\x{`)
	b.Write(buf[i:])
	b.WriteByte('}')
}

// addrXtext returns an address of type utf-8: utf-8-addr-xtext without
// SMTPUTF8, utf-8-addr-unitext with it (RFC 6533 section 3). Controls,
// space, "+", "=", "\" and (in xtext) non-ASCII are written as \x{HEX}.
func addrXtext(addr string, utf8Allowed bool) string {
	need := false
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c <= ' ' || c == 0x7f || c == '+' || c == '=' || c == '\\' || c >= 0x80 && !utf8Allowed {
			need = true
			break
		}
	}
	if !need {
		return addr
	}
	var b strings.Builder
	for _, r := range addr {
		if r <= ' ' || r == 0x7f || r == '+' || r == '=' || r == '\\' || r >= 0x80 && !utf8Allowed {
			writeEscape(&b, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// encodeWords returns s as RFC 2047 encoded-words (Q encoding, charset
// utf-8), split between characters and separated by a space, which a
// decoder drops between encoded-words (RFC 2047 section 6.2). A word is at
// most 67 octets, so that "Subject: " and one word, or a fold and one word,
// stay within the 76 octets RFC 2047 section 2 allows a line with
// encoded-words.
func encodeWords(s string) string {
	const prefix, suffix = "=?utf-8?q?", "?="
	const maxWord = 67 - len(prefix) - len(suffix)
	var b strings.Builder
	b.Grow(len(s) * 2)
	n := 0
	for _, r := range s {
		var enc [4 * 3]byte
		e := enc[:0]
		var u [utf8.UTFMax]byte
		l := utf8.EncodeRune(u[:], r)
		for _, c := range u[:l] {
			switch {
			case c == ' ':
				e = append(e, '_')
			case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '!' || c == '*' || c == '+' || c == '-' || c == '/':
				// RFC 2047 section 5 (3): safe in a header's *text.
				e = append(e, c)
			default:
				e = append(e, '=', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf])
			}
		}
		if n > 0 && n+len(e) > maxWord {
			b.WriteString(suffix)
			b.WriteByte(' ')
			n = 0
		}
		if n == 0 {
			b.WriteString(prefix)
		}
		b.Write(e)
		n += len(e)
	}
	if n > 0 {
		b.WriteString(suffix)
	}
	return b.String()
}
