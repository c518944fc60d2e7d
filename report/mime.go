package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
)

// Limits on the MIME walk, so hostile nesting or part counts cost bounded work.
const (
	maxDepth   = 8
	maxParts   = 200
	maxTextLen = 1 << 20 // Bytes of decoded text kept in total.

	maxFeedbackFields = 64 << 10 // Bytes of a message/feedback-report part read.
)

// parts is what walkMessage found in a message.
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
	count   int // Parts visited.
	textLen int // Total length of texts.
}

// walkMessage collects the text, delivery-status and returned-message parts of
// a message with header h and body r.
func walkMessage(h mail.Header, body io.Reader) *parts {
	p := &parts{}
	p.walk(textproto.MIMEHeader(h), body, 0)
	return p
}

func (p *parts) walk(h textproto.MIMEHeader, body io.Reader, depth int) {
	p.count++
	if depth > maxDepth || p.count > maxParts {
		return
	}
	ct := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = "text/plain"
		// A broken parameter list still often has a usable boundary.
		if b := boundaryOf(ct); b != "" && strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "multipart/") {
			mt = "multipart/mixed"
			params = map[string]string{"boundary": b}
		} else if t, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(ct)), ";"); t != "" {
			mt = t
		}
		if cs := paramOf(ct, "charset"); cs != "" {
			if params == nil {
				params = map[string]string{}
			}
			params["charset"] = cs
		}
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		p.walkMultipart(params["boundary"], body, depth)
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		b := readAll(decodeBody(h, body), maxTextLen)
		p.dsn = append(p.dsn, unlabeledISO2022JP(string(b))...)
		p.dsn = append(p.dsn, '\n')
	case mt == "message/feedback-report":
		if !p.feedback {
			p.fbFields = readAll(decodeBody(h, body), maxFeedbackFields)
		}
		p.feedback = true
	case mt == "message/rfc822" || mt == "message/global":
		r := bufio.NewReader(decodeBody(h, body))
		if m, err := mail.ReadMessage(r); err == nil {
			p.addOriginal(m.Header)
		}
	case mt == "text/rfc822-headers" || mt == "message/rfc822-headers" || mt == "text/rfc822-header" || mt == "message/global-headers":
		b := readAll(decodeBody(h, body), maxTextLen)
		if m, err := mail.ReadMessage(bytes.NewReader(append(b, "\n\n"...))); err == nil {
			p.addOriginal(m.Header)
		}
	case strings.HasPrefix(mt, "text/") || mt == "":
		if p.textLen >= maxTextLen {
			return
		}
		// RFC 2046 section 4.1.2: the charset applies after the transfer
		// decoding. The cap is on the decoded text.
		b := readAll(decodeCharset(params["charset"], decodeBody(h, body)), maxTextLen-p.textLen)
		s := string(b)
		if charsetEncoding(params["charset"]) == nil {
			// Kept within the cap: decoding JIS X 0208 makes 3 bytes of 2.
			s = unlabeledISO2022JP(s)
			s = s[:min(len(s), maxTextLen-p.textLen)]
		}
		// A text part after the first that holds a header block is the
		// returned message's header, attached as text by some software.
		if len(p.texts) > 0 && looksLikeHeader(s) {
			if hb := headerBlock(s); hb != nil {
				p.original = append(p.original, hb)
				return
			}
		}
		if mt == "text/html" {
			s = htmlToText(s)
		}
		p.textLen += len(s)
		p.texts = append(p.texts, s)
	}
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

func (p *parts) walkMultipart(boundary string, body io.Reader, depth int) {
	if boundary == "" {
		p.addRaw(body)
		return
	}
	// Keep the start of the body so a broken structure can still be read
	// as text: addRaw reads no more than that. Not a copy of the whole
	// body: each nesting level would hold one.
	keep := &prefix{max: maxTextLen - p.textLen}
	tee := io.TeeReader(io.LimitReader(body, MaxSize), keep)
	mr := multipart.NewReader(tee, boundary)
	n := 0
	for {
		part, err := mr.NextRawPart()
		if err != nil {
			if err != io.EOF && n == 0 {
				io.Copy(io.Discard, io.LimitReader(tee, int64(keep.max-len(keep.b))))
				p.addRaw(bytes.NewReader(keep.b))
			}
			return
		}
		if n == 0 {
			keep.b, keep.max = nil, 0 // The structure is readable.
		}
		n++
		p.walk(part.Header, part, depth+1)
		if p.count > maxParts {
			return
		}
	}
}

// prefix is a writer that keeps the first max bytes written to it.
type prefix struct {
	b   []byte
	max int
}

func (w *prefix) Write(b []byte) (int, error) {
	if n := w.max - len(w.b); n > 0 {
		w.b = append(w.b, b[:min(n, len(b))]...)
	}
	return len(b), nil
}

// addRaw adds an undecodable body as text, so patterns can still find what is
// in it.
func (p *parts) addRaw(r io.Reader) {
	if p.textLen >= maxTextLen {
		return
	}
	b := readAll(r, maxTextLen-p.textLen)
	p.textLen += len(b)
	p.texts = append(p.texts, string(b))
}

// boundaryOf finds a boundary parameter in a Content-Type value that
// mime.ParseMediaType rejected.
func boundaryOf(ct string) string {
	return paramOf(ct, "boundary")
}

// paramOf finds the parameter name in a Content-Type value that
// mime.ParseMediaType rejected.
func paramOf(ct, name string) string {
	i := indexFold(ct, name+"=")
	if i < 0 {
		return ""
	}
	s := ct[i+len(name)+1:]
	if strings.HasPrefix(s, `"`) {
		s = s[1:]
		if j := strings.IndexByte(s, '"'); j >= 0 {
			return s[:j]
		}
		return ""
	}
	if j := strings.IndexAny(s, "; \t"); j >= 0 {
		s = s[:j]
	}
	return s
}

// decodeBody undoes the part's Content-Transfer-Encoding.
func decodeBody(h textproto.MIMEHeader, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Cleaner{r: r})
	}
	return r
}

// base64Cleaner drops line breaks and other bytes outside the base64 alphabet,
// which the standard decoder would otherwise reject.
type base64Cleaner struct {
	r io.Reader
}

func (c *base64Cleaner) Read(b []byte) (int, error) {
	for {
		n, err := c.r.Read(b)
		j := 0
		for _, ch := range b[:n] {
			if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '+' || ch == '/' || ch == '=' {
				b[j] = ch
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// readAll reads up to max bytes, ignoring decoding errors after what could be
// read: a half-broken part is still worth searching.
func readAll(r io.Reader, max int) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, int64(max)))
	return b
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

// indexFold returns the index of the ASCII string sub in s, ignoring ASCII
// case, or -1. Unlike searching strings.ToLower(s), the index is valid in s
// even if s is not valid UTF-8.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
