package dsn

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Errors of Compose for values it cannot write. They are wrapped with the
// field's name.
var (
	// ErrNotHostName: an MTA name that is neither a host name (an IDNA
	// U-label name is written as its A-label) nor an IP address.
	ErrNotHostName = errors.New("not a host name or ip address")
	// ErrMsgID: a Message-ID that is not a msg-id (RFC 5322 section 3.6.4), or one with
	// non-ASCII characters in a DSN without SMTPUTF8.
	ErrMsgID = errors.New("not a valid message-id")
	// ErrNeedsSMTPUTF8: a non-ASCII value that a 7-bit DSN cannot carry.
	ErrNeedsSMTPUTF8 = errors.New("non-ascii value needs SMTPUTF8")
	// ErrFold: a value that cannot be folded into lines of at most 998
	// octets without changing it (RFC 5322 section 2.1.1).
	ErrFold = errors.New("value cannot be folded into lines of 998 octets")
)

// check verifies the required fields and that every value can be written
// as it is; Compose writes nothing before it passes.
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
	fail := func(field string, err error) error { return fmt.Errorf("dsn: compose: %s: %w", field, err) }
	single := []struct{ name, v string }{
		{"From", m.From}, {"To", m.To}, {"Subject", m.Subject}, {"MessageID", m.MessageID},
		{"OriginalMessageID", m.OriginalMessageID}, {"References", m.References},
		{"OriginalEnvelopeID", m.OriginalEnvelopeID}, {"ReportingMTA", m.ReportingMTA},
		{"DSNGateway", m.DSNGateway}, {"ReceivedFromMTA", m.ReceivedFromMTA},
		{"FutureReleaseRequest", m.FutureReleaseRequest},
	}
	for _, f := range single {
		if err := checkLine(f.v); err != nil {
			return fail(f.name, err)
		}
	}
	for _, f := range []struct{ name, v string }{{"From", m.From}, {"To", m.To}} {
		if err := checkMailbox(f.v); err != nil {
			return fail(f.name, err)
		}
	}
	if !validMsgID(msgID(m.MessageID), m.SMTPUTF8) {
		return fail("MessageID", ErrMsgID)
	}
	for _, f := range []struct{ name, v string }{
		{"ReportingMTA", m.ReportingMTA}, {"DSNGateway", m.DSNGateway}, {"ReceivedFromMTA", m.ReceivedFromMTA},
	} {
		if f.v == "" {
			continue
		}
		if _, err := hostName(f.v); err != nil {
			return fail(f.name, err)
		}
	}
	for _, f := range []struct{ name, v string }{
		{"OriginalEnvelopeID", text7(m.OriginalEnvelopeID, m.SMTPUTF8)},
		{"FutureReleaseRequest", m.FutureReleaseRequest},
	} {
		if err := checkIdent(f.v); err != nil {
			return fail(f.name, err)
		}
	}
	if !isASCII(m.FutureReleaseRequest) {
		return fail("FutureReleaseRequest", ErrNeedsSMTPUTF8)
	}
	if err := checkSubject(m.Subject); err != nil {
		return fail("Subject", err)
	}
	for _, d := range []struct {
		name string
		t    time.Time
	}{{"Date", m.Date}, {"ArrivalDate", m.ArrivalDate}} {
		if err := checkDate(d.t); err != nil {
			return fail(d.name, err)
		}
	}

	for i := range m.Recipients {
		if err := m.checkRecipient(&m.Recipients[i]); err != nil {
			return fmt.Errorf("dsn: compose: recipient %d: %w", i+1, err)
		}
	}
	return nil
}

func (m *Message) checkRecipient(r *Recipient) error {
	fail := func(field string, err error) error { return fmt.Errorf("%s: %w", field, err) }
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
	for _, a := range []struct{ name, typ, addr string }{
		{"FinalRecipient", r.FinalRecipientType, r.FinalRecipient},
		{"OriginalRecipient", r.OriginalRecipientType, r.OriginalRecipient},
	} {
		if a.addr == "" {
			continue
		}
		if err := m.checkAddress(a.typ, a.addr); err != nil {
			return fail(a.name, err)
		}
	}
	if r.DiagnosticType != "" && !isToken(r.DiagnosticType) {
		return fail("DiagnosticType", fmt.Errorf("%q is not a diagnostic type", r.DiagnosticType))
	}
	if r.RemoteMTA != "" {
		if _, err := hostName(r.RemoteMTA); err != nil {
			return fail("RemoteMTA", err)
		}
	}
	if err := checkIdent(text7(r.FinalLogID, m.SMTPUTF8)); err != nil {
		return fail("FinalLogID", err)
	}
	for _, f := range []struct{ name, v string }{
		{"StatusComment", escapeText(cleanText(r.StatusComment), m.SMTPUTF8, true)},
		{"DiagnosticCode", escapeText(cleanText(r.DiagnosticCode), m.SMTPUTF8, false)},
	} {
		if _, space := runs(f.v); space > maxSpace {
			return fail(f.name, fmt.Errorf("%w: %d octets of white space in a row", ErrFold, space))
		}
		if len(f.v) > MaxFieldSize/2 {
			// Parse reads fields up to MaxFieldSize; this leaves room.
			return fail(f.name, fmt.Errorf("longer than %d octets", MaxFieldSize/2))
		}
	}
	for _, d := range []struct {
		name string
		t    time.Time
	}{{"LastAttemptDate", r.LastAttemptDate}, {"WillRetryUntil", r.WillRetryUntil}} {
		if err := checkDate(d.t); err != nil {
			return fail(d.name, err)
		}
	}
	return nil
}

// checkLine refuses control characters other than tab, which would break
// the field structure.
func checkLine(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return fmt.Errorf("control character %#02x", c)
		}
	}
	return nil
}

// checkIdent checks a value that must be written unchanged: it can be folded
// only at its white space.
func checkIdent(v string) error {
	if !utf8.ValidString(v) {
		return errors.New("invalid utf-8")
	}
	if word, space := runs(v); word > maxRun || space > maxSpace {
		return ErrFold
	}
	if len(v) > MaxFieldSize/2 {
		// Parse reads fields up to MaxFieldSize; this leaves room.
		return fmt.Errorf("longer than %d octets", MaxFieldSize/2)
	}
	return nil
}

// checkMailbox checks From and To, written as "<addr>". A space is allowed
// inside (a quoted local-part, RFC 5321 section 4.1.2), not around it.
func checkMailbox(addr string) error {
	if strings.ContainsAny(addr, "\t<>") || strings.TrimSpace(addr) != addr {
		return errors.New("tab, angle bracket or white space around address")
	}
	return checkIdent(addr)
}

// checkAddress checks an Original- or Final-Recipient address of type typ.
// Parse reads "(...)" as a comment and strips "<>", so these are refused, as
// are white space at either end and tabs.
func (m *Message) checkAddress(typ, addr string) error {
	if typ != "" && !isToken(typ) {
		return fmt.Errorf("%q is not an address type", typ)
	}
	if strings.ContainsAny(addr, "()<>\t") {
		return errors.New("parenthesis, angle bracket or tab in address")
	}
	if strings.TrimSpace(addr) != addr {
		return errors.New("white space around address")
	}
	if !utf8.ValidString(addr) {
		return errors.New("invalid utf-8")
	}
	t, v := m.addressType(typ, addr)
	if !isASCII(v) && !m.SMTPUTF8 {
		return fmt.Errorf("address type %s: %w", t, ErrNeedsSMTPUTF8)
	}
	return checkIdent(v)
}

// checkSubject refuses invalid UTF-8, and a Subject so long that its
// encoded form may exceed what Parse reads of a field (MaxFieldSize);
// everything else can be encoded.
func checkSubject(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("invalid utf-8")
	}
	if len(s) > MaxFieldSize/4 {
		return fmt.Errorf("longer than %d octets", MaxFieldSize/4)
	}
	if _, space := runs(s); space > maxSpace {
		return fmt.Errorf("%w: %d octets of white space in a row", ErrFold, space)
	}
	return nil
}

// checkDate requires a year RFC 5322 section 3.3 allows: 1900 or later, and
// four digits.
func checkDate(t time.Time) error {
	if !t.IsZero() && (t.Year() < 1900 || t.Year() > 9999) {
		return fmt.Errorf("year %d outside 1900-9999", t.Year())
	}
	return nil
}

// isToken reports whether s is a non-empty atom of letters, digits and "-",
// as address and diagnostic types are (RFC 3464 section 2.1.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// cleanText prepares free text (Diagnostic-Code, Status comment): without
// white space around it (Unicode white space too, which a reader may trim),
// and with invalid UTF-8 replaced by U+FFFD, so the output is valid UTF-8
// (RFC 6532 section 3.1).
func cleanText(s string) string {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// hostName returns an MTA name for a "dns" type field (RFC 3464 section
// 2.1.2): an ASCII host name as it is, an internationalized one as its
// A-label (RFC 5890), or an IP address, bare or as an address literal.
func hostName(s string) (string, error) {
	if s == "" {
		return "", ErrNotHostName
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if ip, err := netip.ParseAddr(strings.TrimPrefix(s[1:len(s)-1], "IPv6:")); err == nil && ip.Zone() == "" {
			return s, nil
		}
		return "", fmt.Errorf("%w: %q", ErrNotHostName, s)
	}
	if maybeIP(s) {
		if ip, err := netip.ParseAddr(s); err == nil && ip.Zone() == "" {
			return s, nil
		}
	}
	if !isASCII(s) {
		a, err := idna.Lookup.ToASCII(s)
		if err != nil {
			return "", fmt.Errorf("%w: %q: %w", ErrNotHostName, s, err)
		}
		s = a
	}
	if len(s) > 254 || !validLabels(strings.TrimSuffix(s, ".")) {
		return "", fmt.Errorf("%w: %q", ErrNotHostName, s)
	}
	return s, nil
}

// maybeIP reports whether s could be an IP address: it has a colon (IPv6)
// or only digits and dots (IPv4). Host names skip ParseAddr, whose error
// allocates.
func maybeIP(s string) bool {
	if strings.IndexByte(s, ':') >= 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// validLabels checks the labels of a host name (RFC 1123 section 2.1, with
// "_" as found in real host names): 1 to 63 letters, digits, "-" or "_",
// not starting or ending with "-".
func validLabels(s string) bool {
	for {
		label, rest, more := strings.Cut(s, ".")
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
		if !more {
			return true
		}
		s = rest
	}
}

// validMsgID reports whether id is "<" dot-atom-text "@" (dot-atom-text /
// "[" dtext "]") ">", RFC 5322 section 3.6.4 without the obsolete forms;
// with SMTPUTF8, atext includes non-ASCII UTF-8 (RFC 6532 section 3.2).
func validMsgID(id string, utf8Allowed bool) bool {
	if len(id) < 5 || len(id) > maxRun || id[0] != '<' || id[len(id)-1] != '>' || !utf8.ValidString(id) {
		return false
	}
	left, right, ok := strings.Cut(id[1:len(id)-1], "@")
	if !ok || !dotAtom(left, utf8Allowed) {
		return false
	}
	if strings.HasPrefix(right, "[") && strings.HasSuffix(right, "]") && len(right) >= 2 {
		for i := 1; i < len(right)-1; i++ {
			// dtext: printable ASCII except "[", "]" and "\".
			if c := right[i]; c < 33 || c > 126 || c == '[' || c == ']' || c == '\\' {
				if !(c >= 0x80 && utf8Allowed) {
					return false
				}
			}
		}
		return true
	}
	return dotAtom(right, utf8Allowed)
}

// dotAtom reports whether s is dot-atom-text, RFC 5322 section 3.2.3.
func dotAtom(s string, utf8Allowed bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			if !utf8Allowed {
				return false
			}
			continue
		}
		if !isAtext(c) && c != '.' {
			return false
		}
	}
	return true
}

func isAtext(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}
