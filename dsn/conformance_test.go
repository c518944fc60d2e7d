package dsn

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// conformance is a strict checker of composed DSNs, independent of Parse:
// what RFC 5322, RFC 2045-2049, RFC 3464, RFC 6522, RFC 6532 and RFC 6533
// require of a message we generate. It collects every problem it finds.
type conformance struct {
	smtputf8 bool
	problems []string
}

func (c *conformance) errorf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// checkConformance returns the problems of out, a composed DSN.
func checkConformance(out []byte, smtputf8 bool) []string {
	c := &conformance{smtputf8: smtputf8}
	c.check(out)
	return c.problems
}

// checkConform fails t for every problem of out.
func checkConform(t testing.TB, out []byte, smtputf8 bool) {
	t.Helper()
	for _, p := range checkConformance(out, smtputf8) {
		t.Errorf("conformance: %s", p)
	}
}

// hdrField is one header field, with its physical lines.
type hdrField struct {
	name  string   // As written.
	value string   // Unfolded (CRLF removed), without the space after the colon.
	more  []string // Continuation lines, while reading.
}

func (c *conformance) check(out []byte) {
	// Lines: CRLF only (RFC 5322 section 2.3), no NUL, at most 998 octets
	// (section 2.1.1), 8-bit only with SMTPUTF8 (RFC 6532 section 3).
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		c.errorf("does not end in CRLF")
	}
	for i := 0; i < len(out); i++ {
		switch b := out[i]; {
		case b == '\r' && (i+1 == len(out) || out[i+1] != '\n'):
			c.errorf("bare CR at offset %d", i)
		case b == '\n' && (i == 0 || out[i-1] != '\r'):
			c.errorf("bare LF at offset %d", i)
		case b == 0:
			c.errorf("NUL at offset %d", i)
		case b >= 0x80 && !c.smtputf8:
			c.errorf("8-bit octet %#x at offset %d without SMTPUTF8", b, i)
			return
		}
	}
	for i, line := range bytes.Split(out, []byte("\r\n")) {
		if len(line) > 998 {
			c.errorf("line %d: %d octets", i+1, len(line))
		}
	}
	if len(c.problems) > 0 {
		return
	}

	header, body, ok := bytes.Cut(out, []byte("\r\n\r\n"))
	if !ok {
		c.errorf("no blank line after the header")
		return
	}
	fields := c.header(string(header) + "\r\n")
	c.once(fields, "message header", []string{"From", "Date", "MIME-Version", "Content-Type"},
		[]string{"To", "Subject", "Message-ID", "In-Reply-To", "References", "Auto-Submitted"})
	for _, f := range fields {
		switch strings.ToLower(f.name) {
		case "message-id", "in-reply-to", "references":
			c.msgIDs(f)
		case "subject":
			c.encodedWords(f)
		case "date":
			if _, err := mail.ParseDate(f.value); err != nil {
				c.errorf("Date %q: %v", f.value, err)
			}
		case "from", "to":
			if !angleAddrRe.MatchString(f.value) {
				c.errorf("%s %q is not an angle-addr", f.name, f.value)
			}
		}
	}
	ct := get(fields, "Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		c.errorf("Content-Type %q: %v", ct, err)
		return
	}
	boundary := params["boundary"]
	// RFC 2046 section 5.1.1: 1 to 70 bchars, not ending in space.
	if !boundaryRe.MatchString(boundary) {
		c.errorf("boundary %q", boundary)
		return
	}
	parts := c.multipart(body, boundary)
	if len(parts) != 2 && len(parts) != 3 {
		c.errorf("%d parts, expected 2 or 3 (RFC 6522 section 3)", len(parts))
		return
	}
	c.textPart(parts[0])
	c.statusPart(parts[1])
	if len(parts) == 3 {
		c.originalPart(parts[2])
	}
}

// header splits a header section into fields, checking folding, field
// names and UTF-8.
func (c *conformance) header(h string) []hdrField {
	var fields []hdrField
	for _, line := range strings.SplitAfter(h, "\r\n") {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if strings.Trim(line, " \t\r\n") == "" {
				// RFC 5322 section 4: obsolete, must not be generated.
				c.errorf("white-space-only folded line %q", line)
			}
			if len(fields) == 0 {
				c.errorf("continuation line before first field: %q", line)
				continue
			}
			fields[len(fields)-1].more = append(fields[len(fields)-1].more, strings.TrimSuffix(line, "\r\n"))
			continue
		}
		name, value, ok := strings.Cut(strings.TrimSuffix(line, "\r\n"), ":")
		if !ok || name == "" || strings.IndexFunc(name, func(r rune) bool { return r < 33 || r > 126 }) >= 0 {
			c.errorf("not a field: %q", line)
			continue
		}
		fields = append(fields, hdrField{name: name, value: value})
	}
	for i := range fields {
		f := &fields[i]
		if len(f.more) > 0 {
			f.value += strings.Join(f.more, "")
			f.more = nil
		}
		if !strings.HasPrefix(f.value, " ") {
			c.errorf("field %s: no space after colon", f.name)
		}
		f.value = strings.Trim(f.value, " \t")
		if !utf8.ValidString(f.value) {
			c.errorf("field %s: invalid UTF-8 after unfolding", f.name)
		}
	}
	return fields
}

// once checks that each required field occurs once and each optional one at
// most once.
func (c *conformance) once(fields []hdrField, where string, required, optional []string) {
	count := map[string]int{}
	for _, f := range fields {
		count[strings.ToLower(f.name)]++
	}
	for _, n := range required {
		if k := count[strings.ToLower(n)]; k != 1 {
			c.errorf("%s: %s %d times, required once", where, n, k)
		}
	}
	for _, n := range optional {
		if k := count[strings.ToLower(n)]; k > 1 {
			c.errorf("%s: %s %d times, at most once", where, n, k)
		}
	}
}

func get(fields []hdrField, name string) string {
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

// msgIDs checks a list of msg-ids, RFC 5322 section 3.6.4 (no obsolete
// forms), UTF-8 atext only with SMTPUTF8 (RFC 6532 section 3.2).
func (c *conformance) msgIDs(f hdrField) {
	re := msgIDRe
	if c.smtputf8 {
		re = msgIDUTF8Re
	}
	ids := strings.Fields(f.value)
	if len(ids) == 0 || strings.ToLower(f.name) != "references" && len(ids) != 1 {
		c.errorf("%s: %q: expected one msg-id", f.name, f.value)
	}
	for _, id := range ids {
		if !re.MatchString(id) {
			c.errorf("%s: %q is not a msg-id", f.name, id)
		}
	}
}

// msgIDPattern is RFC 5322 section 3.6.4 msg-id without obsolete forms;
// with SMTPUTF8, atext includes non-ASCII (RFC 6532 section 3.2).
func msgIDPattern(utf8Allowed bool) *regexp.Regexp {
	atext := `[A-Za-z0-9!#$%&'*+\-/=?^_` + "`" + `{|}~]`
	if utf8Allowed {
		atext = `(?:` + atext + `|[^\x00-\x7f])`
	}
	dotAtom := atext + `+(?:\.` + atext + `+)*`
	return regexp.MustCompile(`^<` + dotAtom + `@(?:` + dotAtom + `|\[[!-Z^-~]*\])>$`)
}

var (
	msgIDRe     = msgIDPattern(false)
	msgIDUTF8Re = msgIDPattern(true)
	angleAddrRe = regexp.MustCompile(`^<[^<>\s](?:[^<>\t]*[^<>\s])?@[^<>\s]+>$`)
	boundaryRe  = regexp.MustCompile(`^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$`)
	ipCommentRe = regexp.MustCompile(`^[0-9A-Fa-f.:]+\)$`)
	ipNameRe    = regexp.MustCompile(`^\[(?:IPv6:)?[0-9A-Fa-f.:]+\]$|^[0-9A-Fa-f.:]+$`)
)

var encodedWordRe = regexp.MustCompile(`^=\?([^?*\s]+)(?:\*[^?\s]+)?\?([bBqQ])\?([^?\s]*)\?=$`)

// encodedWords checks the encoded-words of an unstructured field, RFC 2047:
// syntax, decodable text, at most 75 octets per word, and without SMTPUTF8
// no raw non-ASCII.
func (c *conformance) encodedWords(f hdrField) {
	for _, w := range strings.Fields(f.value) {
		if !strings.HasPrefix(w, "=?") || !strings.HasSuffix(w, "?=") {
			if strings.Contains(w, "=?") {
				c.errorf("%s: %q looks like a broken encoded-word", f.name, w)
			}
			continue
		}
		m := encodedWordRe.FindStringSubmatch(w)
		if m == nil {
			c.errorf("%s: bad encoded-word %q", f.name, w)
			continue
		}
		if len(w) > 75 {
			c.errorf("%s: encoded-word of %d octets", f.name, len(w))
		}
		var dec mime.WordDecoder
		s, err := dec.Decode(w)
		if err != nil {
			c.errorf("%s: encoded-word %q: %v", f.name, w, err)
		} else if strings.EqualFold(m[1], "utf-8") && !utf8.ValidString(s) {
			c.errorf("%s: encoded-word %q is not UTF-8", f.name, w)
		}
	}
}

// part is one body part of the multipart.
type part struct {
	fields []hdrField
	body   []byte
}

// multipart splits the body at the delimiters, RFC 2046 section 5.1.1, and
// checks that the boundary occurs nowhere else.
func (c *conformance) multipart(body []byte, boundary string) []part {
	delim := []byte("\r\n--" + boundary)
	body = append([]byte("\r\n"), body...) // The first delimiter may follow the header's blank line.
	if n := bytes.Count(body, []byte("--"+boundary)); n != bytes.Count(body, delim) {
		c.errorf("boundary appears in content")
	}
	for rest := body; ; {
		i := bytes.Index(rest, delim)
		if i < 0 {
			break
		}
		rest = rest[i+len(delim):]
		if !bytes.HasPrefix(rest, []byte("\r\n")) && !bytes.HasPrefix(rest, []byte("--\r\n")) {
			c.errorf("boundary appears in content at the start of a line")
			return nil
		}
	}
	chunks := bytes.Split(body, delim)
	if len(chunks) < 3 {
		c.errorf("no parts")
		return nil
	}
	var parts []part
	for i, ch := range chunks[1:] {
		last := i == len(chunks)-2
		if last {
			if !bytes.HasPrefix(ch, []byte("--")) {
				c.errorf("no closing delimiter")
			}
			break
		}
		if !bytes.HasPrefix(ch, []byte("\r\n")) {
			c.errorf("delimiter followed by %q", ch[:min(len(ch), 10)])
			continue
		}
		ch = ch[2:]
		var p part
		h, b, ok := bytes.Cut(ch, []byte("\r\n\r\n"))
		if bytes.HasPrefix(ch, []byte("\r\n")) {
			h, b, ok = nil, ch[2:], true
		}
		if !ok {
			c.errorf("part %d: no blank line after its header", i+1)
			continue
		}
		if len(h) > 0 {
			p.fields = c.header(string(h) + "\r\n")
		}
		p.body = b
		parts = append(parts, p)
	}
	return parts
}

// decodeBody checks the body against its Content-Transfer-Encoding (RFC
// 2045 sections 2.7, 2.8, 6.7, 6.8) and returns it decoded.
func (c *conformance) decodeBody(name string, p part) []byte {
	cte := strings.ToLower(get(p.fields, "Content-Transfer-Encoding"))
	once := func(where string) {
		c.once(p.fields, where, nil, []string{"Content-Type", "Content-Transfer-Encoding"})
	}
	once(name)
	switch cte {
	case "", "7bit":
		if !isASCII(p.body) {
			c.errorf("%s: 7bit part with 8-bit octets", name)
		}
		return p.body
	case "8bit":
		if !c.smtputf8 {
			c.errorf("%s: 8bit part without SMTPUTF8", name)
		}
		return p.body
	case "quoted-printable":
		for _, line := range strings.Split(strings.TrimSuffix(string(p.body), "\r\n"), "\r\n") {
			if len(line) > 76 {
				c.errorf("%s: quoted-printable line of %d octets", name, len(line))
			}
			if strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
				c.errorf("%s: quoted-printable line ends in white space", name)
			}
			for i := 0; i < len(line); i++ {
				if b := line[i]; b != '\t' && (b < ' ' || b > '~') {
					c.errorf("%s: quoted-printable with octet %#x", name, b)
					break
				}
			}
		}
		d, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(p.body)))
		if err != nil {
			c.errorf("%s: quoted-printable: %v", name, err)
		}
		return d
	case "base64":
		var clean []byte
		for _, line := range strings.Split(strings.TrimSuffix(string(p.body), "\r\n"), "\r\n") {
			if len(line) > 76 {
				c.errorf("%s: base64 line of %d octets", name, len(line))
			}
			clean = append(clean, line...)
		}
		d, err := base64.StdEncoding.DecodeString(string(clean))
		if err != nil {
			c.errorf("%s: base64: %v", name, err)
		}
		return d
	}
	c.errorf("%s: unknown transfer encoding %q", name, cte)
	return nil
}

// textPart checks the human-readable part, RFC 6522 section 3.
func (c *conformance) textPart(p part) {
	mt, params, err := mime.ParseMediaType(get(p.fields, "Content-Type"))
	if err != nil || mt != "text/plain" {
		c.errorf("text part: Content-Type %q %v", mt, err)
	}
	text := c.decodeBody("text part", p)
	c.canonicalText("text part", text)
	switch cs := strings.ToLower(params["charset"]); cs {
	case "us-ascii":
		if !isASCII(text) {
			c.errorf("text part: us-ascii with 8-bit octets")
		}
	case "utf-8":
		if !utf8.Valid(text) {
			c.errorf("text part: utf-8 text is not UTF-8")
		}
	default:
		c.errorf("text part: charset %q", cs)
	}
}

// canonicalText checks decoded text: CRLF line endings only (RFC 2046
// section 4.1.1).
func (c *conformance) canonicalText(name string, b []byte) {
	if bytes.Count(b, []byte("\r")) != bytes.Count(b, []byte("\r\n")) || bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
		c.errorf("%s: decoded content has bare CR or LF", name)
	}
}

var (
	statusRe   = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}(?: \([^()\\]*(?:\\.[^()\\]*)*\))?$`)
	hostRe     = regexp.MustCompile(`^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$`)
	typeRe     = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	escapeRe   = regexp.MustCompile(`\\x\{([0-9A-F]{1,6})\}`)
	xtextRe    = regexp.MustCompile(`^(?:[!-*,-<>-\[\]-~]|\\x\{(?:[1-9A-F]|1[0-9A-F]|20|2B|3D|5C|7F|[89A-F][0-9A-F]|[1-9A-F][0-9A-F]{2,3}|10[0-9A-F]{4}|[1-9A-F][0-9A-F]{4})\})+$`)
	dateNoWeek = regexp.MustCompile(`^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}$`)
)

// statusPart checks the delivery-status fields, RFC 3464 section 2 and RFC
// 6533 section 3.
func (c *conformance) statusPart(p part) {
	mt, _, _ := mime.ParseMediaType(get(p.fields, "Content-Type"))
	want := "message/delivery-status"
	if c.smtputf8 {
		want = "message/global-delivery-status"
	}
	if mt != want {
		c.errorf("status part: Content-Type %q, expected %s", mt, want)
	}
	body := c.decodeBody("status part", p)
	groups := strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n\r\n")
	if len(groups) < 2 {
		c.errorf("status part: %d groups, need per-message and per-recipient", len(groups))
		return
	}
	for i, g := range groups {
		fields := c.header(g + "\r\n")
		where := "per-message fields"
		if i == 0 {
			c.once(fields, where, []string{"Reporting-MTA"},
				[]string{"Original-Envelope-Id", "DSN-Gateway", "Received-From-MTA", "Arrival-Date", "Future-Release-Request"})
		} else {
			where = fmt.Sprintf("recipient %d", i)
			c.once(fields, where, []string{"Final-Recipient", "Action", "Status"},
				[]string{"Original-Recipient", "Remote-MTA", "Diagnostic-Code", "Last-Attempt-Date", "Final-Log-ID", "Will-Retry-Until"})
		}
		for _, f := range fields {
			c.statusField(where, f)
		}
	}
}

func (c *conformance) statusField(where string, f hdrField) {
	bad := func(why string) { c.errorf("%s: %s %q: %s", where, f.name, f.value, why) }
	typ, v, hasType := strings.Cut(f.value, ";")
	typ, v = strings.TrimSpace(typ), strings.TrimSpace(v)
	switch strings.ToLower(f.name) {
	case "reporting-mta", "dsn-gateway", "received-from-mta", "remote-mta":
		if !hasType || !strings.EqualFold(typ, "dns") {
			bad("not of type dns")
			return
		}
		name, comment, _ := strings.Cut(v, " (")
		if comment != "" && !ipCommentRe.MatchString(comment) {
			bad("comment is not an IP address")
		}
		if !hostRe.MatchString(name) && !ipNameRe.MatchString(name) {
			bad("not an ASCII host name (RFC 3464 section 2.1.2, A-labels)")
		}
	case "original-recipient", "final-recipient":
		if !hasType || !typeRe.MatchString(typ) || v == "" {
			bad("not type; address")
			return
		}
		switch strings.ToLower(typ) {
		case "rfc822":
			if !isASCII(v) {
				bad("non-ASCII rfc822 address (RFC 6533 section 3)")
			}
		case "utf-8":
			if !c.smtputf8 && !xtextRe.MatchString(v) {
				bad("not utf-8-addr-xtext (RFC 6533 section 3)")
			}
			if c.smtputf8 && strings.ContainsAny(v, " +=") {
				bad("not utf-8-addr-unitext (RFC 6533 section 3)")
			}
		}
	case "action":
		if !Action(v).Valid() && !Action(typ).Valid() {
			bad("unknown action")
		}
	case "status":
		if !statusRe.MatchString(f.value) {
			bad("not a status code (RFC 3463)")
		}
	case "diagnostic-code":
		if !hasType || !typeRe.MatchString(typ) {
			bad("not type; text")
		}
		for _, m := range escapeRe.FindAllStringSubmatch(v, -1) {
			var r rune
			fmt.Sscanf(m[1], "%X", &r)
			if !utf8.ValidRune(r) {
				bad("escape of an invalid code point")
			}
		}
	case "arrival-date", "last-attempt-date", "will-retry-until":
		if !dateNoWeek.MatchString(f.value) {
			bad("not a date-time without day of week")
		}
		if _, err := mail.ParseDate(f.value); err != nil {
			bad(err.Error())
		}
	}
}

// originalPart checks the returned message or header, RFC 6522 section 3,
// RFC 6533 section 6.
func (c *conformance) originalPart(p part) {
	mt, _, err := mime.ParseMediaType(get(p.fields, "Content-Type"))
	if err != nil {
		c.errorf("original part: %v", err)
	}
	cte := strings.ToLower(get(p.fields, "Content-Transfer-Encoding"))
	switch mt {
	case "message/rfc822":
		// RFC 2046 section 5.2.1.
		if cte != "7bit" && cte != "8bit" && cte != "" {
			c.errorf("original part: message/rfc822 with %s", cte)
		}
	case "text/rfc822-headers", "message/global", "message/global-headers":
		if !c.smtputf8 && mt != "text/rfc822-headers" {
			c.errorf("original part: %s without SMTPUTF8", mt)
		}
	default:
		c.errorf("original part: Content-Type %q", mt)
	}
	d := c.decodeBody("original part", p)
	c.canonicalText("original part", d)
}

// TestConformanceGolden runs the checker on every golden file.
func TestConformanceGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			smtputf8 := bytes.Contains(b, []byte("message/global-delivery-status"))
			checkConform(t, b, smtputf8)
		})
	}
}

// TestConformanceChecker shows that the checker finds what it looks for:
// each case breaks a valid DSN in one way.
func TestConformanceChecker(t *testing.T) {
	m := goldenCases()[0].m
	var buf bytes.Buffer
	if err := m.Compose(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if p := checkConformance([]byte(good), false); len(p) != 0 {
		t.Fatalf("valid DSN: %v", p)
	}
	cases := []struct {
		name, old, new, want string
	}{
		{"bare LF", "Action: failed\r\n", "Action: failed\n", "bare LF"},
		{"bare CR", "Action: failed\r\n", "Action: fai\rled\r\n", "bare CR"},
		{"NUL", "Your message", "Your\x00message", "NUL"},
		{"8-bit", "Your message", "Your méssage", "8-bit octet"},
		{"long line", "Your message", strings.Repeat("x", 999), "1042 octets"},
		{"missing status", "Status: 5.1.1\r\n", "", "Status 0 times"},
		{"twice action", "Action: failed\r\n", "Action: failed\r\nAction: failed\r\n", "Action 2 times"},
		{"bad msg-id", "Message-ID: <dsn-1@mx.example.org>", "Message-ID: <dsn 1@mx.example.org>", "not a msg-id"},
		{"bad encoded-word", "Subject: Undelivered Mail Returned to Sender", "Subject: =?utf-8?x?abc?=", "bad encoded-word"},
		{"white space line", "Action: failed\r\n", "Action: failed\r\n \r\n", "white-space-only"},
		{"boundary in content", "Your message", "--=_dsn_2jml4gknu1zjx", "boundary appears in content"},
		{"weekday date", "Last-Attempt-Date: 01 Mar", "Last-Attempt-Date: Sat, 01 Mar", "without day of week"},
		{"non-ascii host", "Remote-MTA: dns; mx.example.net", "Remote-MTA: dns; m\\x{E9}x.example.net", "not an ASCII host name"},
		{"rfc822 xtext", "Final-Recipient: rfc822; bob@example.net", "Final-Recipient: utf-8; b ob@example.net", "utf-8-addr-xtext"},
		{"7bit in base64", "Content-Transfer-Encoding: 7bit\r\n\r\nReturn-Path", "Content-Transfer-Encoding: base64\r\n\r\nReturn-Path", "base64"},
		{"message/rfc822 base64", "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit", "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64", "message/rfc822 with base64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("test DSN lacks %q", tc.old)
			}
			bad := strings.Replace(good, tc.old, tc.new, 1)
			problems := checkConformance([]byte(bad), false)
			if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
				t.Fatalf("checker found %q, expected a problem with %q", problems, tc.want)
			}
		})
	}
}
