package dsn

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/bouncekit/bouncekit/internal/readers"
)

// Decode parses the body of a message/delivery-status part (RFC 3464 section
// 2.1), or of a message/global-delivery-status part when utf8 is true
// (RFC 6533 section 3; Message.SMTPUTF8 is set to utf8). Only the per-message
// and per-recipient fields of the returned Message are set.
//
// Decode is lenient about what real MTAs send: field names in any case,
// folded fields, comments, LF or CR line endings, 8-bit bytes, missing
// optional fields, missing blank lines between recipients, and per-message
// fields after the first group. Fields it does not know, and dates it cannot
// read, are kept in Extra. Unknown action values, bad status codes and
// recipients without an address are errors of type *FieldError. A part
// without any per-recipient fields gives the per-message fields and
// ErrNoRecipients. At most MaxStatusSize bytes are read.
func Decode(r io.Reader, utf8 bool) (*Message, error) {
	br := readers.Get(r)
	defer readers.Put(br)
	if crOnly(br) {
		cbr := readers.Get(crReader{br})
		defer readers.Put(cbr)
		br = cbr
	}
	m := &Message{SMTPUTF8: utf8}
	d := decoder{fr: fieldReader{br: br, limit: MaxStatusSize}, m: m}
	if err := d.decode(); err == ErrNoRecipients {
		return m, err
	} else if err != nil {
		return nil, err
	}
	return m, nil
}

// crOnly reports whether the input uses bare CR line endings, as classic
// Mac OS did: a CR and no LF in the first buffer.
func crOnly(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Size())
	return crOnlyBytes(b)
}

// crReader turns CR into LF.
type crReader struct{ r io.Reader }

func (c crReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	crToLF(p[:n])
	return n, err
}

func crToLF(p []byte) {
	for i, b := range p {
		if b == '\r' {
			p[i] = '\n'
		}
	}
}

// Recipient field bits, for noticing a repeated field: that starts a new
// recipient when an MTA leaves out the blank line.
const (
	hasOriginal = 1 << iota
	hasFinal
	hasAction
	hasStatus
	hasRemote
	hasDiag
	hasLast
	hasLogID
	hasRetry
)

// ErrTooManyRecipients is returned by DecodeLenient together with the first
// MaxRecipients recipients of a part that has more. (Decode and Parse keep
// the first MaxRecipients and set Message.Truncated.)
var ErrTooManyRecipients = fmt.Errorf("dsn: more than %d recipients", MaxRecipients)

type decoder struct {
	fr   fieldReader
	m    *Message
	name [64]byte

	// lenient selects DecodeLenient's reading: no field is an error, values
	// that cannot be read are kept in the recipient's Extra, recipients
	// without an address are dropped, and so are fields outside a recipient
	// that are not per-message fields.
	lenient bool

	r        *Recipient // Recipient being read, or nil.
	rbits    int        // Fields seen for r.
	inGroups bool       // Past the per-message group.
	nextra   int        // Fields put in Extra maps.
}

func (d *decoder) decode() error {
	m := d.m
	sawField := false
	for {
		line, err := d.fr.next()
		if err == io.EOF || d.lenient && err == errStatusTooLong {
			break
		} else if err != nil {
			if err == errFieldTooLong {
				return fmt.Errorf("dsn: reading delivery-status: %w", err)
			}
			return err
		}
		if len(line) == 0 {
			// RFC 3464 section 2.1: groups are separated by blank lines.
			if err := d.endRecipient(); err == errTruncated {
				return nil
			} else if err != nil {
				return err
			}
			if sawField {
				d.inGroups = true
			}
			continue
		}
		name, value, ok := splitField(line, &d.name)
		if !ok {
			// Not a field; some MTAs add free text. Ignore it.
			continue
		}
		sawField = true
		if err := d.field(name, string(value)); err == errTruncated {
			return nil
		} else if err != nil {
			return err
		}
	}
	if err := d.endRecipient(); err != nil && err != errTruncated {
		return err
	}
	if len(m.Recipients) == 0 && !d.lenient {
		return ErrNoRecipients
	}
	return nil
}

// field handles one field; name is lower-case.
func (d *decoder) field(name []byte, v string) error {
	m := d.m
	// Per-message fields, RFC 3464 section 2.2, and RFC 4865 section 5.
	switch string(name) {
	case "original-envelope-id":
		m.OriginalEnvelopeID = v
		return nil
	case "reporting-mta":
		m.ReportingMTA = parseMTA(v)
		return nil
	case "dsn-gateway":
		m.DSNGateway = parseMTA(v)
		return nil
	case "received-from-mta":
		m.ReceivedFromMTA = parseMTA(v)
		return nil
	case "arrival-date":
		if t, err := parseDate(v); err == nil {
			m.ArrivalDate = t
		} else {
			d.extra(&m.Extra, name, v)
		}
		return nil
	case "future-release-request":
		m.FutureReleaseRequest = v
		return nil
	}

	var bit int
	switch string(name) {
	case "original-recipient":
		bit = hasOriginal
	case "final-recipient":
		bit = hasFinal
	case "action":
		bit = hasAction
	case "status":
		bit = hasStatus
	case "remote-mta":
		bit = hasRemote
	case "diagnostic-code":
		bit = hasDiag
	case "last-attempt-date":
		bit = hasLast
	case "final-log-id":
		bit = hasLogID
	case "will-retry-until":
		bit = hasRetry
	default:
		// Extension field (X-...), RFC 3464 section 2.4.
		switch {
		case d.r != nil:
			d.extra(&d.r.Extra, name, v)
		case d.lenient:
			// Outside a recipient it is as likely text as a field: dropped.
		case d.inGroups:
			if err := d.startRecipient(); err != nil {
				return err
			}
			d.extra(&d.r.Extra, name, v)
		default:
			d.extra(&m.Extra, name, v)
		}
		return nil
	}

	// A repeated field means a new recipient whose blank line is missing.
	if d.r == nil || d.rbits&bit != 0 {
		if err := d.endRecipient(); err != nil {
			return err
		}
		if err := d.startRecipient(); err != nil {
			return err
		}
	}
	d.rbits |= bit
	r := d.r
	fe := func(err error) error {
		return &FieldError{Recipient: len(m.Recipients) + 1, Field: string(name), Err: err}
	}
	var err error
	switch bit {
	case hasOriginal:
		r.OriginalRecipientType, r.OriginalRecipient, err = parseAddress(v)
	case hasFinal:
		r.FinalRecipientType, r.FinalRecipient, err = parseAddress(v)
	case hasAction:
		r.Action, err = parseAction(v)
	case hasStatus:
		r.Status, r.StatusComment, err = parseStatus(v)
		r.StatusComment = unescapeText(r.StatusComment)
	case hasRemote:
		r.RemoteMTA, r.RemoteIP = parseMTAIP(v)
	case hasDiag:
		r.DiagnosticType, r.DiagnosticCode = parseTyped(v)
		r.DiagnosticCode = unescapeText(r.DiagnosticCode)
	case hasLast:
		if r.LastAttemptDate, err = parseDate(v); err != nil {
			d.extra(&r.Extra, name, v)
			err = nil
		}
	case hasLogID:
		r.FinalLogID = v
	case hasRetry:
		if r.WillRetryUntil, err = parseDate(v); err != nil {
			d.extra(&r.Extra, name, v)
			err = nil
		}
	}
	if err != nil && d.lenient {
		// Keep the value for the caller, as with a date above.
		d.extra(&r.Extra, name, v)
		err = nil
	}
	if err != nil {
		return fe(err)
	}
	return nil
}

func (d *decoder) extra(h *map[string][]string, name []byte, v string) {
	if d.nextra++; d.nextra > MaxExtraFields {
		return
	}
	if *h == nil {
		*h = map[string][]string{}
	}
	k := canonicalName(name)
	(*h)[k] = append((*h)[k], v)
}

func (d *decoder) startRecipient() error {
	if len(d.m.Recipients) >= MaxRecipients && !d.lenient {
		d.m.Truncated = true
		return errTruncated
	}
	d.r = &Recipient{}
	d.rbits = 0
	d.inGroups = true
	return nil
}

// endRecipient checks the recipient being read and adds it to the message.
func (d *decoder) endRecipient() error {
	r := d.r
	if r == nil {
		return nil
	}
	d.r = nil
	if d.rbits == 0 {
		if d.lenient {
			return nil
		}
		// Only extension fields: keep them with the message.
		for k, v := range r.Extra {
			for _, s := range v {
				d.extra(&d.m.Extra, []byte(k), s)
			}
		}
		return nil
	}
	n := len(d.m.Recipients) + 1
	if r.FinalRecipient == "" {
		// RFC 3464 section 2.3.2 requires Final-Recipient; some MTAs only
		// send Original-Recipient.
		r.FinalRecipient, r.FinalRecipientType = r.OriginalRecipient, r.OriginalRecipientType
	}
	if r.FinalRecipient == "" {
		if d.lenient {
			// Not a recipient: a word such as "Status:" in text.
			return nil
		}
		return &FieldError{Recipient: n, Field: "final-recipient", Err: errors.New("missing")}
	}
	if r.Action == "" {
		// Required by RFC 3464 section 2.3.3; derive it from the status class.
		switch {
		case r.Status == "" && d.lenient:
			// The caller may know better from the text around.
		case r.Status == "":
			return &FieldError{Recipient: n, Field: "action", Err: errors.New("missing, and no status")}
		case r.Status[0] == '5':
			r.Action = ActionFailed
		case r.Status[0] == '4':
			r.Action = ActionDelayed
		default:
			r.Action = ActionDelivered
		}
	}
	if d.lenient && len(d.m.Recipients) >= MaxRecipients {
		// DecodeLenient counts only the recipients it keeps (a group
		// without an address is dropped); Decode stopped in
		// startRecipient.
		d.m.Truncated = true
		return errTruncated
	}
	d.m.Recipients = append(d.m.Recipients, *r)
	return nil
}
