package report

import (
	"bytes"
	"io"
	"net/mail"
	"slices"
	"strings"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/internal/readers"
)

// Limits on what is read from a message's parts, so hostile nesting, part
// counts or sizes cost bounded work and memory.
const (
	maxDepth   = 8       // Multipart nesting visited.
	maxParts   = 200     // Parts visited.
	maxTextLen = 1 << 20 // Bytes of decoded text kept in total; also of delivery-status text, and of returned headers read.

	maxFeedbackFields = 64 << 10 // Bytes of a message/feedback-report part read.
)

// parts is what collect found in a message's part tree.
type parts struct {
	texts    []string      // Decoded text parts outside returned messages, in order.
	dsn      []byte        // Contents of message/delivery-status parts.
	original []mail.Header // Headers of returned messages (message/rfc822, text/rfc822-headers).
	feedback bool          // A message/feedback-report part was seen (RFC 5965).
	fbFields []byte        // Contents of the first message/feedback-report part, up to maxFeedbackFields.
	fbOrig   mail.Header   // Header of the returned message that follows the feedback part.

	// hotmail is the header of the first returned message that names its
	// recipient in X-HmXmrOriginalRecipient: the complaint of Microsoft's
	// JMRP (Hotmail, Outlook.com), which in its older form has no
	// message/feedback-report part and in its newer one may leave the
	// part's recipient fields out.
	hotmail mail.Header

	count     int    // Parts visited.
	textLen   int    // Total length of texts.
	headerLen int    // Bytes read for returned headers.
	buf       []byte // Copy buffer, shared by the parts.
}

// collect reads the text, delivery-status, feedback and returned-message
// parts of the part tree that package dsn's MIME walk made of r (nil: a
// message without any). Every read is bounded; no body is copied whole.
func collect(r io.ReaderAt, top *dsn.Part) *parts {
	p := &parts{}
	if top != nil {
		p.visit(r, top, 0)
	}
	return p
}

func (p *parts) visit(r io.ReaderAt, part *dsn.Part, depth int) {
	p.count++
	if depth > maxDepth || p.count > maxParts {
		return
	}
	switch mt := part.MediaType; {
	case strings.HasPrefix(mt, "multipart/"):
		for i := range part.Parts {
			p.visit(r, &part.Parts[i], depth+1)
			if p.count > maxParts {
				return
			}
		}
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		if n := maxTextLen - len(p.dsn); n > 0 {
			start := len(p.dsn)
			p.dsn = appendRead(p.dsn, part.Body(r), n, partSize(part))
			if b := p.dsn[start:]; bytes.IndexByte(b, 0x1b) >= 0 {
				p.dsn = append(p.dsn[:start], unlabeledISO2022JP(string(b))...)
			}
		}
		p.dsn = append(p.dsn, '\n')
	case mt == "message/feedback-report":
		if !p.feedback {
			p.fbFields = appendRead(nil, part.Body(r), maxFeedbackFields, partSize(part))
		}
		p.feedback = true
	case mt == "message/rfc822" || mt == "message/global":
		// Package dsn read the returned message's header where the part
		// has no transfer encoding; else it starts the decoded body.
		var h io.Reader
		if len(part.Parts) == 1 {
			h = part.Parts[0].Header(r)
		} else {
			h = part.Body(r)
		}
		if hdr := p.readHeader(h); hdr != nil {
			p.addOriginal(hdr)
		}
	case mt == "text/rfc822-headers" || mt == "message/rfc822-headers" || mt == "text/rfc822-header" || mt == "message/global-headers":
		if hdr := p.readHeader(part.Body(r)); hdr != nil {
			p.addOriginal(hdr)
		}
	case strings.HasPrefix(mt, "text/"):
		p.text(r, part)
	}
}

// text adds a text part, decoded to UTF-8, within the text cap.
func (p *parts) text(r io.ReaderAt, part *dsn.Part) {
	n := maxTextLen - p.textLen
	if n <= 0 {
		return
	}
	// RFC 2046 section 4.1.2: the charset applies after the transfer
	// decoding. The cap is on the decoded text.
	s := p.read(decodeCharset(part.Charset, part.Body(r)), n, partSize(part))
	if charsetEncoding(part.Charset) == nil {
		// Kept within the cap: decoding JIS X 0208 makes 3 bytes of 2.
		s = unlabeledISO2022JP(s)
		s = s[:min(len(s), n)]
	}
	// A text part after the first that holds a header block is the
	// returned message's header, attached as text by some software.
	if len(p.texts) > 0 && looksLikeHeader(s) {
		if hb := headerBlock(s); hb != nil {
			p.original = append(p.original, hb)
			return
		}
	}
	if part.MediaType == "text/html" {
		s = htmlToText(s)
	}
	p.textLen += len(s)
	p.texts = append(p.texts, s)
}

// addOriginal records the header of a returned message. The first one after
// a feedback part is the message the feedback report is about (RFC 5965
// section 2, item d).
func (p *parts) addOriginal(h mail.Header) {
	p.original = append(p.original, h)
	if p.hotmail == nil && trimAddress(h.Get("X-HmXmrOriginalRecipient")) != "" {
		p.hotmail = h
	}
	if p.feedback && p.fbOrig == nil {
		p.fbOrig = h
	}
}

// readHeader reads a returned message's header from the start of r, within
// what is left of the maxTextLen budget for returned headers; nil if it
// cannot be read. Only the header is read, not the body after it.
func (p *parts) readHeader(r io.Reader) mail.Header {
	n := maxTextLen - p.headerLen
	if n <= 0 {
		return nil
	}
	lr := &io.LimitedReader{R: &lfReader{r: r}, N: int64(n)}
	// A header cut at the budget, or without the blank line that ends it,
	// still gives its fields.
	br := readers.Get(io.MultiReader(lr, strings.NewReader("\n\n")))
	defer readers.Put(br)
	m, err := mail.ReadMessage(br)
	p.headerLen += n - int(lr.N)
	if err != nil {
		return nil
	}
	return m.Header
}

// read returns at most max bytes of r, with line endings turned into LF
// (the text rules know only LF), and whatever could be read before a
// decoding error: a half-broken part is still worth searching. size is the
// part's size in the input, a guess of what r gives.
func (p *parts) read(r io.Reader, max int, size int64) string {
	var b strings.Builder
	b.Grow(int(min(int64(max), size)))
	if p.buf == nil {
		p.buf = make([]byte, 4<<10)
	}
	io.CopyBuffer(&b, io.LimitReader(&lfReader{r: r}, int64(max)), p.buf)
	return b.String()
}

// appendRead is read for bytes: it appends at most max bytes of r to dst.
func appendRead(dst []byte, r io.Reader, max int, size int64) []byte {
	dst = slices.Grow(dst, int(min(int64(max), size))+1)
	lr := io.LimitReader(&lfReader{r: r}, int64(max))
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := lr.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err != nil {
			return dst
		}
	}
}

// partSize is the size of a part's body in the input.
func partSize(part *dsn.Part) int64 {
	return part.EndOffset - part.BodyOffset
}

// lfReader turns CRLF and lone CR line endings into LF, so the text rules
// deal with one form whatever the message (and a decoded body) used.
type lfReader struct {
	r  io.Reader
	cr bool // The last byte read was a CR.
}

func (l *lfReader) Read(b []byte) (int, error) {
	for {
		n, err := l.r.Read(b)
		j := 0
		for _, c := range b[:n] {
			switch {
			case c == '\r':
				b[j] = '\n'
				j++
				l.cr = true
				continue
			case c == '\n' && l.cr:
			default:
				b[j] = c
				j++
			}
			l.cr = false
		}
		if j > 0 || err != nil || n == 0 {
			return j, err
		}
	}
}

// htmlToText removes tags and decodes the few entities that matter for
// finding addresses and replies in HTML-only bounces.
func htmlToText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inTag := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<':
			inTag = true
			// Block-level tags end a line.
			rest := strings.ToLower(s[i+1 : min(len(s), i+4)])
			if strings.HasPrefix(rest, "br") || strings.HasPrefix(rest, "p") || strings.HasPrefix(rest, "/p") || strings.HasPrefix(rest, "div") || strings.HasPrefix(rest, "/di") || strings.HasPrefix(rest, "tr") || strings.HasPrefix(rest, "li") {
				b.WriteByte('\n')
			}
		case c == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteByte(c)
		}
	}
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&nbsp;", " ", "&quot;", `"`, "&#39;", "'")
	return r.Replace(b.String())
}

// looksLikeHeader reports whether s starts with a message header: a header
// field first, and a Received, Message-ID or Return-Path field in the first
// block.
func looksLikeHeader(s string) bool {
	s = strings.TrimLeft(s, "\n")
	first, _, _ := strings.Cut(s, "\n")
	name, _, ok := strings.Cut(first, ":")
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return false
	}
	block, _, _ := strings.Cut(strings.ToLower(s), "\n\n")
	block = "\n" + block
	return strings.Contains(block, "\nreceived:") || strings.Contains(block, "\nmessage-id:") || strings.Contains(block, "\nreturn-path:")
}
