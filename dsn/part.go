package dsn

import (
	"bufio"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
)

// Part describes one MIME entity of a message read by Parse, by byte offsets
// into the input, so a caller can read any part (for example the returned
// original message) without Parse keeping copies.
type Part struct {
	// MediaType is the lower-case "type/subtype" of the Content-Type field;
	// "text/plain" when the field is absent (RFC 2045 section 5.2).
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
	// message/rfc822 or message/global body when Parse looked inside it.
	Parts []Part

	hdr           *entityHeader // Message-level header fields, for the top level and nested messages.
	noContentType bool          // Top level only: the header had no Content-Type.
}

// Body returns a reader for the part's body from r (the input given to
// Parse), with the content transfer encoding undone. For input with bare CR
// line endings, which Parse reads as LF, the line endings are as in r.
func (p *Part) Body(r io.ReaderAt) io.Reader {
	sr := io.NewSectionReader(r, p.BodyOffset, p.EndOffset-p.BodyOffset)
	switch p.TransferEncoding {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &eolStripper{br: bufio.NewReaderSize(sr, 1024)})
	case "quoted-printable":
		return quotedprintable.NewReader(sr)
	}
	return sr
}

// eolStripper drops CR, LF, spaces and tabs, which base64 bodies contain but
// encoding/base64 only partly ignores.
type eolStripper struct{ br *bufio.Reader }

func (s *eolStripper) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := s.br.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if c == '\r' || c == '\n' || c == ' ' || c == '\t' {
			continue
		}
		p[n] = c
		n++
	}
	return n, nil
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
