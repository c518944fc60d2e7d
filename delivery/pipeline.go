package delivery

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

// pipelined runs the transaction as one group of commands (RFC 2920
// section 3.1): MAIL FROM, every RCPT TO and DATA are written at once and
// the replies read after, so a transaction costs one round trip instead of
// one per recipient. go-smtp's client cannot pipeline, so the commands are
// written here on the connection it uses; its own reader is empty between
// commands, and go-smtp is used again for RSET and QUIT. It returns the
// messages whose RCPT TO was accepted.
func (s *session) pipelined(t txn, env envelope, r io.Reader, results []queue.AttemptResult) (accepted []int, reusable bool) {
	bw := bufio.NewWriter(s.conn)
	bw.WriteString(s.mailCommand(env))
	for k, i := range t.idx {
		bw.WriteString(s.rcptCommand(env.rcpts[k], results[i].Msg))
	}
	bw.WriteString("DATA\r\n")
	if err := s.raw.SetDeadline(time.Now().Add(s.timeouts.Command)); err != nil {
		failAll(results, t.idx, s.error(err, bounce.StageMail))
		return nil, false
	}
	if err := bw.Flush(); err != nil {
		failAll(results, t.idx, s.error(err, bounce.StageMail))
		return nil, false
	}
	if s.tr == nil {
		s.tr = textproto.NewReader(bufio.NewReader(s.conn))
	}

	// RFC 2920 section 3.1: the server answers each command in order.
	if err := s.readReply(250); err != nil {
		e := s.error(err, bounce.StageMail)
		failAll(results, t.idx, e)
		if closesConnection(err) {
			return nil, false
		}
		// The RCPT and DATA replies (typically 503) still come.
		for range t.idx {
			if err := s.readReply(25); err != nil && closesConnection(err) {
				return nil, false
			}
		}
		return nil, s.endData() && s.reset()
	}
	for k, i := range t.idx {
		err := s.readReply(25)
		if err == nil {
			accepted = append(accepted, i)
			continue
		}
		e := s.error(err, bounce.StageRcpt)
		fail(&results[i], e)
		if closesConnection(err) {
			failClosed(results, accepted, t.idx[k+1:], e)
			return accepted, false
		}
	}
	if len(accepted) == 0 {
		// The DATA reply is a refusal (RFC 2920 section 3.1: no valid
		// recipients), or, from a server that ignores that, a 354 that is
		// answered with an empty message.
		return nil, s.endData() && s.reset()
	}
	if err := s.readReply(354); err != nil {
		failAll(results, accepted, s.error(err, bounce.StageData))
		return accepted, !closesConnection(err) && s.reset()
	}
	if err := s.raw.SetDeadline(time.Time{}); err != nil {
		failAll(results, accepted, s.error(err, bounce.StageDataEnd))
		return accepted, false
	}

	tw := textproto.NewWriter(bw)
	dw := tw.DotWriter()
	if _, err := io.Copy(s.dataWriter(dw), r); err != nil {
		// Closing the connection keeps the partial message from the server.
		failAll(results, accepted, s.error(err, bounce.StageDataEnd))
		return accepted, false
	}
	if err := dw.Close(); err != nil {
		failAll(results, accepted, s.error(err, bounce.StageDataEnd))
		return accepted, false
	}
	if err := s.raw.SetDeadline(time.Now().Add(s.timeouts.DataEnd)); err != nil {
		failAll(results, accepted, s.error(err, bounce.StageDataEnd))
		return accepted, false
	}
	text, err := s.readReplyText(250)
	s.raw.SetDeadline(time.Time{})
	if err != nil {
		failAll(results, accepted, s.error(err, bounce.StageDataEnd))
		return accepted, !closesConnection(err)
	}
	setDelivered(results, accepted, text)
	return accepted, true
}

// endData reads the reply to a pipelined DATA whose transaction failed; a
// 354 is answered with an empty message, as RFC 2920 section 3.1 allows,
// and its reply read. It reports whether the connection is still good.
func (s *session) endData() bool {
	err := s.readReply(354)
	if err != nil {
		return !closesConnection(err)
	}
	if _, err := io.WriteString(s.conn, ".\r\n"); err != nil {
		return false
	}
	err = s.readReply(250)
	return err == nil || !closesConnection(err)
}

// readReply reads one reply and returns nil if its code starts with
// expect, else the reply as a *smtp.SMTPError or the I/O error.
func (s *session) readReply(expect int) error {
	_, err := s.readReplyText(expect)
	return err
}

func (s *session) readReplyText(expect int) (string, error) {
	code, msg, err := s.tr.ReadResponse(expect)
	var te *textproto.Error
	if errors.As(err, &te) {
		return "", replyError(code, msg)
	}
	return msg, err
}

// replyError is a reply as go-smtp's client returns it: the enhanced code
// (RFC 2034) cut from the text.
func replyError(code int, msg string) *smtp.SMTPError {
	e := &smtp.SMTPError{Code: code, Message: msg}
	lines := strings.Split(msg, "\n")
	enh, rest, ok := bounce.CutEnhancedCode(lines[0])
	if !ok {
		return e
	}
	e.EnhancedCode = smtp.EnhancedCode(enh)
	lines[0] = rest
	for i := 1; i < len(lines); i++ {
		if c, rest, ok := bounce.CutEnhancedCode(lines[i]); ok && c == enh {
			lines[i] = rest
		}
	}
	e.Message = strings.Join(lines, "\n")
	return e
}

// mailCommand returns the MAIL FROM command with the parameters go-smtp
// would send (see mailOptions).
func (s *session) mailCommand(env envelope) string {
	ext := func(name string) bool { ok, _ := s.client.Extension(name); return ok }
	var b strings.Builder
	b.WriteString("MAIL FROM:<" + env.mailFrom + ">")
	if ext("8BITMIME") {
		b.WriteString(" BODY=8BITMIME") // RFC 6152.
	}
	if ext("SIZE") && env.first.Size > 0 {
		b.WriteString(" SIZE=" + strconv.FormatInt(env.first.Size, 10)) // RFC 1870.
	}
	if env.requireTLS {
		b.WriteString(" REQUIRETLS") // RFC 8689 section 4.1.
	}
	if env.utf8 {
		b.WriteString(" SMTPUTF8") // RFC 6531 section 3.4.
	}
	if ext("DSN") {
		o := mailOptions(env.first, env.utf8, env.requireTLS)
		if o.Return != "" {
			b.WriteString(" RET=" + string(o.Return)) // RFC 3461 section 4.3.
		}
		if o.EnvelopeID != "" {
			b.WriteString(" ENVID=" + xtext(o.EnvelopeID)) // RFC 3461 section 4.4.
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// rcptCommand returns the RCPT TO command for m, with NOTIFY and ORCPT
// when the server offers DSN (RFC 3461 section 4.1 and 4.2).
func (s *session) rcptCommand(rcpt string, m queue.Msg) string {
	var b strings.Builder
	b.WriteString("RCPT TO:<" + rcpt + ">")
	if ok, _ := s.client.Extension("DSN"); ok {
		if o := rcptOptions(m); o != nil {
			if len(o.Notify) > 0 {
				b.WriteString(" NOTIFY=")
				for i, n := range o.Notify {
					if i > 0 {
						b.WriteString(",")
					}
					b.WriteString(string(n))
				}
			}
			switch o.OriginalRecipientType {
			case smtp.DSNAddressTypeRFC822:
				b.WriteString(" ORCPT=rfc822;" + xtext(o.OriginalRecipient))
			case smtp.DSNAddressTypeUTF8:
				b.WriteString(" ORCPT=utf-8;" + utf8AddrXtext(o.OriginalRecipient))
			}
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// xtext encodes s per RFC 3461 section 4: "+", "=" and bytes outside
// "!" to "~" as "+" and two upper-case hex digits.
func xtext(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '!' || c > '~' || c == '+' || c == '=' {
			fmt.Fprintf(&b, "+%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// utf8AddrXtext encodes s per RFC 6533 section 3 (utf-8-addr-xtext): each
// non-ASCII character, "+", "=", "\" and control characters as "\x{HEX}".
// It is valid with and without SMTPUTF8.
func utf8AddrXtext(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= utf8.RuneSelf || r < '!' || r == '~'+1 || r == '+' || r == '=' || r == '\\' {
			fmt.Fprintf(&b, `\x{%X}`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
