package dsn

import (
	"errors"
	"net/mail"
	"strings"
	"time"
)

var errDate = errors.New("malformed date-time")

// parseDate parses an RFC 5322 section 3.3 date-time, tolerating the
// obsolete forms of section 4.3 (two-digit years, zone names, missing
// seconds or day of week) and comments. It does not allocate for the forms
// MTAs send; anything else goes to net/mail.ParseDate.
func parseDate(v string) (time.Time, error) {
	if t, ok := fastDate(v); ok {
		return t, nil
	}
	rest, _ := removeComments(v)
	t, err := mail.ParseDate(rest)
	if err != nil {
		return time.Time{}, errDate
	}
	return t, nil
}

func fastDate(s string) (time.Time, bool) {
	p := dateParser{s: s}
	p.space()
	// Optional day of week.
	if i := strings.IndexByte(p.s, ','); i >= 0 && i <= 4 {
		p.s = p.s[i+1:]
		p.space()
	}
	day, ok := p.num(1, 2)
	if !ok || !p.space() {
		return time.Time{}, false
	}
	if len(p.s) < 3 {
		return time.Time{}, false
	}
	month := monthNumber(p.s[:3])
	if month == 0 {
		return time.Time{}, false
	}
	p.s = p.s[3:]
	if !p.space() {
		return time.Time{}, false
	}
	n := len(p.s)
	year, ok := p.num(2, 4)
	if !ok || !p.space() {
		return time.Time{}, false
	}
	switch n - len(p.s) - 1 {
	case 2: // RFC 5322 section 4.3.
		if year < 50 {
			year += 2000
		} else {
			year += 1900
		}
	case 3:
		year += 1900
	}
	hour, ok1 := p.num(2, 2)
	ok2 := p.char(':')
	min, ok3 := p.num(2, 2)
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	sec := 0
	if p.char(':') {
		if sec, ok = p.num(2, 2); !ok {
			return time.Time{}, false
		}
	}
	p.space()
	offset, ok := p.zone()
	if !ok {
		return time.Time{}, false
	}
	p.space()
	if p.s != "" && p.s[0] != '(' {
		return time.Time{}, false
	}
	if day > 31 || hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, false
	}
	loc := time.UTC
	if offset != 0 {
		loc = time.FixedZone("", offset)
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, 0, loc), true
}

type dateParser struct{ s string }

// space skips white space, reporting whether there was any.
func (p *dateParser) space() bool {
	n := len(p.s)
	p.s = strings.TrimLeft(p.s, " \t\r\n")
	return len(p.s) < n
}

func (p *dateParser) char(c byte) bool {
	if p.s != "" && p.s[0] == c {
		p.s = p.s[1:]
		return true
	}
	return false
}

func (p *dateParser) num(minDigits, maxDigits int) (int, bool) {
	n, i := 0, 0
	for i < len(p.s) && i < maxDigits && '0' <= p.s[i] && p.s[i] <= '9' {
		n = n*10 + int(p.s[i]-'0')
		i++
	}
	if i < minDigits {
		return 0, false
	}
	p.s = p.s[i:]
	return n, true
}

// zone parses a numeric zone or an obsolete zone name, RFC 5322 section 4.3,
// returning the offset in seconds.
func (p *dateParser) zone() (int, bool) {
	if p.s != "" && (p.s[0] == '+' || p.s[0] == '-') {
		sign := 1
		if p.s[0] == '-' {
			sign = -1
		}
		p.s = p.s[1:]
		if len(p.s) < 4 {
			return 0, false
		}
		hh, ok1 := p.num(2, 2)
		mm, ok2 := p.num(2, 2)
		if !ok1 || !ok2 || mm > 59 {
			return 0, false
		}
		return sign * (hh*3600 + mm*60), true
	}
	i := 0
	for i < len(p.s) && ('A' <= p.s[i] && p.s[i] <= 'Z' || 'a' <= p.s[i] && p.s[i] <= 'z') {
		i++
	}
	name := p.s[:i]
	p.s = p.s[i:]
	switch strings.ToUpper(name) {
	case "UT", "UTC", "GMT", "Z", "":
		return 0, true
	case "EDT":
		return -4 * 3600, true
	case "EST", "CDT":
		return -5 * 3600, true
	case "CST", "MDT":
		return -6 * 3600, true
	case "MST", "PDT":
		return -7 * 3600, true
	case "PST":
		return -8 * 3600, true
	}
	// Other names are unknown: section 4.3 says to treat them as -0000.
	return 0, true
}

func monthNumber(s string) int {
	switch strings.ToLower(s) {
	case "jan":
		return 1
	case "feb":
		return 2
	case "mar":
		return 3
	case "apr":
		return 4
	case "may":
		return 5
	case "jun":
		return 6
	case "jul":
		return 7
	case "aug":
		return 8
	case "sep":
		return 9
	case "oct":
		return 10
	case "nov":
		return 11
	case "dec":
		return 12
	}
	return 0
}
