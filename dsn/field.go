package dsn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bouncekit/bouncekit/bounce"
)

var (
	errFieldTooLong  = fmt.Errorf("field longer than %d bytes", MaxFieldSize)
	errStatusTooLong = fmt.Errorf("dsn: delivery-status longer than %d bytes", MaxStatusSize)
)

// fieldReader reads header-style fields ("Name: value", folded onto
// continuation lines that start with white space) separated by blank lines.
// It reuses one buffer, so the returned line is valid until the next call.
type fieldReader struct {
	br    *bufio.Reader
	n     int64 // Bytes consumed.
	limit int64 // If > 0, reading more than limit bytes is an error.
	buf   []byte
	// If truncate is set, a field longer than MaxFieldSize is cut off and
	// truncated set, instead of being an error.
	truncate, truncated bool
	// If indented is set, fields may stand indented in text, as when
	// pasted into a message body: lines are returned without their indent,
	// a continuation line must be indented further than the field's first
	// line and not be blank, and a line that is not a field is never
	// unfolded.
	indented bool
}

// next returns the next unfolded field without its line ending, an empty
// line for a blank line (a group separator), or io.EOF.
func (fr *fieldReader) next() ([]byte, error) {
	fr.buf = fr.buf[:0]
	fr.truncated = false
	if err := fr.appendLine(); err != nil {
		return nil, err
	}
	if len(fr.buf) == 0 {
		return fr.buf, nil
	}
	indent := -1
	if fr.indented {
		indent = leadingSpace(fr.buf)
		fr.buf = fr.buf[:copy(fr.buf, fr.buf[indent:])]
		var name [64]byte
		if _, _, ok := splitField(fr.buf, &name); !ok {
			return fr.buf, nil
		}
	}
	for {
		// RFC 5322 section 2.2.3: a line starting with white space continues
		// the field.
		if !fr.continues(indent) {
			return fr.buf, nil
		}
		if err := fr.appendLine(); err != nil {
			return nil, err
		}
	}
}

// continues reports whether the next line continues the field: it starts
// with white space, and, if indent >= 0, with more than indent bytes of it
// and is not blank.
func (fr *fieldReader) continues(indent int) bool {
	if indent < 0 {
		c, err := fr.br.Peek(1)
		return err == nil && (c[0] == ' ' || c[0] == '\t')
	}
	for n := indent + 2; ; n *= 2 {
		p, err := fr.br.Peek(min(n, fr.br.Size()))
		if k := leadingSpace(p); k < len(p) {
			return k > indent && p[k] != '\n' && p[k] != '\r'
		}
		if err != nil || len(p) == fr.br.Size() {
			// End of input, or white space longer than the buffer.
			return false
		}
	}
}

func leadingSpace(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\t') {
		n++
	}
	return n
}

// appendLine appends one line, without its line ending, to fr.buf.
func (fr *fieldReader) appendLine() error {
	start := len(fr.buf)
	for {
		b, err := fr.br.ReadSlice('\n')
		fr.n += int64(len(b))
		if fr.limit > 0 && fr.n > fr.limit {
			return errStatusTooLong
		}
		if len(fr.buf)+len(b) > MaxFieldSize+2 {
			if !fr.truncate {
				return errFieldTooLong
			}
			fr.truncated = true
			if err == bufio.ErrBufferFull {
				continue
			}
			b = b[len(b)-min(len(b), 2):] // Keep the line ending.
		}
		fr.buf = append(fr.buf, b...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(fr.buf) > start {
			err = nil
		}
		if err != nil {
			return err
		}
		break
	}
	fr.buf = trimEOL(fr.buf)
	if len(fr.buf) == start {
		return nil
	}
	// A line of only white space counts as blank when it starts a field.
	if start == 0 && isBlank(fr.buf) {
		fr.buf = fr.buf[:0]
	}
	return nil
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// splitField splits "Name: value" into its lower-cased name (in dst, to
// switch on without allocating) and the value without surrounding white
// space.
func splitField(line []byte, dst *[64]byte) (name []byte, value []byte, ok bool) {
	i := 0
	for i < len(line) && line[i] != ':' {
		c := line[i]
		if c <= ' ' || c >= 0x7f || i >= len(dst) {
			// Not a field (RFC 5322 section 3.6.8 field names are printable
			// ASCII without colon), or a name too long to be one we know.
			return nil, nil, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
		i++
	}
	if i == 0 || i == len(line) {
		return nil, nil, false
	}
	return dst[:i], trimSpace(line[i+1:]), true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// canonicalName returns the name as RFC 822 style "Xxx-Yyy", for Extra keys.
func canonicalName(lower []byte) string {
	b := []byte(string(lower))
	up := true
	for i, c := range b {
		if up && 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
		up = c == '-'
	}
	return string(b)
}

// removeComments removes RFC 5322 comments "(...)", which may nest, outside
// quoted strings, and trims the result. The first top-level comment's text
// is returned separately.
func removeComments(s string) (rest, comment string) {
	if strings.IndexByte(s, '(') < 0 {
		return strings.TrimSpace(s), ""
	}
	var b strings.Builder
	depth := 0
	quoted := false
	cstart := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (quoted || depth > 0):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
			}
			i++
		case quoted:
			if c == '"' {
				quoted = false
			}
			b.WriteByte(c)
		case c == '(':
			if depth == 0 && cstart < 0 {
				cstart = i + 1
			}
			depth++
		case c == ')' && depth > 0:
			depth--
			if depth == 0 && cstart >= 0 && comment == "" {
				comment = strings.TrimSpace(s[cstart:i])
			}
		case depth > 0:
		default:
			if c == '"' {
				quoted = true
			}
			b.WriteByte(c)
		}
	}
	if depth > 0 && cstart >= 0 && comment == "" {
		comment = strings.TrimSpace(s[cstart:])
	}
	return strings.TrimSpace(b.String()), comment
}

// parseTyped parses "type; value" as used by address, MTA name and
// diagnostic fields (RFC 3464 section 2.1.2). The type is lower-cased. A value
// without a type gets type "": so does one whose text before the first ";"
// is not a type's atom, as in "550 5.1.1 <bob@example.org>; user unknown",
// which is all value.
func parseTyped(v string) (typ, value string) {
	i := strings.IndexByte(v, ';')
	if i < 0 {
		return "", strings.TrimSpace(v)
	}
	typ = strings.TrimSpace(v[:i])
	if typ != "" && !isToken(typ) {
		return "", strings.TrimSpace(v)
	}
	return strings.ToLower(typ), strings.TrimSpace(v[i+1:])
}

// parseAddress parses an address field (Original-Recipient,
// Final-Recipient). Comments and angle brackets around the address are
// removed, and the \x{HEX} escapes of the utf-8 type are decoded (RFC 6533
// section 3).
func parseAddress(v string) (typ, addr string, err error) {
	v, _ = removeComments(v)
	typ, addr = parseTyped(v)
	if typ == "" && strings.IndexByte(addr, '@') > 0 {
		typ = AddressTypeRFC822
	}
	if len(addr) > 2 && addr[0] == '<' && addr[len(addr)-1] == '>' {
		addr = strings.TrimSpace(addr[1 : len(addr)-1])
	}
	if typ == AddressTypeUTF8 {
		addr, err = decodeEmbeddedUnicode(addr)
	}
	return typ, addr, err
}

// decodeEmbeddedUnicode replaces each \x{HEX} with its character, RFC 6533
// section 3 (EmbeddedUnicodeChar).
func decodeEmbeddedUnicode(s string) (string, error) {
	if !strings.Contains(s, `\x{`) {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, `\x{`)
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i+3:]
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return "", errors.New(`unterminated \x{ escape`)
		}
		n, err := strconv.ParseUint(s[:j], 16, 32)
		if err != nil || j > 6 || !utf8.ValidRune(rune(n)) || n < 0x20 || n == 0x7f {
			// An ASCII control character (CR and LF among them) is none a
			// field can carry, RFC 5322 section 2.2, and none Compose
			// escapes.
			return "", fmt.Errorf(`bad \x{%s} escape`, s[:j])
		}
		b.WriteRune(rune(n))
		s = s[j+1:]
	}
}

// unescapeText decodes \x{HEX} escapes in free text, as Compose writes
// non-ASCII text into a 7-bit delivery-status; text with a malformed escape
// is returned unchanged.
func unescapeText(s string) string {
	if u, err := decodeEmbeddedUnicode(s); err == nil {
		return u
	}
	return s
}

// parseMTA parses an MTA-name field (Reporting-MTA, Remote-MTA, ...,
// RFC 3464 section 2.2.2) and returns only the name.
func parseMTA(v string) string {
	name, _ := parseMTAIP(v)
	return name
}

// parseMTAIP parses an MTA-name field and returns the name and the IP
// address if one follows it: "name [ip]" (Courier) or a comment that starts
// with the address, "name (ip)" (Compose, mox) or "name (ip, the server for
// the domain ...)" (qmail, Gmail). A name that is only "[ip]" is kept.
func parseMTAIP(v string) (string, netip.Addr) {
	rest, comment := removeComments(v)
	_, name := parseTyped(rest)
	if i := strings.LastIndexByte(name, '['); i >= 0 && strings.HasSuffix(name, "]") {
		lit := name[i+1 : len(name)-1]
		if len(lit) > 5 && strings.EqualFold(lit[:5], "ipv6:") {
			lit = lit[5:]
		}
		if ip, err := netip.ParseAddr(lit); err == nil {
			if i > 0 {
				name = strings.TrimSpace(name[:i])
			}
			return name, ip
		}
	}
	if comment != "" {
		end := strings.IndexAny(comment, ", \t;")
		if end < 0 {
			end = len(comment)
		}
		if ip, err := netip.ParseAddr(strings.Trim(comment[:end], "[]")); err == nil {
			return name, ip
		}
	}
	return name, netip.Addr{}
}

// parseStatus returns the RFC 3463 status code at the start of the Status
// field (RFC 3464 section 2.3.4), and the first comment, also with an
// error. Text after the code, as some MTAs write, is dropped.
func parseStatus(v string) (code, comment string, err error) {
	rest, comment := removeComments(v)
	if rest == "" {
		return "", comment, nil
	}
	code = rest
	if i := strings.IndexAny(code, " \t"); i >= 0 {
		code = code[:i]
	}
	if !validStatus(code) {
		return "", comment, fmt.Errorf("%q is not a status code", rest)
	}
	return code, comment, nil
}

// validStatus checks class "." subject "." detail, RFC 3463 section 2, with
// the module's one parser of enhanced status codes.
func validStatus(s string) bool {
	_, err := bounce.ParseEnhancedCode(s)
	return err == nil
}

// parseAction parses the Action field, RFC 3464 section 2.3.3, accepting the
// synonyms some MTAs use.
func parseAction(v string) (Action, error) {
	v, _ = removeComments(v)
	a := Action(strings.ToLower(v))
	if a.Valid() {
		return a, nil
	}
	switch a {
	case "expired", "failure":
		// Expiry is reported as failed with status 4.4.7, RFC 3464 section 2.3.3.
		return ActionFailed, nil
	case "deliverable", "success":
		return ActionDelivered, nil
	}
	return "", fmt.Errorf("unknown action %q", v)
}
