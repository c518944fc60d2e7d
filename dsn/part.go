package dsn

import (
	"encoding/base64"
	"io"
	"mime/quotedprintable"
)

// Part describes one MIME entity of a message read by Parse, by byte offsets
// into the input, so a caller can read any part (for example the returned
// original message) without Parse keeping copies.
type Part struct {
	// MediaType is the lower-case "type/subtype" of the Content-Type field;
	// "text/plain" when the field is absent or has no type/subtype (RFC
	// 2045 section 5.2), and for a multipart that is not one: without a
	// boundary parameter, or whose boundary never comes (RFC 2046 section
	// 5.1.1 requires both), so its body is read as text.
	MediaType string
	Boundary  string // Multipart boundary, if any.
	Charset   string // Lower-case charset parameter, if any.
	// TransferEncoding is the lower-case Content-Transfer-Encoding, "" when
	// absent (meaning 7bit).
	TransferEncoding string

	HeaderOffset int64 // Start of the entity's header.
	BodyOffset   int64 // Start of the body, after the blank line.
	// EndOffset is the end of the body, before the line break that precedes
	// the next boundary (RFC 2046 section 5.1.1).
	EndOffset int64

	// Parts holds the entities of a multipart, or the one entity in a
	// message/rfc822 or message/global body when Parse looked inside it
	// (a body without transfer encoding, within MaxDepth). Of a message
	// returned after the delivery-status part, Parse reads only the
	// header: that entity has no Parts.
	Parts []Part

	hdr           *entityHeader // Message-level header fields, for the top level and nested messages.
	noContentType bool          // Top level only: the header had no Content-Type.
	cr            bool          // The input has bare CR line endings, which Parse read as LF.
}

// Body returns a reader for the part's body from r (the input given to
// Parse), with the content transfer encoding undone. It is the one transfer
// decoder of the module, with one tolerance rule: bytes outside the base64
// alphabet in a base64 body, line breaks among them, are skipped (RFC 2045
// section 6.8); quoted-printable is read by mime/quotedprintable. For input
// with bare CR line endings the line endings read are LF, as Parse read
// them. The reader holds no more than a small buffer whatever the part's
// size: callers bound what they read.
func (p *Part) Body(r io.ReaderAt) io.Reader {
	if p.cr {
		r = crReaderAt{r}
	}
	sr := io.NewSectionReader(r, p.BodyOffset, p.EndOffset-p.BodyOffset)
	switch p.TransferEncoding {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, base64Filter{sr})
	case "quoted-printable":
		return quotedprintable.NewReader(sr)
	}
	return sr
}

// Header returns a reader for the part's header from r (the input given to
// Parse): the bytes from HeaderOffset to BodyOffset, the header fields and
// the blank line that ends them, as in r except that bare CR line endings
// read as LF. For the one entity Parse found in a message/rfc822 or
// message/global part (Parts[0]), it is the returned message's header,
// read without a copy of the message. Parse does not bound the size of a
// header, only of the fields it keeps: callers bound what they read.
func (p *Part) Header(r io.ReaderAt) io.Reader {
	if p.cr {
		r = crReaderAt{r}
	}
	return io.NewSectionReader(r, p.HeaderOffset, p.BodyOffset-p.HeaderOffset)
}

// base64Filter drops the bytes outside the base64 alphabet, which
// encoding/base64 would reject: RFC 2045 section 6.8 says to ignore them.
// Line breaks are the common case; MTAs also leave spaces, tabs, or a
// stray character of another encoding in a base64 body.
type base64Filter struct{ r io.Reader }

func (f base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// find returns the first part, in document order, for which match is true,
// and the path of its ancestors.
func (p *Part) find(match func(*Part) bool, path []*Part) (*Part, []*Part) {
	if match(p) {
		return p, path
	}
	path = append(path, p)
	for i := range p.Parts {
		if q, qp := p.Parts[i].find(match, path); q != nil {
			return q, qp
		}
	}
	return nil, nil
}
