package report

import (
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/webhook"
)

// MaxIncomingText is the most bytes ReadIncoming keeps of the text and of
// the HTML of a message, each, as mox does (1 MiB): the payload of an
// incoming webhook stays bounded whatever the message's size. A longer
// part is cut at a character boundary.
const MaxIncomingText = 1 << 20

// ReadIncoming reads a message that arrived for an account, of size bytes
// in r, into the payload of an incoming webhook: the fields of its header,
// its MIME structure, its readable text and HTML, and Meta.Automated. The
// caller fills the rest of Meta from the SMTP transaction and its storage.
//
// The message is walked once by package dsn's reader (dsn.Parse), as for
// reports; every part's header is read with dsn.ReadHeaderLenient and its
// body through dsn.Part.Body. It is lenient, as a receiving server must be:
// an address field that cannot be parsed leaves its addresses out, a Date
// that cannot be parsed leaves Date nil, a charset x/text does not know
// leaves the text's bytes as they are (invalid UTF-8 is sent as U+FFFD), a
// message of more than dsn.MaxParts parts or deeper than dsn.MaxDepth is
// described up to that limit. The only error is one from reading r.
//
// Header fields: From, To, Cc, Bcc and Reply-To are parsed by net/mail
// with RFC 2047 encoded words in any charset x/text knows decoded, as is
// Subject, and their domains lower-cased as mox does; Message-ID and In-Reply-To are kept as written, References as
// the list of its message IDs with <>; Date is parsed by net/mail.
//
// Structure: per part (RFC 2045, RFC 2046) the lower-case media type, its
// parameters (RFC 2231 values decoded), Content-ID, the disposition, the
// file name from the disposition's "filename" or the type's "name"
// parameter (RFC 2047 encoded words decoded, as mail programs write
// them), and the size after transfer decoding, for text parts counting
// CRLF line endings (as mox). Only multiparts have Parts: an attached
// message (message/rfc822) is one part, as in mox.
//
// Text and HTML are found as mox finds them: the message itself if it is
// text/plain or text/html; otherwise the first text/plain or text/html
// part of the top multipart, both of a multipart/alternative, else the
// first found in each subpart in turn. Unlike mox, parts with disposition
// "attachment" are skipped: a text file attached after a
// multipart/alternative is not the message's text. Each is decoded to UTF-8
// from its charset (RFC 2046 section 4.1.2), with "\n" for "\r\n" line
// endings, and cut at MaxIncomingText bytes.
//
// Automated is set, as by mox, for a message with a List-Id,
// List-Unsubscribe, List-Unsubscribe-Post or Precedence field, an
// Auto-Submitted field other than "no" (RFC 3834 section 5), or of type
// multipart/report (RFC 6522). A null MAIL FROM, which also marks it, is
// the caller's to add.
func ReadIncoming(r io.ReaderAt, size int64) (webhook.Incoming, error) {
	er := &errReaderAt{r: io.NewSectionReader(r, 0, max(0, size))}
	_, top, _ := dsn.Parse(er) // ErrNotDSN for most mail; the part tree is returned with any error.
	if top == nil {
		top = &dsn.Part{MediaType: "text/plain"} // An empty message.
	}
	x := incomingReader{r: er}
	h := dsn.ReadHeaderLenient(top.Header(er))
	in := webhook.Incoming{
		From:       addressList(h, "From"),
		To:         addressList(h, "To"),
		CC:         addressList(h, "Cc"),
		BCC:        addressList(h, "Bcc"),
		ReplyTo:    addressList(h, "Reply-To"),
		Subject:    decodeHeader(h.Get("Subject")),
		MessageID:  strings.TrimSpace(h.Get("Message-Id")),
		InReplyTo:  strings.TrimSpace(h.Get("In-Reply-To")),
		References: messageIDs(h["References"]),
		Date:       headerDate(h.Get("Date")),
	}
	in.Structure = x.structure(top, h)
	in.Text, in.HTML, _ = x.readable(top, &in.Structure)
	in.Meta.Automated = automated(h) || top.MediaType == "multipart/report"
	if er.err != nil {
		return webhook.Incoming{}, fmt.Errorf("report: reading message: %w", er.err)
	}
	return in, nil
}

// errReaderAt keeps the first error other than io.EOF of its reader, which
// the lenient readers would otherwise take for the end of the message.
type errReaderAt struct {
	r   io.ReaderAt
	err error
}

func (e *errReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.r.ReadAt(p, off)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

type incomingReader struct {
	r   io.ReaderAt
	buf []byte // Copy buffer for sizing bodies.
}

// structure describes p, whose header fields are h, and its subparts.
func (x *incomingReader) structure(p *dsn.Part, h mail.Header) webhook.Structure {
	s := webhook.Structure{ContentType: p.MediaType, ContentID: strings.TrimSpace(h.Get("Content-Id"))}
	if ct := h.Get("Content-Type"); ct != "" {
		// Keys are lower case; values keep their case.
		_, s.ContentTypeParams, _ = mime.ParseMediaType(ct)
	}
	if s.ContentTypeParams == nil {
		// No Content-Type, or parameters mime refuses: what package dsn
		// made of them.
		s.ContentTypeParams = map[string]string{}
		if p.Charset != "" {
			s.ContentTypeParams["charset"] = p.Charset
		}
		if p.Boundary != "" {
			s.ContentTypeParams["boundary"] = p.Boundary
		}
	}
	var dparams map[string]string
	if cd := h.Get("Content-Disposition"); cd != "" {
		s.ContentDisposition, dparams, _ = mime.ParseMediaType(cd)
	}
	s.Filename = dparams["filename"]
	if s.Filename == "" {
		s.Filename = s.ContentTypeParams["name"]
	}
	if strings.Contains(s.Filename, "=?") {
		// RFC 2047 section 5 does not allow encoded words in parameters,
		// but mail programs write them there.
		s.Filename = decodeHeader(s.Filename)
	}
	if !strings.HasPrefix(p.MediaType, "multipart/") {
		s.DecodedSize = x.decodedSize(p)
		return s
	}
	s.Parts = make([]webhook.Structure, len(p.Parts))
	for i := range p.Parts {
		sub := &p.Parts[i]
		s.Parts[i] = x.structure(sub, dsn.ReadHeaderLenient(sub.Header(x.r)))
	}
	return s
}

// decodedSize is the size of p's body after transfer decoding, for text
// counting each bare LF as CRLF.
func (x *incomingReader) decodedSize(p *dsn.Part) int64 {
	if x.buf == nil {
		x.buf = make([]byte, 4<<10)
	}
	text := strings.HasPrefix(p.MediaType, "text/")
	body := p.Body(x.r)
	var n int64
	prevCR := false
	for {
		m, err := body.Read(x.buf)
		n += int64(m)
		if text {
			for _, c := range x.buf[:m] {
				if c == '\n' && !prevCR {
					n++
				}
				prevCR = c == '\r'
			}
		}
		if err != nil {
			return n
		}
	}
}

// readable finds the text and HTML of the message as mox does (see
// ReadIncoming); s is p's structure, for the disposition of parts.
func (x *incomingReader) readable(p *dsn.Part, s *webhook.Structure) (text, html string, found bool) {
	switch {
	case isReadable(p, s, "text/plain"):
		return x.text(p), "", true
	case isReadable(p, s, "text/html"):
		return "", x.text(p), true
	case !strings.HasPrefix(p.MediaType, "multipart/"):
		return "", "", false
	}
	// The first text or HTML subpart; of a multipart/alternative, the
	// first of each.
	alternative := p.MediaType == "multipart/alternative"
	var haveText, haveHTML bool
	for i := range p.Parts {
		pp, ss := &p.Parts[i], &s.Parts[i]
		switch {
		case !haveText && isReadable(pp, ss, "text/plain"):
			text, haveText = x.text(pp), true
		case !haveHTML && isReadable(pp, ss, "text/html"):
			html, haveHTML = x.text(pp), true
		default:
			continue
		}
		if !alternative {
			break
		}
	}
	found = haveText || haveHTML
	if found {
		return text, html, true
	}
	for i := range p.Parts {
		if text, html, found = x.readable(&p.Parts[i], &s.Parts[i]); found {
			return text, html, true
		}
	}
	return "", "", false
}

func isReadable(p *dsn.Part, s *webhook.Structure, mediaType string) bool {
	return p.MediaType == mediaType && s.ContentDisposition != "attachment"
}

// text reads p's body as UTF-8 with LF line endings, at most
// MaxIncomingText bytes of it.
func (x *incomingReader) text(p *dsn.Part) string {
	// RFC 2046 section 4.1.2: the charset applies after the transfer
	// decoding. A decoding error keeps what was read before it.
	b, _ := io.ReadAll(io.LimitReader(decodeCharset(p.Charset, p.Body(x.r)), MaxIncomingText))
	if len(b) == MaxIncomingText {
		// Cut at a character boundary: drop a rune the limit split.
		for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
			if c := b[len(b)-i]; utf8.RuneStart(c) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// addressList parses the address fields named key, with the domains in
// lower case and the localparts as written. A field that net/mail cannot
// parse is left out.
func addressList(h mail.Header, key string) []webhook.NameAddress {
	p := mail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: wordCharsetReader}}
	var l []webhook.NameAddress
	for _, v := range h[key] {
		if strings.TrimSpace(v) == "" {
			continue
		}
		al, err := p.ParseList(v)
		if err != nil {
			continue
		}
		for _, a := range al {
			// Domains are case-insensitive (RFC 5321 section 2.4); mox
			// sends them in lower case.
			addr := a.Address
			if i := strings.LastIndexByte(addr, '@'); i >= 0 {
				addr = addr[:i] + strings.ToLower(addr[i:])
			}
			l = append(l, webhook.NameAddress{Name: a.Name, Address: addr})
		}
	}
	return l
}

// messageIDs returns the "<id>" tokens of References fields (RFC 5322
// section 3.6.4), in order.
func messageIDs(values []string) []string {
	var l []string
	for _, v := range values {
		for {
			i := strings.IndexByte(v, '<')
			if i < 0 {
				break
			}
			j := strings.IndexByte(v[i:], '>')
			if j < 0 {
				break
			}
			id := v[i : i+j+1]
			v = v[i+j+1:]
			if len(id) > 2 && !strings.ContainsAny(id[1:len(id)-1], " \t<") {
				l = append(l, id)
			}
		}
	}
	return l
}

// headerDate parses a Date field; nil if absent, unparsable, or outside
// what JSON's RFC 3339 can hold (years 0 to 9999).
func headerDate(v string) *time.Time {
	if v == "" {
		return nil
	}
	t, err := mail.ParseDate(v)
	if err != nil || t.Year() < 0 || t.Year() > 9999 {
		return nil
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		// RFC 3339 offsets stay within a day; such dates were seen.
		t = t.UTC()
	}
	return &t
}

// automated reports whether the header marks a message that must not be
// answered automatically: a mailing list (RFC 2919 List-Id, RFC 2369 and
// RFC 8058 List-Unsubscribe), a bulk or list Precedence, or an
// Auto-Submitted value other than "no" (RFC 3834 section 5).
func automated(h mail.Header) bool {
	for _, k := range []string{"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Precedence"} {
		if h.Get(k) != "" {
			return true
		}
	}
	as := strings.TrimSpace(h.Get("Auto-Submitted"))
	return as != "" && !strings.EqualFold(as, "no")
}
