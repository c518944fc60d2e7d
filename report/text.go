package report

import (
	"net/mail"
	"regexp"
	"strconv"
	"strings"
)

// Limits on the text searched, so a huge text part costs bounded work.
const (
	maxHeadLen   = 128 << 10 // Bounce text searched for recipients and replies.
	maxBlockLine = 12        // Lines after a recipient taken as its diagnostic.
	// DSN recipients whose missing diagnostic is searched for in the text;
	// each search reads the whole text.
	maxTextSearches = 50
)

// bounceText joins the text parts and splits off the returned message that
// many bounces append to their explanation. It returns the explanation.
func bounceText(texts []string) (head, tail string) {
	all := strings.Join(texts, "\n")
	off := 0
	for off < len(all) {
		end := strings.IndexByte(all[off:], '\n')
		if end < 0 {
			end = len(all)
		} else {
			end += off
		}
		if off > 0 && isSeparator(all[off:end]) {
			head, tail = all[:off], all[end:]
			break
		}
		off = end + 1
	}
	if head == "" && tail == "" {
		head = all
	}
	if len(head) > maxHeadLen {
		head = head[:maxHeadLen]
	}
	return head, tail
}

// separators are phrases of lines that start the returned copy of the
// original message, lower case.
var separators = []string{
	"below this line is a copy of the message",
	"this is a copy of the message",
	"copy of the original message",
	"copy of your message",
	"copy of the message",
	"original message follows",
	"unsent message follows",
	"returned message follows",
	"message header follows",
	"header of the original message",
	"headers of the original message",
	"original message header",
	"message headers follow",
	"headers follow",
	"returned message",
	"content-type: message/rfc822",
	"content-type: text/rfc822-headers",
	"original message",
}

func isSeparator(line string) bool {
	l := strings.ToLower(strings.TrimSpace(line))
	if l == "" {
		return false
	}
	for _, s := range separators {
		if !strings.Contains(l, s) {
			continue
		}
		// A bare "original message" only counts in a decorated line such as
		// "----- Original message -----", not inside a sentence.
		if (s == "original message" || s == "returned message") && !strings.ContainsAny(l[:1], "-=*_[<") {
			continue
		}
		return true
	}
	return false
}

var (
	addrRe = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)
	// A labelled recipient, e.g. "Recipient address: x@y", "RCPT TO:<x@y>",
	// "Original-Recipient: rfc822;x@y".
	labelRe = regexp.MustCompile(`(?i)(?:recipient|rcpt to|address|addressee|user|mailbox|delivered to|deliver to)(?:\s+address)?\s*[:=]\s*(?:rfc822;\s*)?<?([A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9.-]+)`)
)

// extractor finds recipients and their diagnostics in a bounce's text.
type extractor struct {
	header  mail.Header
	head    string
	lines   []string
	exclude map[string]bool // Lower-case addresses that are not failed recipients.
	strict  bool            // Also exclude postmaster and similar local parts, and the bounce's own addresses.
	sender  map[string]bool // Lower-case addresses named as the sender in a transcript.
	low     []string        // lines in lower case, made on first use by lower.
}

// lower returns the lines of the text in lower case.
func (x *extractor) lower() []string {
	if x.low == nil {
		x.low = make([]string, len(x.lines))
		for i, l := range x.lines {
			x.low[i] = strings.ToLower(l)
		}
	}
	return x.low
}

func newExtractor(h mail.Header, head string) *extractor {
	x := &extractor{header: h, head: head, lines: strings.Split(head, "\n"), exclude: map[string]bool{}, sender: map[string]bool{}, strict: true}
	for _, k := range []string{"From", "To", "Cc", "Reply-To", "Return-Path", "Sender", "Errors-To"} {
		for _, v := range h[k] {
			for _, a := range addrRe.FindAllString(v, 10) {
				x.exclude[strings.ToLower(a)] = true
			}
		}
	}
	// The sender, where the transcript names it.
	for _, l := range x.lines {
		if i := indexFold(l, "mail from:"); i >= 0 {
			if a := addrRe.FindString(l[i:]); a != "" {
				x.sender[strings.ToLower(a)] = true
			}
		}
	}
	return x
}

// excluded reports whether a is not a plausible failed recipient.
func (x *extractor) excluded(a string) bool {
	la := strings.ToLower(a)
	if x.sender[la] {
		return true
	}
	if !x.strict {
		return false
	}
	if x.exclude[la] {
		return true
	}
	return isBounceSender(la)
}

// isBounceSender reports whether a is an address that bounces come from
// rather than go to.
func isBounceSender(a string) bool {
	lp, _, _ := strings.Cut(strings.ToLower(a), "@")
	switch lp {
	case "mailer-daemon", "postmaster", "mail-daemon", "maildaemon", "mailerdaemon", "no-reply", "noreply":
		return true
	}
	return false
}

// leadingAddress returns the address a line starts with, e.g. "<x@y>:",
// "  x@y", "x@y on <date>", "<x@y>... User unknown".
func leadingAddress(line string) (addr, rest string) {
	s := strings.TrimLeft(line, " \t>*-•")
	// Sendmail transcripts: "554 <x@y>... reason"; the code is part of the
	// reason.
	code := ""
	if len(s) > 5 && isDigits(s[:3]) && s[3] == ' ' && s[4] == '<' {
		code, s = s[:3], s[4:]
	}
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimPrefix(s, `"`)
	loc := addrRe.FindStringIndex(s)
	if loc == nil || loc[0] != 0 {
		return "", ""
	}
	addr = s[:loc[1]]
	rest = s[loc[1]:]
	// "(envelope-from\n <x@y>);" is a folded header field, not a recipient.
	if strings.HasPrefix(rest, ">)") || strings.HasPrefix(rest, ")") {
		return "", ""
	}
	rest = strings.TrimLeft(rest, `>":;,.`)
	// "x@y is not a valid ..." counts too, but "x@y wrote:" is quoting.
	if strings.HasPrefix(strings.TrimSpace(strings.ToLower(rest)), "wrote") {
		return "", ""
	}
	rest = strings.TrimSpace(rest)
	if code != "" {
		rest = strings.TrimSpace(code + " " + rest)
	}
	return addr, rest
}

// candidate is a recipient address and where the text names it.
type candidate struct {
	addr       string
	line       int
	rest       string // Text after the address on its line.
	positional bool   // The line starts with the address; the lines after it are about it.
}

// findRecipients returns the failed recipient addresses named in the text,
// in order, each with its line. If the strict rules find none, it tries again
// allowing the bounce's own addresses and postmaster-like local parts, which
// some bounces really are about.
func (x *extractor) findRecipients(original []mail.Header) []candidate {
	x.strict = true
	if c := x.findRecipients1(original); len(c) > 0 {
		return c
	}
	x.strict = false
	return x.findRecipients1(original)
}

func (x *extractor) findRecipients1(original []mail.Header) []candidate {
	var c []candidate
	seen := map[string]bool{}
	add := func(a string, line int, rest string, positional bool) {
		la := strings.ToLower(a)
		if seen[la] || x.excluded(a) {
			return
		}
		seen[la] = true
		c = append(c, candidate{a, line, rest, positional})
	}
	// Exim names them in a header.
	for _, v := range x.header["X-Failed-Recipients"] {
		for _, a := range addrRe.FindAllString(v, MaxRecipients) {
			line, rest, positional := x.leadingLineOf(a)
			add(a, line, rest, positional)
		}
	}
	if len(c) > 0 {
		return c
	}
	// A line that starts with an address names a recipient even if it is
	// the bounce's own To: a message can bounce back to its sender.
	strict := x.strict
	x.strict = false
	for i, l := range x.lines {
		if a, rest := leadingAddress(l); a != "" && !(strict && isBounceSender(a)) {
			add(a, i, rest, true)
		}
	}
	x.strict = strict
	if len(c) > 0 {
		return c
	}
	for i, l := range x.lines {
		for _, m := range labelRe.FindAllStringSubmatch(l, 10) {
			if strings.Contains(strings.ToLower(l), "from") && !strings.Contains(strings.ToLower(l), "to") {
				continue
			}
			// The lines after the label may give the reason: KDDI's
			// "Could not be delivered to: <x@y>" then "As their mailbox is
			// full."
			add(strings.TrimRight(m[1], "."), i, "", strings.Contains(strings.ToLower(l), "delivered to:"))
		}
	}
	if len(c) > 0 {
		return c
	}
	for i, l := range x.lines {
		for _, a := range addrRe.FindAllString(l, 10) {
			add(a, i, "", false)
		}
	}
	if len(c) > 0 {
		return c
	}
	// Last resort: the addressee of the returned message, when it has one
	// only; of several, the header does not say which failed, and the
	// envelope recipient may be none of them.
	var addressee string
	for _, h := range original {
		for _, k := range []string{"To", "Cc"} {
			for _, v := range h[k] {
				for _, a := range addrRe.FindAllString(v, 10) {
					if addressee != "" && !strings.EqualFold(a, addressee) {
						return c
					}
					addressee = a
				}
			}
		}
	}
	if addressee != "" {
		add(addressee, -1, "", false)
	}
	return c
}

// isAddress reports whether s is a plain addr-spec.
func isAddress(s string) bool {
	loc := addrRe.FindStringIndex(s)
	return loc != nil && loc[0] == 0 && loc[1] == len(s)
}

// generatedBy returns the address in Exim's "generated by x@y" line, which
// names the address a pipe or file delivery was made for.
func (x *extractor) generatedBy() string {
	for _, l := range x.lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "generated by ") {
			if a := addrRe.FindString(t); a != "" {
				return a
			}
		}
	}
	return ""
}

// leadingLineOf returns the first line that starts with address a, and the
// rest of that line, or else the first line naming it.
func (x *extractor) leadingLineOf(a string) (line int, rest string, positional bool) {
	for i, l := range x.lines {
		if b, r := leadingAddress(l); b != "" && strings.EqualFold(a, b) {
			return i, r, true
		}
	}
	for i, l := range x.lines {
		for _, m := range labelRe.FindAllStringSubmatch(l, 10) {
			if strings.EqualFold(strings.TrimRight(m[1], "."), a) {
				return i, "", true
			}
		}
	}
	return x.lineOf(a), "", false
}

// maxContext bounds textRecipient.Context.
const maxContext = 1024

// paragraph returns the lower-case lines from line up to the next empty
// line, joined by spaces, at most maxContext bytes; "" for line -1.
func (x *extractor) paragraph(line int) string {
	if line < 0 {
		return ""
	}
	var b strings.Builder
	low := x.lower()
	for i := line; i < len(low) && b.Len() < maxContext; i++ {
		l := strings.TrimSpace(low[i])
		if l == "" && i > line {
			break
		}
		b.WriteString(l)
		b.WriteByte(' ')
	}
	s := b.String()
	return s[:min(len(s), maxContext)]
}

// lineOf returns the first line naming address a, or -1.
func (x *extractor) lineOf(a string) int {
	la := strings.ToLower(a)
	for i, l := range x.lower() {
		ll := strings.TrimSpace(l)
		// Skip a quoted header summary ("To: x@y") of the original message.
		if strings.HasPrefix(ll, "to:") || strings.HasPrefix(ll, "from:") || strings.HasPrefix(ll, "cc:") {
			continue
		}
		if strings.Contains(ll, la) {
			return i
		}
	}
	return -1
}

// recipients finds the failed recipients and their diagnostics in the text.
func (x *extractor) recipients(original []mail.Header) []textRecipient {
	cands := x.findRecipients(original)
	if len(cands) > MaxRecipients+1 {
		cands = cands[:MaxRecipients+1]
	}
	starts := map[int]bool{}
	for _, c := range cands {
		starts[c.line] = true
	}
	global := x.globalReply()
	var rcpts []textRecipient
	for i, c := range cands {
		diag := x.block(c, starts)
		if !hasCode(diag) && global != "" && !strings.Contains(diag, global) {
			diag = strings.TrimSpace(diag + " " + global)
		}
		if diag == "" && c.line >= 0 && !c.positional && !isLabelLine(x.lines[c.line]) {
			// "User mailbox exceeds allowed size: x@y": the line is the reason.
			diag = strings.TrimSpace(x.lines[c.line])
		}
		if diag == "" {
			diag = x.sentence()
		}
		r := textRecipient{Address: c.addr, Diagnostic: diag}
		if i < maxTextSearches {
			// Each search may read the whole text.
			r.Command = x.command(c.addr, c.line)
			r.Context = x.paragraph(c.line)
		}
		r.Code, r.Status = codes(diag)
		if r.Status == "" {
			r.Status = exchangeStatus(diag)
		}
		r.Action = x.action(r)
		rcpts = append(rcpts, r)
	}
	return rcpts
}

// complete fills in what a DSN part left out from the text.
func (x *extractor) complete(rcpts []textRecipient) {
	global := ""
	var starts map[int]bool // Lines that start a recipient's text, for block.
	var cands []candidate
	for i := range rcpts {
		r := &rcpts[i]
		if !isAddress(r.Address) && (strings.Contains(r.Address, "@") || strings.HasPrefix(r.Address, "/") || strings.HasPrefix(r.Address, "|")) {
			// A pipe or file recipient, or a mangled one: Exim names the
			// address it came from; else take the text's recipient at the same
			// position.
			if cands == nil {
				cands = x.findRecipients(nil)
			}
			if a := x.generatedBy(); a != "" {
				r.Address = a
			} else if isAddress(r.OriginalRecipient) {
				r.Address = r.OriginalRecipient
			} else if i < len(cands) {
				r.Address = cands[i].addr
			}
		}
		if r.Diagnostic == "" && i < maxTextSearches {
			line, rest, _ := x.leadingLineOf(r.Address)
			if line >= 0 {
				if starts == nil {
					starts = x.leadingLines(rcpts)
				}
				starts[line] = true
				r.Diagnostic = x.block(candidate{r.Address, line, rest, true}, starts)
			}
			if !hasCode(r.Diagnostic) {
				if global == "" {
					global = x.globalReply()
				}
				r.Diagnostic = strings.TrimSpace(r.Diagnostic + " " + global)
			}
		}
		if r.Command == "" && i < maxTextSearches {
			r.Command = x.command(r.Address, x.lineOf(r.Address))
		}
		if r.Context == "" && i < maxTextSearches {
			r.Context = x.paragraph(x.lineOf(r.Address))
		}
		code, status := codes(r.Diagnostic)
		if r.Code == 0 {
			r.Code = code
		}
		if r.Status == "" {
			r.Status = status
		}
		if r.Action == "" {
			r.Action = x.action(*r)
		}
	}
}

// leadingLines returns the lines that start with one of the recipients'
// addresses (see leadingLineOf), so that one recipient's text ends where
// the next one's starts: OpenSMTPD lists "x@example.org: 550 ..." lines
// one after the other.
func (x *extractor) leadingLines(rcpts []textRecipient) map[int]bool {
	starts := map[int]bool{}
	for i := range rcpts {
		if i >= maxTextSearches {
			break
		}
		if line, _, _ := x.leadingLineOf(rcpts[i].Address); line >= 0 {
			starts[line] = true
		}
	}
	return starts
}

// block returns the text about candidate c: the rest of its line and the
// following lines up to a blank line or the next recipient.
func (x *extractor) block(c candidate, starts map[int]bool) string {
	var parts []string
	transcript := c.positional && c.line >= 0 && isTranscriptLine(x.lines[c.line])
	if c.line > 0 && c.positional {
		// Sendmail transcripts give the remote reply just before the
		// address line: "<<< 550 ...".
		if prev := strings.TrimSpace(x.lines[c.line-1]); strings.HasPrefix(prev, "<<< ") {
			parts = append(parts, strings.TrimSpace(prev[4:]))
		}
	}
	if transcript {
		// "554 <x@y>... reason" is complete; the next line is about the
		// next recipient.
		return strings.Join(append(parts, c.rest), " ")
	}
	if c.rest != "" {
		parts = append(parts, c.rest)
	}
	if c.line < 0 || !c.positional {
		return strings.Join(parts, " ")
	}
	for i := c.line + 1; i < len(x.lines) && i <= c.line+maxBlockLine; i++ {
		if starts[i] {
			break
		}
		l := strings.TrimSpace(x.lines[i])
		if l == "" {
			if len(parts) > 0 && !strings.HasSuffix(parts[len(parts)-1], ":") {
				break
			}
			continue
		}
		parts = append(parts, l)
	}
	return joinReply(parts)
}

// command returns the SMTP command that the reply about address a, on
// line, answered, as a Sendmail session transcript shows it: a ">>> "
// command line, then the "<<< " reply, then a line naming a; or a ">>> RCPT"
// line naming a that a "<<< " error reply follows. Empty when the text has
// no transcript.
func (x *extractor) command(a string, line int) string {
	if !strings.Contains(x.head, ">>> ") {
		return ""
	}
	la, low := strings.ToLower(a), x.lower()
	before := func(i int) string {
		if i < 2 || !strings.HasPrefix(strings.TrimSpace(x.lines[i-1]), "<<< ") {
			return ""
		}
		v := transcriptVerb(x.lines[i-2])
		if v == "DATA" && (strings.Contains(low[i-1], la) || i+1 < len(x.lines) && strings.HasPrefix(strings.TrimSpace(x.lines[i+1]), "<<< ")) {
			// PIPELINING (RFC 2920): the RCPT TO replies arrive after DATA
			// was sent, and DATA's own reply ("503 need RCPT command",
			// "554 no valid recipients") follows. A reply that names the
			// recipient, or that another reply follows, answered RCPT TO.
			return "RCPT"
		}
		return v
	}
	if v := before(line); v != "" || a == "" {
		return v
	}
	for i, l := range x.lines {
		if !strings.Contains(low[i], la) {
			continue
		}
		if v := transcriptVerb(l); v != "" && i+1 < len(x.lines) {
			reply := strings.TrimSpace(x.lines[i+1])
			if strings.HasPrefix(reply, "<<< 4") || strings.HasPrefix(reply, "<<< 5") {
				return v
			}
		}
		if v := before(i); v != "" {
			return v
		}
	}
	return ""
}

// transcriptVerb returns the command verb of a transcript line such as
// ">>> RCPT To:<x@y>", upper case, or empty.
func transcriptVerb(line string) string {
	t, ok := strings.CutPrefix(strings.TrimSpace(line), ">>> ")
	if !ok {
		return ""
	}
	verb, _, _ := strings.Cut(strings.TrimSpace(t), " ")
	verb = strings.ToUpper(strings.TrimRight(verb, ":"))
	if len(verb) < 4 || !isLetters(verb) {
		return ""
	}
	return verb
}

func isLetters(s string) bool {
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// exchangeCodes maps the diagnostic codes of Exchange 2000/2003's NDRs
// ("MSEXCH:IMS:... 0 (000C05A6) Unknown Recipient") to the enhanced status
// code (RFC 3463) that says the same.
var exchangeCodes = map[string]string{
	"000C05A6": "5.1.1", // Unknown recipient.
	"000C0595": "5.1.4", // Ambiguous recipient.
	"00010256": "5.5.3", // Too many recipients.
	"000D06B5": "5.1.6", // No proxy address for the recipient.
	"00120270": "5.4.6", // Too many hops: a routing loop.
	"00050311": "5.6.3", // Conversion to Internet format failed.
	"000502CC": "5.6.3", // Conversion to Internet format failed.
	"000B0981": "5.7.0", // The remote server does not support AUTH.
}

// exchangeStatus returns the enhanced status code for the Exchange NDR
// code in diag, or empty.
func exchangeStatus(diag string) string {
	i := strings.Index(diag, "MSEXCH:")
	if i < 0 {
		return ""
	}
	rest := diag[i:]
	for {
		j := strings.IndexByte(rest, '(')
		if j < 0 || j+10 > len(rest) {
			return ""
		}
		if rest[j+9] == ')' {
			if st, ok := exchangeCodes[strings.ToUpper(rest[j+1:j+9])]; ok {
				return st
			}
		}
		rest = rest[j+1:]
	}
}

// isLabelLine reports whether line only labels an address, as "To: x@y" or
// "RCPT TO: x@y" in a summary of the original message, and so says nothing
// about the failure.
func isLabelLine(line string) bool {
	l := strings.ToLower(strings.TrimSpace(line))
	for _, p := range []string{"to:", "from:", "cc:", "rcpt to", "mail from", "recipient", "original-recipient", "final-recipient"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// isTranscriptLine reports whether line is a Sendmail transcript line such
// as "554 <x@y>... Host unknown".
func isTranscriptLine(line string) bool {
	s := strings.TrimSpace(line)
	return len(s) > 5 && isDigits(s[:3]) && s[3] == ' ' && s[4] == '<'
}

// hasCode reports whether s holds an SMTP reply code or enhanced status code.
func hasCode(s string) bool {
	c, st := codes(s)
	return c != 0 || st != ""
}

// codes returns the first SMTP reply code and enhanced status code in s.
func codes(s string) (code int, status string) {
	// A quoted greeting or earlier positive reply ("220 mx ESMTP ready",
	// "250 ok" of MAIL FROM in a transcript) comes before the reply that
	// failed: a 2xx code counts only when no 4xx or 5xx follows.
	for _, m := range replyCodes(s, maxReplyCodes) {
		c, _ := strconv.Atoi(m)
		if code == 0 {
			code = c
		}
		if c >= 400 {
			code = c
			break
		}
	}
	// So for the enhanced status code: a 2.x.x counts only when no 4.x.x
	// or 5.x.x follows.
	off := 0
	for n := 0; n < maxReplyCodes; n++ {
		i, j := findStatusIndex(s[off:])
		if i < 0 {
			break
		}
		if status == "" || status[0] == '2' {
			status = s[off+i : off+j]
		}
		if status[0] != '2' {
			break
		}
		off += j
	}
	return code, status
}

// maxReplyCodes bounds the reply codes codes looks at in one diagnostic.
const maxReplyCodes = 16

// globalReply returns the first SMTP reply in the text with its continuation
// lines, for bounces that give the reply apart from the recipient.
func (x *extractor) globalReply() string {
	for i, l := range x.lines {
		if !hasCode(l) {
			continue
		}
		parts := []string{strings.TrimSpace(l)}
		for j := i + 1; j < len(x.lines) && j < i+maxBlockLine; j++ {
			n := x.lines[j]
			t := strings.TrimSpace(n)
			if t == "" {
				break
			}
			// Continuation: indented, or the same code again (multi-line reply).
			if n[0] == ' ' || n[0] == '\t' || len(t) > 4 && t[:3] == strings.TrimSpace(l)[:min(3, len(strings.TrimSpace(l)))] {
				parts = append(parts, t)
				continue
			}
			break
		}
		return joinReply(parts)
	}
	return ""
}

// multiRe finds the start of a multi-line SMTP reply: a code followed by
// "-" (RFC 5321 section 4.2.1), with an optional enhanced status code.
var multiRe = regexp.MustCompile(`(?:^|[^\w.])([245][0-9][0-9])-`)

// joinReply joins lines into one line. The code prefix of the continuation
// lines of a multi-line reply ("550-5.1.1 ", "550 5.1.1 ") is removed, so
// the reply reads as one sentence: phrases a classifier searches for are not
// split by codes.
func joinReply(lines []string) string {
	open := ""
	for i, l := range lines {
		if open != "" && len(l) > 4 && l[:3] == open && (l[3] == '-' || l[3] == ' ') {
			last := l[3] == ' '
			l = strings.TrimSpace(l[4:])
			if i, j := findStatusIndex(l); i == 0 {
				l = strings.TrimSpace(l[j:])
			}
			lines[i] = l
			if last {
				open = ""
			}
			continue
		}
		open = ""
		if m := multiRe.FindStringSubmatch(l); m != nil {
			open = m[1]
		}
	}
	return strings.Join(lines, " ")
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// sentence returns the first paragraph of the text that reads like an error,
// for bounces that give no reply at all.
func (x *extractor) sentence() string {
	for _, p := range strings.Split(x.head, "\n\n") {
		l := strings.ToLower(p)
		for _, w := range errorWords {
			if strings.Contains(l, w) {
				return strings.Join(strings.Fields(p), " ")
			}
		}
	}
	return ""
}

var errorWords = []string{"unknown", "not exist", "no such", "invalid", "full", "quota", "rejected", "refused", "denied", "blocked", "failed", "not found", "unable", "could not", "couldn't", "undeliverable", "expired", "timed out", "too large"}

// temporaryWords in a bounce without codes mean delivery is still attempted.
var temporaryWords = []string{"temporary", "temporarily", "will be retried", "will retry", "will continue", "still trying", "delayed", "deferred", "has not yet been delivered", "not yet been delivered", "will keep trying", "retry", "warning:"}

// action judges "failed" or "delayed" from the codes, else from the wording.
func (x *extractor) action(r textRecipient) string {
	switch r.Class() {
	case 4:
		return "delayed"
	case 2:
		return "delivered"
	}
	if r.Status != "" || r.Code != 0 {
		return "failed"
	}
	l := strings.ToLower(x.head)
	if strings.Contains(l, "permanent") || strings.Contains(l, "given up") || strings.Contains(l, "giving up") {
		return "failed"
	}
	for _, w := range temporaryWords {
		if strings.Contains(l, w) {
			return "delayed"
		}
	}
	return "failed"
}
