package dsn

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// dateLayout is the RFC 5322 section 3.3 date-time format, for the Date
// header field.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// statusDateLayout is the date-time of the delivery-status fields
// (Arrival-Date, Last-Attempt-Date, Will-Retry-Until): without the optional
// day of week (RFC 5322 section 3.3), which some DSN readers (mox's) do not
// accept.
const statusDateLayout = "02 Jan 2006 15:04:05 -0700"

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
// (RFC 6533 section 3, also when type rfc822 was asked for), non-ASCII in
// the Diagnostic-Code and Status comment is written as \x{HEX} (which Parse
// decodes), and an original with 8-bit bytes, NUL bytes or overlong lines is
// returned as header only, base64 encoded if the header needs it. With
// SMTPUTF8 such an original is returned in full as message/global in
// base64 (RFC 6532 section 3.7 allows any encoding).
//
// Lines end in CRLF and are at most 998 octets. Line endings of the text
// and the original (CRLF, LF or a bare CR) are written as CRLF, except that
// a text with a bare CR, a NUL byte or an overlong line is quoted-printable
// (RFC 2045 sections 2.7 and 6.7), which keeps it as it is. Fields are
// folded only before white space, so no line is white space alone (RFC 5322
// section 4); a "\n" in DiagnosticCode folds there, so each line of a
// multi-line SMTP reply stays on a line of its own with its code and
// continuation mark; unfolded, it reads as a space. In free text
// (Diagnostic-Code, Status comment) a run of more than 900 octets without
// white space is split between two characters (never inside a UTF-8
// sequence or a \x{HEX} escape) by a fold, which adds a space when unfolded;
// free text is trimmed of surrounding white space and invalid UTF-8 in it
// becomes U+FFFD. A Subject that cannot be written as it is (non-ASCII
// without SMTPUTF8, "=?", or a long run) is written as RFC 2047
// encoded-words. Any other value that cannot be folded is refused with
// ErrFold.
//
// Host names (ReportingMTA, DSNGateway, ReceivedFromMTA, RemoteMTA) are
// written as A-labels; a name that is neither a host name nor an IP address
// gives ErrNotHostName. Remote-MTA carries Recipient.RemoteIP as a comment,
// "dns; mx.example.net (192.0.2.1)". MessageID must be a valid msg-id
// (ErrMsgID); OriginalMessageID and References entries that are not (or
// that are non-ASCII without SMTPUTF8) are left out of In-Reply-To and
// References. Dates in the delivery-status part have no day of week.
//
// Date and MessageID come from m; the boundary is derived from MessageID and
// checked against the content, so the output is a pure function of m. The
// header has Auto-Submitted: auto-replied (RFC 3834 section 5), and
// In-Reply-To and References when OriginalMessageID is set. An empty Subject
// or TextBody gets a generic one. The DSN should be sent with an empty
// envelope sender (RFC 3464 section 2).
//
// Compose returns an error for a missing required field, a value it cannot
// write (see above), a field with a line break where none is allowed, or an
// error from w. It writes nothing to w for an invalid m.
func (m *Message) Compose(w io.Writer) error {
	if err := m.check(); err != nil {
		return err
	}
	c := composer{w: w, buf: make([]byte, 0, 4096), utf8: m.SMTPUTF8}

	text := m.TextBody
	if text == "" {
		text = defaultText(m)
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	textEnc, textCanonical := bodyEncoding(text, m.SMTPUTF8)
	orig := m.original()

	boundary := makeBoundary(m.MessageID, func(b string) bool {
		d := "--" + b
		return textEnc != "quoted-printable" && strings.Contains(text, d) ||
			orig.enc != "base64" && bytes.Contains(orig.data, []byte(d)) ||
			m.statusContains(d)
	})

	// Message header, RFC 5322 section 3.6.
	c.field("From", "<"+m.From+">")
	c.field("To", "<"+m.To+">")
	c.field("Subject", c.subject(m.subject()))
	c.date("Date", m.Date, dateLayout)
	c.field("Message-ID", msgID(m.MessageID))
	inReplyTo, refs := m.references()
	if inReplyTo != "" {
		c.field("In-Reply-To", inReplyTo)
	}
	if refs != "" {
		c.field("References", refs)
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
	c.text(text, textEnc, textCanonical)

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
			c.crlf(orig.data, orig.canonical)
		}
	}
	c.delimiter(boundary, true)
	c.flush()
	if c.err != nil {
		return fmt.Errorf("dsn: writing: %w", c.err)
	}
	return nil
}

// statusContains reports whether a delivery-status value contains s; a
// folded line starting with a boundary would end the part for a lenient
// reader.
func (m *Message) statusContains(s string) bool {
	for _, v := range []string{m.OriginalEnvelopeID, m.FutureReleaseRequest} {
		if strings.Contains(v, s) {
			return true
		}
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		for _, v := range []string{r.FinalRecipient, r.OriginalRecipient, r.StatusComment, r.DiagnosticCode, r.FinalLogID} {
			if strings.Contains(v, s) {
				return true
			}
		}
	}
	return false
}

// subject returns the Subject value: as it is when it can be written so,
// else as encoded-words (RFC 2047), which also carry a run too long for a
// line without adding a space.
func (c *composer) subject(s string) string {
	s = strings.Trim(s, " \t")
	word, _ := runs(s)
	if word > maxRun || strings.Contains(s, "=?") || !c.utf8 && !isASCII(s) {
		return encodeWords(s)
	}
	return s
}

// writeStatus writes the delivery-status fields, RFC 3464 sections 2.2, 2.3.
// The values were checked by check.
func (m *Message) writeStatus(c *composer) {
	if m.OriginalEnvelopeID != "" {
		c.field("Original-Envelope-Id", text7(m.OriginalEnvelopeID, c.utf8))
	}
	c.mta("Reporting-MTA", m.ReportingMTA, netip.Addr{})
	if m.DSNGateway != "" {
		c.mta("DSN-Gateway", m.DSNGateway, netip.Addr{})
	}
	if m.ReceivedFromMTA != "" {
		c.mta("Received-From-MTA", m.ReceivedFromMTA, netip.Addr{})
	}
	if !m.ArrivalDate.IsZero() {
		c.date("Arrival-Date", m.ArrivalDate, statusDateLayout)
	}
	if m.FutureReleaseRequest != "" {
		c.field("Future-Release-Request", m.FutureReleaseRequest) // RFC 4865 section 5.
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		c.str("\r\n")
		if r.OriginalRecipient != "" {
			c.address("Original-Recipient", m, r.OriginalRecipientType, r.OriginalRecipient)
		}
		c.address("Final-Recipient", m, r.FinalRecipientType, r.FinalRecipient)
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
		if comment := cleanText(r.StatusComment); comment != "" {
			c.fieldText("Status", status+" ("+escapeText(comment, c.utf8, true)+")", true)
		} else {
			c.field("Status", status)
		}
		if r.RemoteMTA != "" {
			c.mta("Remote-MTA", r.RemoteMTA, r.RemoteIP)
		}
		if diag := cleanText(r.DiagnosticCode); diag != "" {
			typ := strings.ToLower(r.DiagnosticType)
			if typ == "" {
				typ = "smtp"
			}
			// RFC 3464 section 2.3.6; each line of a multi-line reply as
			// the remote sent it, on a line of its own.
			c.fieldText("Diagnostic-Code", typ+"; "+escapeText(diag, c.utf8, false), true)
		}
		if !r.LastAttemptDate.IsZero() {
			c.date("Last-Attempt-Date", r.LastAttemptDate, statusDateLayout)
		}
		if r.FinalLogID != "" {
			c.field("Final-Log-ID", text7(r.FinalLogID, c.utf8))
		}
		if !r.WillRetryUntil.IsZero() {
			c.date("Will-Retry-Until", r.WillRetryUntil, statusDateLayout)
		}
	}
}

// mta writes an MTA-name field of type dns, RFC 3464 section 2.2.2, with
// the IP address, if valid and not the name itself, as a comment.
func (c *composer) mta(name, host string, ip netip.Addr) {
	h, _ := hostName(host) // Checked.
	v := "dns; " + h
	if ip = ip.WithZone(""); ip.IsValid() && h != ip.String() && h != "["+ip.String()+"]" {
		v += " (" + ip.String() + ")"
	}
	c.field(name, v)
}

// address writes an Original- or Final-Recipient field.
func (c *composer) address(name string, m *Message, typ, addr string) {
	t, v := m.addressType(typ, addr)
	c.field(name, t+"; "+v)
}

// addressType returns the address type and the address as written: type
// rfc822 for ASCII, utf-8 for non-ASCII (also when rfc822 was asked for,
// which cannot hold it, RFC 6533 section 3), and a utf-8 address as
// utf-8-addr-xtext or, with SMTPUTF8, utf-8-addr-unitext.
func (m *Message) addressType(typ, addr string) (string, string) {
	typ = strings.ToLower(typ)
	if typ == "" || typ == AddressTypeRFC822 {
		typ = AddressTypeRFC822
		if !isASCII(addr) {
			typ = AddressTypeUTF8
		}
	}
	if typ == AddressTypeUTF8 {
		addr = addrXtext(addr, m.SMTPUTF8)
	}
	return typ, addr
}

// references returns the In-Reply-To and References values: the
// OriginalMessageID and References that are valid msg-ids for this DSN.
// Others (malformed, or non-ASCII without SMTPUTF8) are left out: they only
// serve threading, and a DSN without them is still delivered.
func (m *Message) references() (inReplyTo, refs string) {
	if m.OriginalMessageID != "" {
		if id := msgID(m.OriginalMessageID); validMsgID(id, m.SMTPUTF8) {
			inReplyTo = id
		}
	}
	if m.References == "" {
		return inReplyTo, inReplyTo
	}
	var b strings.Builder
	for _, id := range strings.Fields(m.References) {
		if validMsgID(id, m.SMTPUTF8) && id != inReplyTo {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(id)
		}
	}
	if inReplyTo != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(inReplyTo)
	}
	return inReplyTo, b.String()
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
// ASCII with short lines and without NUL, 8bit for UTF-8 when SMTPUTF8
// allows it, quoted-printable otherwise (RFC 2045 sections 2.7, 2.8 and 6).
// canonical reports whether the lines already end in CRLF.
func bodyEncoding(s string, smtputf8 bool) (enc string, canonical bool) {
	longest, canonical := lineStats(s)
	switch {
	case longest > 998 || strings.IndexByte(s, 0) >= 0:
		return "quoted-printable", canonical
	case isASCII(s):
		return "7bit", canonical
	case smtputf8:
		return "8bit", canonical
	}
	return "quoted-printable", canonical
}

// originalPart is the chosen third part.
type originalPart struct {
	data      []byte // Nil for none.
	ctype     string
	enc       string
	canonical bool // Line endings are all CRLF.
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
	// 7bit and 8bit content has no NUL and no lines over 998 octets (RFC
	// 2045 sections 2.7, 2.8).
	var canonical bool
	scan := func(b []byte) (ascii, longLines bool) {
		var longest int
		longest, canonical = lineStats(b)
		return scan8bit(b), longest > 998 || bytes.IndexByte(b, 0) >= 0
	}
	var ascii, longLines bool
	if full {
		ascii, longLines = scan(data)
		if !m.SMTPUTF8 && (!ascii || longLines) {
			// message/rfc822 allows only 7bit, 8bit and binary (RFC 2046
			// section 5.2.1), and we promise 7-bit output.
			full = false
		}
	}
	if !full {
		data = headerOf(data)
		ascii, longLines = scan(data)
	}
	p := originalPart{data: data, canonical: canonical}
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
func (c *composer) date(name string, t time.Time, layout string) {
	c.str(name)
	c.str(": ")
	c.buf = t.AppendFormat(c.buf, layout)
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

// text writes the text part body in the chosen encoding.
func (c *composer) text(s, enc string, canonical bool) {
	if enc != "quoted-printable" {
		if canonical {
			c.str(s)
			if s != "" && s[len(s)-1] != '\n' {
				c.str("\r\n")
			}
			return
		}
		c.crlf([]byte(s), false)
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

// crlf writes b with every line ending (CRLF, LF or a bare CR) as CRLF,
// and ending in CRLF. canonical says that b's line endings are all CRLF
// already (see lineStats).
func (c *composer) crlf(b []byte, canonical bool) {
	if len(b) == 0 {
		return
	}
	if canonical {
		c.bytes(b)
		if b[len(b)-1] != '\n' {
			c.str("\r\n")
		}
		return
	}
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			c.bytes(b)
			c.str("\r\n")
			return
		}
		c.bytes(b[:i])
		c.str("\r\n")
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
		b = b[i+1:]
	}
}

// base64 writes b base64 encoded in lines of 76 characters, RFC 2045
// section 6.8, with its line endings as CRLF first, the canonical form of
// text and messages (RFC 2049 section 4).
func (c *composer) base64(b []byte) {
	var in [57]byte
	var line [76]byte
	n := 0
	put := func(ch byte) {
		in[n] = ch
		n++
		if n == len(in) {
			base64.StdEncoding.Encode(line[:], in[:])
			c.bytes(line[:])
			c.str("\r\n")
			n = 0
		}
	}
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if ch == '\r' || ch == '\n' {
			if ch == '\r' && i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			put('\r')
			put('\n')
			continue
		}
		put(ch)
	}
	if n > 0 {
		base64.StdEncoding.Encode(line[:], in[:n])
		c.bytes(line[:base64.StdEncoding.EncodedLen(n)])
		c.str("\r\n")
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

// lineStats walks the lines of s once: the longest line without its line
// ending, and whether every line ending is CRLF (no bare CR or LF), so the
// content can be written as it is.
func lineStats[T string | []byte](s T) (longest int, canonical bool) {
	lfs, crlfs := 0, 0
	for rest := s; len(rest) > 0; {
		i := indexLF(rest)
		if i < 0 {
			longest = max(longest, len(rest))
			break
		}
		n := i
		if n > 0 && rest[n-1] == '\r' {
			n--
			crlfs++
		}
		lfs++
		longest = max(longest, n)
		rest = rest[i+1:]
	}
	return longest, lfs == crlfs && countCR(s) == crlfs
}

func countCR[T string | []byte](s T) int {
	switch v := any(s).(type) {
	case string:
		return strings.Count(v, "\r")
	case []byte:
		return bytes.Count(v, []byte("\r"))
	}
	return 0
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
