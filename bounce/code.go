package bounce

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrEnhancedCode is returned, wrapped, by ParseEnhancedCode and
// EnhancedCode.UnmarshalText for text that is not an enhanced status code.
var ErrEnhancedCode = errors.New("bounce: not an enhanced status code")

// EnhancedCode is an RFC 3463 enhanced status code: class, subject and
// detail, e.g. {5, 1, 1} for "5.1.1". The zero value means "none": the reply
// or report had no enhanced code. It has the shape of go-smtp's
// smtp.EnhancedCode. bstore stores it as an array of three integers; JSON and
// other text encodings use its String form.
type EnhancedCode [3]int

// Class returns the class digit: 2 (success), 4 (persistent transient
// failure) or 5 (permanent failure); 0 for the zero EnhancedCode.
func (c EnhancedCode) Class() int { return c[0] }

// Subject returns the subject: 1 addressing, 2 mailbox, 3 mail system, 4
// network and routing, 5 mail delivery protocol, 6 message content, 7
// security or policy (RFC 3463 section 3).
func (c EnhancedCode) Subject() int { return c[1] }

// Detail returns the detail number within the subject.
func (c EnhancedCode) Detail() int { return c[2] }

// IsZero reports whether c is the zero value, "none".
func (c EnhancedCode) IsZero() bool { return c == EnhancedCode{} }

// Valid reports whether c is a well-formed code (RFC 3463 section 2): class
// 2, 4 or 5, subject and detail of at most three digits.
func (c EnhancedCode) Valid() bool {
	return (c[0] == 2 || c[0] == 4 || c[0] == 5) && c[1] >= 0 && c[1] <= 999 && c[2] >= 0 && c[2] <= 999
}

// Permanent reports whether c has class 5.
func (c EnhancedCode) Permanent() bool { return c[0] == 5 }

// Temporary reports whether c has class 4.
func (c EnhancedCode) Temporary() bool { return c[0] == 4 }

// WithClass returns c with class replaced, e.g. to turn a remote 5.1.1 into
// the 4.1.1 of a delayed DSN. The zero code stays zero.
func (c EnhancedCode) WithClass(class int) EnhancedCode {
	if c.IsZero() {
		return c
	}
	c[0] = class
	return c
}

// String returns "class.subject.detail", e.g. "5.1.1", or "" for the zero
// value.
func (c EnhancedCode) String() string {
	if c.IsZero() {
		return ""
	}
	b := make([]byte, 0, 11)
	b = strconv.AppendInt(b, int64(c[0]), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(c[1]), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(c[2]), 10)
	return string(b)
}

// MarshalText returns String.
func (c EnhancedCode) MarshalText() ([]byte, error) {
	return []byte(c.String()), nil
}

// UnmarshalText parses text with ParseEnhancedCode; empty text gives the
// zero value.
func (c *EnhancedCode) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*c = EnhancedCode{}
		return nil
	}
	v, err := ParseEnhancedCode(string(text))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ParseEnhancedCode parses "class.subject.detail" (RFC 3463 section 2):
// class 2, 4 or 5, subject and detail of 1 to 3 digits, nothing before or
// after. It is the module's one parser of enhanced status codes.
func ParseEnhancedCode(s string) (EnhancedCode, error) {
	c, ok := parseEnhancedCode(s)
	if !ok {
		return EnhancedCode{}, fmt.Errorf("%w: %q", ErrEnhancedCode, s)
	}
	return c, nil
}

// parseEnhancedCode is ParseEnhancedCode without the error value, for the
// classifier, which tries it on every reply line.
func parseEnhancedCode(s string) (EnhancedCode, bool) {
	var c EnhancedCode
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return EnhancedCode{}, false
	}
	c[0] = int(s[0] - '0')
	n, i, ok := parseSmallNumber(s, 2)
	if !ok || i >= len(s) || s[i] != '.' {
		return EnhancedCode{}, false
	}
	c[1] = n
	n, i, ok = parseSmallNumber(s, i+1)
	if !ok || i != len(s) {
		return EnhancedCode{}, false
	}
	c[2] = n
	return c, true
}

// parseSmallNumber parses 1 to 3 digits at s[i:], which must not be followed
// by another digit.
func parseSmallNumber(s string, i int) (n, end int, ok bool) {
	start := i
	for i < len(s) && isDigit(s[i]) && i-start < 3 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, i, i > start && (i == len(s) || !isDigit(s[i]))
}

// CutEnhancedCode cuts an enhanced status code from the start of a reply
// line or Status field: "5.1.1 User unknown" gives {5, 1, 1} and "User
// unknown". Exchange 2003 writes "#5.1.0". The code must be followed by the
// end or a space or tab, which are cut too.
func CutEnhancedCode(line string) (code EnhancedCode, rest string, ok bool) {
	s := line
	if len(s) > 0 && s[0] == '#' {
		s = s[1:]
	}
	end := 0
	for end < len(s) && (isDigit(s[end]) || s[end] == '.') {
		end++
	}
	if end < len(s) && s[end] != ' ' && s[end] != '\t' {
		return EnhancedCode{}, line, false
	}
	c, ok := parseEnhancedCode(s[:end])
	if !ok {
		return EnhancedCode{}, line, false
	}
	return c, trimLeftSpace(s[end:]), true
}

func trimLeftSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

func isDigit(c byte) bool {
	return c >= '0' && c <= '9'
}
