package dsn

import (
	"io"
	"net/mail"
	"net/textproto"

	"github.com/bouncekit/bouncekit/internal/readers"
)

// DecodeLenient reads the per-recipient fields (RFC 3464 section 2.3) of
// delivery-status text that Decode refuses, or of DSN fields that an MTA
// wrote into the text of a bounce. It reads with the same field reader and
// value parsers as Decode, and tolerates more:
//
//   - Lines that are not fields are skipped, wherever they stand, and are
//     never unfolded into a field.
//   - Fields may be indented, as text quoted in a message body is; a field
//     is folded onto lines indented further than its first line
//     (RFC 5322 section 2.2.3, relative to the indent).
//   - No per-message group is needed (RFC 3464 section 2.1), and the
//     per-message fields are not returned.
//   - A value that cannot be read (an Action that is not one of RFC 3464
//     section 2.3.3, a Status that is not an RFC 3463 code, a malformed
//     utf-8 address) leaves its field empty and is kept, as written, in the
//     recipient's Extra under its canonical name ("Status", "Action"),
//     where the caller may look for what it can use. A missing Action is
//     derived from the Status class as Decode does, and stays empty without
//     a Status.
//   - A recipient without Final-Recipient or Original-Recipient is dropped
//     instead of failing the whole part; fields outside a recipient that
//     are not DSN fields are dropped.
//   - Lines may end in CRLF, LF or a bare CR, mixed: no field value holds
//     a line break.
//   - A field longer than MaxFieldSize is cut off; reading stops after
//     MaxStatusSize bytes, keeping what was read.
//
// It returns the recipients in the order they appear, nil if there are
// none. After MaxRecipients recipients it stops, and returns them with
// ErrTooManyRecipients. Any other error is one of reading r, returned with
// the recipients read before it.
func DecodeLenient(r io.Reader) ([]Recipient, error) {
	br := readers.Get(&eolReader{r: r})
	defer readers.Put(br)
	d := decoder{
		fr:      fieldReader{br: br, limit: MaxStatusSize, truncate: true, indented: true},
		m:       &Message{},
		lenient: true,
	}
	err := d.decode()
	if err == nil && d.m.Truncated {
		err = ErrTooManyRecipients
	}
	return d.m.Recipients, err
}

// ReadHeaderLenient reads a message header as bounces return it: the
// header part of a DSN (RFC 3464 section 2, third part) or the header block
// that bounces in other formats append to their text. It reads the first
// block of fields, up to the blank line after it, unfolded (RFC 5322
// section 2.2.3), with the same field reader as Decode, and skips lines
// that are not fields, as a header copied into text has them (and the
// text before it). Field names are keyed as
// textproto.CanonicalMIMEHeaderKey writes them, so mail.Header's Get finds
// them. Lines may end in CRLF, LF or CR. At most MaxHeaderSize bytes are
// read; a field longer than MaxFieldSize is cut off. It returns nil if
// there is no field.
func ReadHeaderLenient(r io.Reader) mail.Header {
	br := readers.Get(&eolReader{r: r})
	defer readers.Put(br)
	fr := fieldReader{br: br, limit: MaxHeaderSize, truncate: true}
	var h mail.Header
	var name [64]byte
	for {
		line, err := fr.next()
		if err != nil || len(line) == 0 && h != nil {
			return h
		}
		k, v, ok := splitField(line, &name)
		if !ok {
			continue
		}
		if h == nil {
			h = mail.Header{}
		}
		key := textproto.CanonicalMIMEHeaderKey(string(k))
		h[key] = append(h[key], string(v))
	}
}

// eolReader turns CRLF and bare CR line endings into LF, for text whose
// line endings are mixed, as text pasted from several sources is.
type eolReader struct {
	r  io.Reader
	cr bool // The last byte read was a CR, passed on as LF.
}

func (e *eolReader) Read(p []byte) (int, error) {
	for {
		n, err := e.r.Read(p)
		w := 0
		for _, c := range p[:n] {
			if c == '\n' && e.cr {
				// The LF of a CRLF, passed on already.
				e.cr = false
				continue
			}
			e.cr = c == '\r'
			if e.cr {
				c = '\n'
			}
			p[w] = c
			w++
		}
		if w > 0 || err != nil || n == 0 {
			return w, err
		}
	}
}
