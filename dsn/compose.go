package dsn

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// dateLayout is the RFC 5322 section 3.3 date-time format.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// Compose writes m as a DSN to w: a multipart/report; report-type=
// delivery-status message (RFC 6522) with three parts: the text/plain
// TextBody, the message/delivery-status fields (RFC 3464), and, if Original
// is set, the original message (message/rfc822) or its header
// (text/rfc822-headers), as chosen by Ret and MaxOriginal.
//
// With SMTPUTF8 the parts are those of RFC 6533: message/global-delivery-status,
// message/global or message/global-headers, 8-bit UTF-8 text, and addresses of
// type utf-8. Without it the output is 7-bit: non-ASCII text is
// quoted-printable, a non-ASCII address gets type utf-8 with \x{HEX} escapes
// (RFC 6533 section 3), and an original with 8-bit bytes or overlong lines is
// returned as header only, base64 encoded if the header needs it.
//
// Lines end in CRLF and are at most 998 octets: long fields are folded at
// spaces, and a run of more than 900 octets without a space is split by a
// fold (which adds a space when unfolded). Date and MessageID come from m; the
// boundary is derived from MessageID and checked against the content, so the
// output is a pure function of m. The header has Auto-Submitted: auto-replied
// (RFC 3834 section 5), and In-Reply-To and References when
// OriginalMessageID is set. An empty Subject or TextBody gets a generic one.
// The DSN should be sent with an empty envelope sender (RFC 3464 section 2).
//
// Compose returns an error for a missing required field, a field with a line
// break where none is allowed, or an error from w.
func (m *Message) Compose(w io.Writer) error {
	if err := m.check(); err != nil {
		return err
	}
	c := composer{w: w, buf: make([]byte, 0, 4096), utf8: m.SMTPUTF8}

	text := m.TextBody
	if text == "" {
		text = defaultText(m)
	}
	textEnc := bodyEncoding(text, m.SMTPUTF8)
	orig := m.original()

	boundary := makeBoundary(m.MessageID, func(b string) bool {
		d := "--" + b
		return textEnc != "quoted-printable" && strings.Contains(text, d) ||
			orig.enc != "base64" && bytes.Contains(orig.data, []byte(d))
	})

	// Message header, RFC 5322 section 3.6.
	c.field("From", "<"+m.From+">")
	c.field("To", "<"+m.To+">")
	c.field("Subject", c.encodeWords(m.subject()))
	c.date("Date", m.Date)
	c.field("Message-ID", msgID(m.MessageID))
	if m.OriginalMessageID != "" {
		id := msgID(m.OriginalMessageID)
		c.field("In-Reply-To", id)
		refs := id
		if m.References != "" {
			refs = strings.TrimSpace(m.References) + " " + id
		}
		c.field("References", refs)
	} else if m.References != "" {
		c.field("References", strings.TrimSpace(m.References))
	}
	c.field("Auto-Submitted", "auto-replied") // RFC 3834 section 5.
	c.field("MIME-Version", "1.0")
	c.field("Content-Type", `multipart/report; report-type=delivery-status; boundary="`+boundary+`"`)
	c.str("\r\nThis is a MIME-formatted delivery status notification (RFC 3464).\r\n")

	// Part 1: human-readable text, RFC 6522 section 3.
	c.delimiter(boundary, false)
	charset := "us-ascii"
	if !isASCII(text) {
		charset = "utf-8"
	}
	c.field("Content-Type", "text/plain; charset="+charset)
	c.field("Content-Transfer-Encoding", textEnc)
	c.str("\r\n")
	c.text(text, textEnc)

	// Part 2: machine-readable status, RFC 3464 section 2.
	c.delimiter(boundary, false)
	if m.SMTPUTF8 {
		c.field("Content-Type", "message/global-delivery-status") // RFC 6533 section 6.1.
		c.field("Content-Transfer-Encoding", "8bit")
	} else {
		c.field("Content-Type", "message/delivery-status")
		c.field("Content-Transfer-Encoding", "7bit")
	}
	c.str("\r\n")
	m.writeStatus(&c)

	// Part 3: original message or header, RFC 6522 section 3.
	if orig.data != nil {
		c.delimiter(boundary, false)
		c.field("Content-Type", orig.ctype)
		c.field("Content-Transfer-Encoding", orig.enc)
		c.str("\r\n")
		if orig.enc == "base64" {
			c.base64(orig.data)
		} else {
			c.crlf(orig.data)
		}
	}
	c.delimiter(boundary, true)
	c.flush()
	if c.err != nil {
		return fmt.Errorf("dsn: writing: %w", c.err)
	}
	return nil
}

// writeStatus writes the delivery-status fields, RFC 3464 sections 2.2, 2.3.
func (m *Message) writeStatus(c *composer) {
	if m.OriginalEnvelopeID != "" {
		c.field("Original-Envelope-Id", c.text7(m.OriginalEnvelopeID))
	}
	c.field("Reporting-MTA", "dns; "+m.ReportingMTA)
	if m.DSNGateway != "" {
		c.field("DSN-Gateway", "dns; "+m.DSNGateway)
	}
	if m.ReceivedFromMTA != "" {
		c.field("Received-From-MTA", "dns; "+m.ReceivedFromMTA)
	}
	if !m.ArrivalDate.IsZero() {
		c.date("Arrival-Date", m.ArrivalDate)
	}
	if m.FutureReleaseRequest != "" {
		c.field("Future-Release-Request", m.FutureReleaseRequest) // RFC 4865 section 5.
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		c.str("\r\n")
		if r.OriginalRecipient != "" {
			c.field("Original-Recipient", c.address(r.OriginalRecipientType, r.OriginalRecipient))
		}
		c.field("Final-Recipient", c.address(r.FinalRecipientType, r.FinalRecipient))
		c.field("Action", string(r.Action))
		status := r.Status
		if status == "" {
			// The field is required, RFC 3464 section 2.3.4.
			switch r.Action {
			case ActionFailed:
				status = "5.0.0"
			case ActionDelayed:
				status = "4.0.0"
			default:
				status = "2.0.0"
			}
		}
		if r.StatusComment != "" {
			status += " (" + c.text7(r.StatusComment) + ")"
		}
		c.field("Status", status)
		if r.RemoteMTA != "" {
			c.field("Remote-MTA", "dns; "+r.RemoteMTA)
		}
		if r.DiagnosticCode != "" {
			typ := r.DiagnosticType
			if typ == "" {
				typ = "smtp"
			}
			c.field("Diagnostic-Code", typ+"; "+c.text7(r.DiagnosticCode))
		}
		if !r.LastAttemptDate.IsZero() {
			c.date("Last-Attempt-Date", r.LastAttemptDate)
		}
		if r.FinalLogID != "" {
			c.field("Final-Log-ID", c.text7(r.FinalLogID))
		}
		if !r.WillRetryUntil.IsZero() {
			c.date("Will-Retry-Until", r.WillRetryUntil)
		}
	}
}

// check verifies the required fields and that single-line fields have no
// line breaks.
func (m *Message) check() error {
	missing := func(f string) error { return fmt.Errorf("dsn: compose: missing %s", f) }
	switch {
	case m.From == "":
		return missing("From")
	case m.To == "":
		return missing("To")
	case m.MessageID == "":
		return missing("MessageID")
	case m.Date.IsZero():
		return missing("Date")
	case m.ReportingMTA == "":
		return missing("ReportingMTA")
	case len(m.Recipients) == 0:
		return missing("Recipients")
	}
	if !m.SMTPUTF8 && (!isASCII(m.From) || !isASCII(m.To)) {
		return errors.New("dsn: compose: non-ascii From or To needs SMTPUTF8")
	}
	single := []struct{ name, v string }{
		{"From", m.From}, {"To", m.To}, {"Subject", m.Subject}, {"MessageID", m.MessageID},
		{"OriginalMessageID", m.OriginalMessageID}, {"References", m.References},
		{"OriginalEnvelopeID", m.OriginalEnvelopeID}, {"ReportingMTA", m.ReportingMTA},
		{"DSNGateway", m.DSNGateway}, {"ReceivedFromMTA", m.ReceivedFromMTA},
		{"FutureReleaseRequest", m.FutureReleaseRequest},
	}
	for _, f := range single {
		if err := checkLine(f.v); err != nil {
			return fmt.Errorf("dsn: compose: %s: %w", f.name, err)
		}
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		fail := func(field string, err error) error {
			return fmt.Errorf("dsn: compose: recipient %d: %s: %w", i+1, field, err)
		}
		if r.FinalRecipient == "" {
			return fail("FinalRecipient", errors.New("missing"))
		}
		if !r.Action.Valid() {
			return fail("Action", fmt.Errorf("invalid action %q", r.Action))
		}
		if r.Status != "" && !validStatus(r.Status) {
			return fail("Status", fmt.Errorf("%q is not a status code", r.Status))
		}
		for _, f := range []struct{ name, v string }{
			{"FinalRecipient", r.FinalRecipient}, {"FinalRecipientType", r.FinalRecipientType},
			{"OriginalRecipient", r.OriginalRecipient}, {"OriginalRecipientType", r.OriginalRecipientType},
			{"StatusComment", r.StatusComment}, {"RemoteMTA", r.RemoteMTA},
			{"DiagnosticType", r.DiagnosticType}, {"FinalLogID", r.FinalLogID},
		} {
			if err := checkLine(f.v); err != nil {
				return fail(f.name, err)
			}
		}
		if strings.ContainsAny(r.StatusComment, "()") {
			return fail("StatusComment", errors.New("contains parenthesis"))
		}
		if err := checkLine(strings.ReplaceAll(r.DiagnosticCode, "\n", " ")); err != nil {
			return fail("DiagnosticCode", err)
		}
	}
	return nil
}

// checkLine refuses control characters other than tab, which would break
// the field structure.
func checkLine(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' && !(c == '\r' && i+1 < len(s) && s[i+1] == '\n') || c == 0x7f {
			return fmt.Errorf("control character %#02x", c)
		}
	}
	return nil
}

func msgID(id string) string {
	id = strings.TrimSpace(id)
	if strings.HasPrefix(id, "<") {
		return id
	}
	return "<" + id + ">"
}

func (m *Message) subject() string {
	if m.Subject != "" {
		return m.Subject
	}
	switch m.Recipients[0].Action {
	case ActionFailed:
		return "Undelivered Mail Returned to Sender"
	case ActionDelayed:
		return "Delayed Mail (still being retried)"
	}
	return "Delivery Status Notification"
}

func defaultText(m *Message) string {
	var b strings.Builder
	b.WriteString("This is the mail system at " + m.ReportingMTA + ".\n\n")
	for _, r := range m.Recipients {
		fmt.Fprintf(&b, "<%s>: %s", r.FinalRecipient, r.Action)
		if r.DiagnosticCode != "" {
			b.WriteString(": " + strings.ReplaceAll(r.DiagnosticCode, "\n", " "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// bodyEncoding picks the transfer encoding for the text part: 7bit for
// ASCII with short lines, 8bit for UTF-8 when SMTPUTF8 allows it,
// quoted-printable otherwise (RFC 2045 section 6).
func bodyEncoding(s string, smtputf8 bool) string {
	if maxLineLen(s) > 998 || !utf8.ValidString(s) || hasBareCR(s) {
		return "quoted-printable"
	}
	if isASCII(s) {
		return "7bit"
	}
	if smtputf8 {
		return "8bit"
	}
	return "quoted-printable"
}

// originalPart is the chosen third part.
type originalPart struct {
	data  []byte // Nil for none.
	ctype string
	enc   string
}

// original chooses what to return of the original message and how.
func (m *Message) original() originalPart {
	if m.Original == nil {
		return originalPart{}
	}
	limit := m.MaxOriginal
	if limit == 0 {
		limit = DefaultMaxOriginal
	}
	data := m.Original
	full := m.Ret != RetHeaders && limit > 0 && len(data) <= limit
	ascii, longLines := scan8bit(data), maxLineLen(data) > 998
	if full && !m.SMTPUTF8 && (!ascii || longLines) {
		// message/rfc822 allows only 7bit, 8bit and binary (RFC 2046 section
		// 5.2.1), and we promise 7-bit output.
		full = false
	}
	if !full {
		data = headerOf(data)
		ascii, longLines = scan8bit(data), maxLineLen(data) > 998
	}
	var p originalPart
	p.data = data
	switch {
	case m.SMTPUTF8 && full:
		p.ctype = "message/global" // RFC 6532 section 3.7.
	case m.SMTPUTF8:
		p.ctype = "message/global-headers" // RFC 6533 section 6.3.
	case full:
		p.ctype = "message/rfc822"
	case ascii && !longLines:
		p.ctype = "text/rfc822-headers" // RFC 6522 section 4.
	default:
		p.ctype = "text/rfc822-headers; charset=utf-8"
	}
	switch {
	case longLines || !m.SMTPUTF8 && !ascii:
		p.enc = "base64"
	case ascii:
		p.enc = "7bit"
	default:
		p.enc = "8bit"
	}
	return p
}

// headerOf returns the header section of msg, without the blank line that
// ends it; all of msg if it has no blank line.
func headerOf(msg []byte) []byte {
	if len(msg) > 0 && msg[0] == '\n' || bytes.HasPrefix(msg, []byte("\r\n")) {
		return msg[:0]
	}
	for i := 0; ; {
		j := bytes.IndexByte(msg[i:], '\n')
		if j < 0 {
			return msg
		}
		i += j + 1
		if bytes.HasPrefix(msg[i:], []byte("\r\n")) || bytes.HasPrefix(msg[i:], []byte("\n")) {
			return msg[:i]
		}
	}
}

// makeBoundary returns a boundary derived from the Message-ID, changed until
// collides reports false. It contains "=_", which quoted-printable and base64
// content cannot contain.
func makeBoundary(messageID string, collides func(string) bool) string {
	// FNV-1a, inline to avoid allocating a hash.Hash.
	h := uint64(14695981039346656037)
	for i := 0; i < len(messageID); i++ {
		h ^= uint64(messageID[i])
		h *= 1099511628211
	}
	base := "=_dsn_" + strconv.FormatUint(h, 36)
	b := base
	for i := 1; collides(b); i++ {
		b = base + "_" + strconv.Itoa(i)
	}
	return b
}

// composer writes through a buffer, remembering the first write error.
type composer struct {
	w    io.Writer
	buf  []byte
	err  error
	utf8 bool
}

func (c *composer) flush() {
	if c.err == nil && len(c.buf) > 0 {
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = c.buf[:0]
}

func (c *composer) str(s string) {
	c.buf = append(c.buf, s...)
	if len(c.buf) >= 4096 {
		c.flush()
	}
}

func (c *composer) bytes(b []byte) {
	if len(b) >= 4096 {
		c.flush()
		if c.err == nil {
			_, c.err = c.w.Write(b)
		}
		return
	}
	c.buf = append(c.buf, b...)
	if len(c.buf) >= 4096 {
		c.flush()
	}
}

// date writes a date-time field, RFC 5322 section 3.3.
func (c *composer) date(name string, t time.Time) {
	c.str(name)
	c.str(": ")
	c.buf = t.AppendFormat(c.buf, dateLayout)
	c.str("\r\n")
}

func (c *composer) delimiter(boundary string, closing bool) {
	// The CRLF before "--" belongs to the delimiter, RFC 2046 section 5.1.1.
	c.str("\r\n--")
	c.str(boundary)
	if closing {
		c.str("--")
	}
	c.str("\r\n")
}

// field writes "name: value" folded at spaces into lines of at most 78
// octets where possible and 998 always (RFC 5322 section 2.1.1). A "\n" in
// value forces a fold.
func (c *composer) field(name, value string) {
	c.str(name)
	c.str(":")
	n := len(name) + 1
	first := true
	for rest, more := value, true; more; {
		var line string
		line, rest, more = strings.Cut(rest, "\n")
		line = strings.TrimRight(line, "\r")
		if !first {
			c.str("\r\n")
			n = 0
			if !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
				c.str(" ")
				n = 1
			}
		} else {
			c.str(" ")
			n++
		}
		first = false
		n = c.foldLine(line, n)
	}
	c.str("\r\n")
}

func (c *composer) foldLine(s string, n int) int {
	for i := 0; s != ""; i++ {
		// A word includes the white space before it; folding happens before
		// that white space.
		j := 1
		for j < len(s) && s[j] != ' ' {
			j++
		}
		word := s[:j]
		s = s[j:]
		if i > 0 && n+len(word) > 78 && word[0] == ' ' && n > 1 {
			c.str("\r\n")
			n = 0
		}
		for n+len(word) > 900 {
			k := max(900-n, 1)
			c.str(word[:k])
			c.str("\r\n ")
			n = 1
			word = word[k:]
		}
		c.str(word)
		n += len(word)
	}
	return n
}

// encodeWords returns s, RFC 2047 encoded if it needs to be for a 7-bit
// header.
func (c *composer) encodeWords(s string) string {
	if c.utf8 || isASCII(s) {
		return s
	}
	return mime.QEncoding.Encode("utf-8", s)
}

// text7 returns s for a delivery-status field: as is for
// message/global-delivery-status, else with non-ASCII characters written as
// \x{HEX} (RFC 6533 section 3).
func (c *composer) text7(s string) string {
	if c.utf8 || isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, `\x{%X}`, r)
		}
	}
	return b.String()
}

// address returns "type; address" for Original- and Final-Recipient,
// RFC 3464 section 2.3.2, RFC 6533 section 3.
func (c *composer) address(typ, addr string) string {
	if typ == "" {
		typ = AddressTypeRFC822
		if !isASCII(addr) {
			typ = AddressTypeUTF8
		}
	}
	if typ == AddressTypeUTF8 && !c.utf8 {
		// utf-8-addr-xtext: "+", "=", controls and non-ASCII as \x{HEX}.
		var b strings.Builder
		for _, r := range addr {
			if r <= ' ' || r >= 0x7f || r == '+' || r == '=' || r == '\\' {
				fmt.Fprintf(&b, `\x{%X}`, r)
			} else {
				b.WriteRune(r)
			}
		}
		addr = b.String()
	}
	return typ + "; " + addr
}

// text writes the text part body in the chosen encoding.
func (c *composer) text(s, enc string) {
	if enc != "quoted-printable" {
		c.crlf([]byte(s))
		return
	}
	c.flush()
	if c.err != nil {
		return
	}
	qw := quotedprintable.NewWriter(&errWriter{c})
	_, _ = qw.Write([]byte(s))
	_ = qw.Close()
}

// errWriter writes into the composer, keeping its error.
type errWriter struct{ c *composer }

func (w *errWriter) Write(p []byte) (int, error) {
	w.c.bytes(p)
	if w.c.err != nil {
		return 0, w.c.err
	}
	return len(p), nil
}

// crlf writes b with every line ending as CRLF, and ending in CRLF.
func (c *composer) crlf(b []byte) {
	if len(b) == 0 {
		return
	}
	if bytes.Count(b, []byte("\n")) == bytes.Count(b, []byte("\r\n")) {
		c.bytes(b)
	} else {
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				c.bytes(b)
				break
			}
			line := b[:i]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			c.bytes(line)
			c.str("\r\n")
			b = b[i+1:]
		}
		return
	}
	if b[len(b)-1] != '\n' {
		c.str("\r\n")
	}
}

// base64 writes b base64 encoded in lines of 76 characters, RFC 2045
// section 6.8.
func (c *composer) base64(b []byte) {
	var line [76]byte
	for len(b) > 0 {
		n := min(len(b), 57)
		base64.StdEncoding.Encode(line[:], b[:n])
		c.bytes(line[:base64.StdEncoding.EncodedLen(n)])
		c.str("\r\n")
		b = b[n:]
	}
}

func isASCII[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// scan8bit reports whether b is 7-bit, eight bytes at a time.
func scan8bit(b []byte) bool {
	for len(b) >= 8 {
		v := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if v&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	return isASCII(b)
}

func maxLineLen[T string | []byte](s T) int {
	longest := 0
	for len(s) > 0 {
		i := indexLF(s)
		if i < 0 {
			i = len(s)
		}
		n := i
		if n > 0 && s[n-1] == '\r' {
			n--
		}
		longest = max(longest, n)
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return longest
}

func indexLF[T string | []byte](s T) int {
	switch v := any(s).(type) {
	case string:
		return strings.IndexByte(v, '\n')
	case []byte:
		return bytes.IndexByte(v, '\n')
	}
	return -1
}

func hasBareCR(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' && (i+1 == len(s) || s[i+1] != '\n') {
			return true
		}
	}
	return false
}
