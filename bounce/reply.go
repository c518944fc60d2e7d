package bounce

import (
	"errors"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"
)

// SMTPError is a failed SMTP exchange, for hosts whose SMTP client does not
// return go-smtp's or net/smtp's error types, and for replies read from DSNs
// (see ParseReply). It has the shape of mox's smtpclient.Error, with a
// typed Stage where mox has the Command string.
type SMTPError struct {
	// Permanent is the client's own verdict. Classify uses it only when there
	// was no reply (Code 0); with a reply, permanence follows the code.
	Permanent bool

	// Code is the SMTP reply code, e.g. 550. Zero if no reply was received,
	// e.g. when the connection failed; then Err says why.
	Code int

	// EnhancedCode is the RFC 3463 enhanced status code, e.g. {5, 1, 1}.
	// Zero if the reply had none.
	EnhancedCode EnhancedCode

	// Stage is the step of the transaction the reply answered or the error
	// broke off, e.g. StageRcpt. StageUnknown if unknown. A TLS error at
	// StageTLS is classified as failedstarttls.
	Stage Stage

	// Line is the first reply line, without the reply code and enhanced code.
	Line string

	// MoreLines are the further lines of a multi-line reply, without codes.
	MoreLines []string

	// Err is the underlying error, e.g. a network error when no reply came.
	Err error
}

var _ error = (*SMTPError)(nil)

// Error returns e.g. "bounce: smtp rcpt: 550 5.1.1 user unknown".
func (e *SMTPError) Error() string {
	if e == nil {
		return "bounce: smtp: <nil>"
	}
	var b strings.Builder
	b.WriteString("bounce: smtp")
	if e.Stage != StageUnknown {
		b.WriteString(" ")
		b.WriteString(string(e.Stage))
	}
	b.WriteString(":")
	if e.Code != 0 {
		b.WriteString(" ")
		b.WriteString(strconv.Itoa(e.Code))
	}
	if !e.EnhancedCode.IsZero() {
		b.WriteString(" ")
		b.WriteString(e.EnhancedCode.String())
	}
	if e.Line != "" {
		b.WriteString(" ")
		b.WriteString(e.Line)
	}
	for _, l := range e.MoreLines {
		b.WriteString("; ")
		b.WriteString(l)
	}
	if e.Err != nil && !e.errIsReply() {
		if e.Code != 0 || e.Line != "" {
			b.WriteString(":")
		}
		b.WriteString(" ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// errIsReply reports whether Err is the reply e already holds, as go-smtp's
// error of the same code (a client that wraps it, for errors.As): the
// reply is then written once.
func (e *SMTPError) errIsReply() bool {
	var ge *smtp.SMTPError
	return e.Code != 0 && errors.As(e.Err, &ge) && ge.Code == e.Code
}

// Unwrap returns Err.
func (e *SMTPError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// ParseReply parses raw SMTP reply text into an *SMTPError. It accepts a
// single line ("550 5.1.1 User unknown"), a multi-line reply with CRLF or LF
// line ends ("550-5.7.1 first\r\n550 5.7.1 last"), and a DSN Diagnostic-Code
// value with its type ("smtp; 550 5.1.1 ..."). Reply codes and repeated
// enhanced codes are removed from each line. Text without a leading reply
// code gives Code 0; text is never rejected. The result is never nil.
//
// A diagnostic may quote the session before the failure, starting with the
// server's "220" greeting or a "250" answer to an earlier command: then the
// first reply with a 4xx or 5xx code, on a later line or further on the
// same folded line, is the one parsed. A positive reply is never read as
// the outcome of a failure it was only the prelude to.
//
// Permanent is set from the reply code class (or from the enhanced code's
// class when there is no reply code), without Classify's exceptions.
func ParseReply(text string) *SMTPError {
	text = skipPositiveReplies(trimDiagnosticType(text))
	e := &SMTPError{}

	n := 1 + strings.Count(text, "\n")
	lines := make([]string, 0, n)
	var prefix string // The reply code as written, e.g. "550".
	for i := 0; len(text) > 0 || i == 0; i++ {
		var line string
		if j := strings.IndexByte(text, '\n'); j >= 0 {
			line, text = text[:j], text[j+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimSuffix(line, "\r")
		if i == 0 {
			if c, ok := parseReplyCode(line); ok {
				e.Code = c
				prefix = line[:3]
				line = line[min(4, len(line)):]
			}
		} else if prefix != "" && len(line) >= 3 && line[:3] == prefix && (len(line) == 3 || line[3] == ' ' || line[3] == '-') {
			line = line[min(4, len(line)):]
		}
		lines = append(lines, line)
	}
	// Drop the empty line after a final line end.
	for len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	// The enhanced code starts the first line (RFC 2034 section 4), or only
	// the last, as go-smtp's server writes multi-line replies.
	// enhText is the code as written, to find it again in folded lines.
	var enhText string
	if enh, rest, ok := CutEnhancedCode(lines[0]); ok {
		e.EnhancedCode, enhText, lines[0] = enh, enhancedText(lines[0]), rest
	} else if enh, _, ok := CutEnhancedCode(lines[len(lines)-1]); ok && len(lines) > 1 {
		e.EnhancedCode, enhText = enh, enhancedText(lines[len(lines)-1])
	}
	if !e.EnhancedCode.IsZero() {
		for i := 1; i < len(lines); i++ {
			if enh, rest, ok := CutEnhancedCode(lines[i]); ok && enh == e.EnhancedCode {
				lines[i] = rest
			}
		}
	}
	// A DSN's Diagnostic-Code often holds a multi-line reply folded into one
	// line: "550-5.7.1 first 550-5.7.1 second 550 5.7.1 last". Split it.
	if e.Code != 0 && enhText != "" {
		lines = splitEmbeddedReplyLines(lines, " "+prefix+"-"+enhText+" ", " "+prefix+" "+enhText+" ")
	}
	e.Line = lines[0]
	if len(lines) > 1 {
		e.MoreLines = lines[1:]
	}
	switch {
	case e.Code != 0:
		e.Permanent = e.Code/100 == 5
	case !e.EnhancedCode.IsZero():
		e.Permanent = e.EnhancedCode.Permanent()
	}
	return e
}

// splitEmbeddedReplyLines splits lines at the markers m1 and m2 (of equal
// length) where a folded multi-line reply continues.
func splitEmbeddedReplyLines(lines []string, m1, m2 string) []string {
	var out []string
	for i, l := range lines {
		if !strings.Contains(l, m1) && !strings.Contains(l, m2) {
			if out != nil {
				out = append(out, l)
			}
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(lines)+4), lines[:i]...)
		}
		// Each marker's next position is searched for again only once the
		// cut passed it: searching both from the start after every cut made
		// a long line of markers quadratic.
		j1, j2 := strings.Index(l, m1), strings.Index(l, m2)
		for j1 >= 0 || j2 >= 0 {
			j := j1
			if j < 0 || j2 >= 0 && j2 < j {
				j = j2
			}
			out = append(out, l[:j])
			rest := strings.TrimLeft(l[j+len(m1):], " ")
			shift := len(l) - len(rest)
			l = rest
			j1, j2 = nextIndex(l, m1, j1, shift), nextIndex(l, m2, j2, shift)
		}
		out = append(out, l)
	}
	if out == nil {
		return lines
	}
	return out
}

// nextIndex returns the index of m in l, which lost its first shift bytes
// since m was at old (-1: not at all).
func nextIndex(l, m string, old, shift int) int {
	switch {
	case old < 0:
		return -1
	case old >= shift:
		return old - shift
	}
	return strings.Index(l, m)
}

// enhancedText returns the enhanced code at the start of line as written,
// without Exchange's "#".
func enhancedText(line string) string {
	s := strings.TrimPrefix(line, "#")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		s = s[:i]
	}
	return s
}

// trimDiagnosticType removes a DSN diagnostic-type such as "smtp;" (RFC 3464
// section 2.3.6) and the spaces around the text.
func trimDiagnosticType(s string) string {
	s = strings.TrimLeft(s, " \t\r\n")
	i := strings.IndexByte(s, ';')
	if i <= 0 || i > 32 {
		return s
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return s
		}
	}
	return strings.TrimLeft(s[i+1:], " \t")
}

// parseReplyCode parses a reply code at the start of line: three digits, the
// first 2 to 5 (RFC 5321 section 4.2), followed by the end, a space or "-".
func parseReplyCode(line string) (int, bool) {
	if len(line) < 3 || line[0] < '2' || line[0] > '5' || !isDigit(line[1]) || !isDigit(line[2]) {
		return 0, false
	}
	if len(line) > 3 && line[3] != ' ' && line[3] != '-' && line[3] != '\t' {
		return 0, false
	}
	return int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0'), true
}

// skipPositiveReplies returns text from its first failing reply (4xx or
// 5xx) on when text starts with a positive one (2xx or 3xx), such as a
// quoted "220" greeting: "220 mx.example.org ESMTP\r\n550 5.1.1 User
// unknown". A failing reply folded into the same line counts when its
// enhanced code has the reply code's class ("220 mx.example.org ESMTP 550
// 5.1.1 User unknown"), so a number in the greeting's text is not taken
// for a code. Text that starts otherwise, or has no failing reply, is
// returned as is.
func skipPositiveReplies(text string) string {
	c, ok := parseReplyCode(text)
	if !ok || c/100 != 2 && c/100 != 3 {
		return text
	}
	// A later line that starts with a failing reply code.
	for rest := text; ; {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		rest = rest[i+1:]
		line := strings.TrimLeft(rest, " \t")
		if c, ok := parseReplyCode(line); ok && c/100 >= 4 {
			return line
		}
	}
	// A failing reply with an enhanced code inside a folded line.
	for i := 1; i+4 < len(text); i++ {
		if text[i-1] != ' ' && text[i-1] != '\t' || text[i] != '4' && text[i] != '5' {
			continue
		}
		rest := text[i:]
		if _, ok := parseReplyCode(rest); !ok {
			continue
		}
		if enh, _, ok := CutEnhancedCode(strings.TrimLeft(rest[4:], " ")); ok && int(rest[0]-'0') == enh[0] {
			return rest
		}
	}
	return text
}
