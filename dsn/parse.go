package dsn

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"mime"
	"net/mail"
	"strings"

	"github.com/bouncekit/bouncekit/internal/readers"
)

// Parse reads a whole message that contains a DSN: normally a
// multipart/report (RFC 6522) whose parts are the human-readable text, the
// message/delivery-status or message/global-delivery-status part, and the
// returned message or header. It is lenient: the status part may be anywhere
// in the MIME tree (also inside a forwarded message/rfc822), the report-type
// parameter may be missing, line endings may be CRLF, LF or CR.
//
// It returns the decoded DSN, with the header fields of the message that
// holds the report (From, To, Subject, MessageID, Date), TextBody, the
// OriginalMessageID from the returned message or header part (else from the
// In-Reply-To field), and Ret set by
// that part's type. The returned Part is the top-level MIME entity; its Parts
// tree gives the byte offsets of every part in r. It is returned whenever
// the input is not empty: with ErrNotDSN, with the error of Decode, and with
// the error for more than MaxParts entities (then holding those before the
// limit), so a caller can read any message from it.
//
// A message without a delivery-status part gives ErrNotDSN. A delivery
// status part that cannot be decoded gives the error of Decode. Parse never
// reads more than one line and one field at a time into memory, and limits
// MIME parts and nesting (see MaxParts, MaxDepth).
func Parse(r io.ReaderAt) (*Message, *Part, error) {
	br := readers.Get(io.NewSectionReader(r, 0, math.MaxInt64))
	defer readers.Put(br)
	cr := false
	if head, _ := br.Peek(br.Size()); len(head) == 0 {
		return nil, nil, ErrNotDSN
	} else if crOnlyBytes(head) {
		r, cr = crReaderAt{r}, true
		br.Reset(io.NewSectionReader(r, 0, math.MaxInt64))
	}
	top, err := walk(br, "", cr)
	if err != nil {
		// The entities read before the limit, for readers of the rest.
		return nil, top, err
	}
	ds, path := top.find(isStatusPart, nil)
	if ds == nil && top.noContentType {
		// Some MTAs (and mbox tools) lose the top-level Content-Type. Guess
		// the boundary from the body and look again.
		if b := sniffBoundary(br, top, r); b != "" {
			br.Reset(io.NewSectionReader(r, 0, math.MaxInt64))
			if top2, err := walk(br, b, cr); err == nil {
				if ds, path = top2.find(isStatusPart, nil); ds != nil {
					top = top2
				}
			}
		}
	}
	if ds == nil {
		return nil, top, ErrNotDSN
	}

	br.Reset(ds.Body(r))
	utf8 := ds.MediaType == "message/global-delivery-status"
	m := &Message{SMTPUTF8: utf8}
	d := decoder{fr: fieldReader{br: br, limit: MaxStatusSize}, m: m}
	derr := d.decode()
	if derr != nil && derr != ErrNoRecipients {
		return nil, top, derr
	}

	// Header of the message that holds the report.
	var hdr *entityHeader
	for i := len(path) - 1; i >= 0 && hdr == nil; i-- {
		hdr = path[i].hdr
	}
	if hdr != nil {
		hdr.apply(m)
	}

	if len(path) > 0 {
		siblings := path[len(path)-1].Parts
		idx := 0
		for i := range siblings {
			if &siblings[i] == ds {
				idx = i
			}
		}
		for i := range siblings[:idx] {
			if p := &siblings[i]; strings.HasPrefix(p.MediaType, "text/") {
				m.TextBody = readText(br, p, r)
				break
			}
		}
		for i := idx + 1; i < len(siblings); i++ {
			p := &siblings[i]
			switch p.MediaType {
			case "message/rfc822", "message/global":
				m.Ret = RetFull
			case "text/rfc822-headers", "message/global-headers", "message/rfc822-headers", "text/rfc822-header":
				m.Ret = RetHeaders
			default:
				continue
			}
			m.OriginalMessageID = originalMessageID(br, p, r)
			break
		}
	}
	if m.OriginalMessageID == "" && hdr != nil && hdr.inReplyTo != "" {
		// Without a returned message, In-Reply-To (as Compose writes it) is
		// the next best reference to the original.
		m.OriginalMessageID = normalizeMsgID(hdr.inReplyTo)
	}
	return m, top, derr
}

func isStatusPart(p *Part) bool {
	return p.MediaType == "message/delivery-status" || p.MediaType == "message/global-delivery-status"
}

// walk reads the MIME structure. If boundary is set, a top-level entity
// without Content-Type is read as a multipart with that boundary. cr says
// the input has bare CR line endings (br reads them as LF). On error, the
// tree holds the entities read before it, with the offsets read so far.
func walk(br *bufio.Reader, boundary string, cr bool) (*Part, error) {
	w := walker{fr: fieldReader{br: br, truncate: true}, sniffed: boundary, cr: cr}
	top := &Part{}
	_, err := w.entity(top, 0, true)
	return top, err
}

// sniffBoundary returns the boundary of the first delimiter-like line
// ("--" and a token) in the first 64 KiB of the body, or "".
func sniffBoundary(br *bufio.Reader, top *Part, r io.ReaderAt) string {
	br.Reset(io.NewSectionReader(r, top.BodyOffset, min(64*1024, top.EndOffset-top.BodyOffset)))
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull && len(line) == 0 {
			return ""
		}
		b := trimEOLNoCopy(line)
		if len(b) > 2 && len(b) <= 72 && b[0] == '-' && b[1] == '-' && !hasSpace(b) {
			return string(b[2:])
		}
		if err != nil && err != bufio.ErrBufferFull {
			return ""
		}
	}
}

func hasSpace(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return true
		}
	}
	return false
}

func crOnlyBytes(b []byte) bool {
	hasCR := false
	for _, c := range b {
		switch c {
		case '\n':
			return false
		case '\r':
			hasCR = true
		}
	}
	return hasCR
}

// crReaderAt turns CR into LF, for messages with bare CR line endings.
type crReaderAt struct{ r io.ReaderAt }

func (c crReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	crToLF(p[:n])
	return n, err
}

// readText returns the decoded human-readable text, at most MaxTextBody
// bytes, with lines ending in "\n", converted to UTF-8 from ISO-8859-1
// where declared.
func readText(br *bufio.Reader, p *Part, r io.ReaderAt) string {
	br.Reset(p.Body(r))
	var b strings.Builder
	for b.Len() < MaxTextBody {
		chunk, err := br.Peek(min(MaxTextBody-b.Len(), br.Size()))
		if len(chunk) == 0 {
			if err != nil {
				break
			}
			continue
		}
		latin1 := p.Charset == "iso-8859-1" || p.Charset == "latin1"
		for i, c := range chunk {
			switch {
			case c == '\r' && (i+1 < len(chunk) && chunk[i+1] == '\n'):
				// Lines end in "\n" in TextBody.
			case latin1 && c >= 0x80:
				b.WriteRune(rune(c))
			default:
				b.WriteByte(c)
			}
		}
		br.Discard(len(chunk))
	}
	return b.String()
}

// originalMessageID reads the Message-ID from the header at the start of
// the returned-message part.
func originalMessageID(br *bufio.Reader, p *Part, r io.ReaderAt) string {
	if len(p.Parts) == 1 && p.Parts[0].hdr != nil {
		return p.Parts[0].hdr.messageID
	}
	br.Reset(p.Body(r))
	fr := fieldReader{br: br, limit: MaxHeaderSize, truncate: true}
	var name [64]byte
	for {
		line, err := fr.next()
		if err != nil || len(line) == 0 {
			return ""
		}
		if k, v, ok := splitField(line, &name); ok && string(k) == "message-id" {
			return normalizeMsgID(string(v))
		}
	}
}

// normalizeMsgID returns the msg-id in angle brackets, without comments.
func normalizeMsgID(v string) string {
	v, _ = removeComments(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i : i+j+1]
		}
	}
	if v == "" || strings.ContainsAny(v, " \t") {
		return v
	}
	return "<" + v + ">"
}

// entityHeader holds the message header fields Parse reports.
type entityHeader struct {
	from, to, subject, messageID, date, inReplyTo string
}

func (h *entityHeader) apply(m *Message) {
	m.From = parseMailbox(h.from)
	m.To = parseMailbox(h.to)
	if h.subject != "" {
		var dec mime.WordDecoder
		if s, err := dec.DecodeHeader(h.subject); err == nil {
			// An encoded-word may carry CR, LF or other controls; a
			// subject is one line of text (tabs allowed, as Compose
			// writes them), and a host may write it into a header field.
			m.Subject = strings.Map(func(r rune) rune {
				if r < 0x20 && r != '\t' || r == 0x7f {
					return ' '
				}
				return r
			}, s)
		} else {
			m.Subject = h.subject
		}
	}
	m.MessageID = normalizeMsgID(h.messageID)
	if h.date != "" {
		if t, err := parseDate(h.date); err == nil {
			m.Date = t
		}
	}
}

// parseMailbox returns the address of a From or To field, or the trimmed
// field if it cannot be parsed.
func parseMailbox(v string) string {
	if v == "" {
		return ""
	}
	if a, err := mail.ParseAddress(v); err == nil {
		return a.Address
	}
	v, _ = removeComments(v)
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	return v
}

// walker reads a MIME message line by line (RFC 2045, RFC 2046), recording
// part offsets.
type walker struct {
	fr     fieldReader // Its n is the current offset.
	name   [64]byte
	bounds []string // Open multipart boundaries, innermost last.
	nparts int
	eol    int64 // Length of the line break of the last body line read.
	atBOL  bool  // Whether the next body read starts a line.
	found  bool  // A delivery-status part has been seen.
	// sniffed is the guessed boundary for a top-level entity without
	// Content-Type.
	sniffed string
	cr      bool // Bare CR line endings, read as LF; recorded in each Part.
}

var errTooManyParts = fmt.Errorf("dsn: more than %d mime parts", MaxParts)

// term says what ended an entity.
type term struct {
	level int   // Index in bounds of the boundary that ended it, -1 for end of input.
	close bool  // Closing delimiter "--boundary--".
	start int64 // Offset of the boundary line.
	eol   int64 // Length of the line break before it, part of the delimiter.
}

func (t term) end(bodyOffset int64) int64 {
	return max(bodyOffset, t.start-t.eol)
}

// entity reads one MIME entity: its header, and its body up to a boundary
// of an enclosing multipart or the end of input. A message entity is the
// top level or the one entity of a message/rfc822 part; a returned message
// after the delivery-status part is read as a leaf: its header, not the
// structure of its body.
func (w *walker) entity(p *Part, depth int, message bool) (term, error) {
	leaf := message && depth > 0 && w.found
	w.nparts++
	p.HeaderOffset, p.cr = w.fr.n, w.cr
	if w.nparts > MaxParts {
		p.BodyOffset, p.EndOffset = w.fr.n, w.fr.n
		return term{level: -1, start: w.fr.n}, errTooManyParts
	}
	var h entityHeader
	var ctype, cte string
	for {
		start := w.fr.n
		line, err := w.fr.next()
		if err == io.EOF {
			p.BodyOffset, p.EndOffset = w.fr.n, w.fr.n
			w.contentType(p, ctype, cte)
			return term{level: -1, start: w.fr.n}, nil
		} else if err != nil {
			return term{}, err
		}
		if len(line) == 0 {
			break
		}
		if level, closing, ok := w.isBoundary(line); ok {
			// A boundary before the blank line: an empty body.
			p.BodyOffset, p.EndOffset = start, start
			w.contentType(p, ctype, cte)
			w.atBOL = true
			return term{level: level, close: closing, start: start}, nil
		}
		k, v, ok := splitField(line, &w.name)
		if !ok {
			continue
		}
		switch string(k) {
		case "content-type":
			ctype = string(v)
		case "content-transfer-encoding":
			cte = string(v)
		}
		if message {
			switch string(k) {
			case "from":
				h.from = string(v)
			case "to":
				h.to = string(v)
			case "subject":
				h.subject = string(v)
			case "message-id":
				h.messageID = string(v)
			case "date":
				h.date = string(v)
			case "in-reply-to":
				h.inReplyTo = string(v)
			}
		}
	}
	if message {
		p.hdr = &h
	}
	p.BodyOffset = w.fr.n
	w.contentType(p, ctype, cte)
	if ctype == "" && depth == 0 {
		p.noContentType = true
		if w.sniffed != "" {
			p.MediaType, p.Boundary = "multipart/mixed", w.sniffed
		}
	}
	w.atBOL = true
	w.eol = 0

	identity := p.TransferEncoding == "" || p.TransferEncoding == "7bit" || p.TransferEncoding == "8bit" || p.TransferEncoding == "binary"
	if strings.HasPrefix(p.MediaType, "multipart/") && p.Boundary == "" {
		// RFC 2046 section 5.1.1: the boundary is required. Without one
		// the Content-Type is invalid, which RFC 2045 section 5.2 reads
		// as text/plain.
		p.MediaType = "text/plain"
	}
	switch {
	case leaf:
	case strings.HasPrefix(p.MediaType, "multipart/") && depth < MaxDepth:
		return w.multipart(p, depth)
	case (p.MediaType == "message/rfc822" || p.MediaType == "message/global") && identity && depth < MaxDepth:
		p.Parts = make([]Part, 1)
		t, err := w.entity(&p.Parts[0], depth+1, true)
		p.EndOffset = t.end(p.BodyOffset)
		return t, err
	}
	if p.MediaType == "message/delivery-status" || p.MediaType == "message/global-delivery-status" {
		w.found = true
	}
	t, err := w.skipBody()
	p.EndOffset = t.end(p.BodyOffset)
	return t, err
}

func (w *walker) contentType(p *Part, ctype, cte string) {
	p.MediaType = "text/plain"
	if ctype != "" {
		mt, params := splitMediaType(ctype)
		if strings.IndexByte(mt, '/') > 0 {
			p.MediaType = mt
		}
		p.Boundary = param(params, "boundary")
		p.Charset = strings.ToLower(param(params, "charset"))
	}
	if cte != "" {
		cte, _ = removeComments(cte)
		p.TransferEncoding = strings.ToLower(cte)
	}
}

// multipart reads the body of a multipart entity, RFC 2046 section 5.1.
func (w *walker) multipart(p *Part, depth int) (term, error) {
	w.bounds = append(w.bounds, p.Boundary)
	level := len(w.bounds) - 1
	t, err := w.skipBody() // Preamble.
	if err == nil && t.level != level {
		// The boundary never comes: not a multipart (RFC 2046 section
		// 5.1.1 wants at least one body part), so the body is text, as
		// for a Content-Type without boundary. Such bounces still hold
		// their words.
		p.MediaType = "text/plain"
	}
	for err == nil && t.level == level && !t.close {
		p.Parts = append(p.Parts, Part{})
		t, err = w.entity(&p.Parts[len(p.Parts)-1], depth+1, false)
	}
	w.bounds = w.bounds[:level]
	if err == nil && t.level == level {
		// Closing delimiter; the epilogue runs to an outer boundary.
		t, err = w.skipBody()
	}
	p.EndOffset = t.end(p.BodyOffset)
	return t, err
}

// skipBody reads lines until a boundary line of an open multipart, or the
// end of input.
func (w *walker) skipBody() (term, error) {
	for {
		start := w.fr.n
		bol := w.atBOL
		line, err := w.fr.br.ReadSlice('\n')
		w.fr.n += int64(len(line))
		switch {
		case err == bufio.ErrBufferFull:
			w.atBOL = false
			w.eol = 0
			continue
		case err == io.EOF:
			if bol && len(line) > 0 {
				if level, closing, ok := w.isBoundary(line); ok {
					return term{level: level, close: closing, start: start, eol: w.eol}, nil
				}
			}
			return term{level: -1, start: w.fr.n}, nil
		case err != nil:
			return term{}, fmt.Errorf("dsn: reading message: %w", err)
		}
		w.atBOL = true
		if bol && len(w.bounds) > 0 {
			if level, closing, ok := w.isBoundary(line); ok {
				return term{level: level, close: closing, start: start, eol: w.eol}, nil
			}
		}
		w.eol = 1
		if len(line) >= 2 && line[len(line)-2] == '\r' {
			w.eol = 2
		}
	}
}

// isBoundary checks if line is a delimiter line of an open multipart,
// innermost first. Leading white space is tolerated, as sent by some broken
// MTAs; trailing white space is allowed by RFC 2046 section 5.1.1.
func (w *walker) isBoundary(line []byte) (level int, closing, ok bool) {
	for len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		line = line[1:]
	}
	if len(line) < 3 || line[0] != '-' || line[1] != '-' {
		return 0, false, false
	}
	line = line[2:]
	for i := len(w.bounds) - 1; i >= 0; i-- {
		b := w.bounds[i]
		if len(line) < len(b) || string(line[:len(b)]) != b {
			continue
		}
		rest := line[len(b):]
		closing := len(rest) >= 2 && rest[0] == '-' && rest[1] == '-'
		if closing {
			rest = rest[2:]
		}
		if isBlank(trimEOLNoCopy(rest)) {
			return i, closing, true
		}
	}
	return 0, false, false
}

func trimEOLNoCopy(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// splitMediaType returns the lower-case media type and the parameter text.
func splitMediaType(v string) (mt, params string) {
	v, _ = removeComments(v)
	if i := strings.IndexByte(v, ';'); i >= 0 {
		mt, params = v[:i], v[i+1:]
	} else {
		mt = v
	}
	return strings.ToLower(strings.TrimSpace(mt)), params
}

// param returns the value of a parameter (RFC 2045 section 5.1), unquoted.
// It reads broken parameter lists as far as they go, as mail software
// writes them: a parameter without "=" or value, a missing ";" between
// parameters, white space around "=", an unclosed quote (the value runs to
// the end).
func param(params, name string) string {
	for params != "" {
		params = strings.TrimLeft(params, " \t;")
		i := strings.IndexAny(params, "=; \t")
		if i < 0 {
			return ""
		}
		k := params[:i]
		params = strings.TrimLeft(params[i:], " \t")
		if !strings.HasPrefix(params, "=") {
			continue // A parameter without value.
		}
		params = strings.TrimLeft(params[1:], " \t")
		var v string
		if strings.HasPrefix(params, `"`) {
			var b strings.Builder
			j := 1
			for ; j < len(params) && params[j] != '"'; j++ {
				if params[j] == '\\' && j+1 < len(params) {
					j++
				}
				b.WriteByte(params[j])
			}
			v = b.String()
			params = params[min(j+1, len(params)):]
		} else {
			j := strings.IndexAny(params, "; \t")
			if j < 0 {
				j = len(params)
			}
			v, params = params[:j], params[j:]
		}
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
