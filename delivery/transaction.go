package delivery

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/internal/inject"
	"github.com/bouncekit/bouncekit/queue"
)

// transaction runs one mail transaction (RFC 5321 section 3.3) for t and
// sets the result of each of its messages. It returns whether the
// connection can carry another transaction.
func (s *session) transaction(t txn, results []queue.AttemptResult) (reusable bool) {
	first := results[t.idx[0]].Msg
	failAll := func(idx []int, err error) {
		for _, i := range idx {
			fail(&results[i], err)
		}
	}

	// What the client can tell before sending anything.
	mailFrom, utf8 := envelopeAddress(t.mailFrom)
	rcpts := make([]string, len(t.idx))
	for k, i := range t.idx {
		var u bool
		rcpts[k], u = envelopeAddress(results[i].Msg.RecipientAddress)
		utf8 = utf8 || u
	}
	// SMTPUTF8 is required when the envelope needs it, and asked for when
	// only the header does and the server offers it (RFC 6531 section
	// 3.4); otherwise such a message goes as 8-bit data.
	ext := func(name string) bool { ok, _ := s.client.Extension(name); return ok }
	utf8Param := utf8 || first.SMTPUTF8 && ext("SMTPUTF8")
	switch {
	case t.requireTLS && !(s.tlsVerified && ext("REQUIRETLS")):
		// RFC 8689 section 4.2.1: not sent without verified TLS to a
		// server that promises to keep requiring it.
		failAll(t.idx, localError(bounce.StageMail, enhRequireTLS, textRequireTLS))
		return true
	case utf8 && !ext("SMTPUTF8"):
		failAll(t.idx, localError(bounce.StageMail, enhNoUTF8, textNoUTF8))
		return true
	case (first.Has8bit || first.SMTPUTF8) && !ext("8BITMIME"):
		failAll(t.idx, localError(bounce.StageMail, enhNo8bit, textNo8bit))
		return true
	}
	if max, ok := s.client.MaxMessageSize(); ok && max > 0 && first.Size > int64(max) {
		// RFC 1870 section 6: a client should not send a message the
		// server announced it will not take.
		failAll(t.idx, localError(bounce.StageMail, enhTooBig, textTooBig))
		return true
	}

	before := s.conn.written
	if err := s.client.Mail(mailFrom, mailOptions(first, utf8Param, t.requireTLS)); err != nil {
		e := s.error(err, bounce.StageMail)
		if s.conn.written == before {
			// go-smtp refused the argument itself; nothing was sent.
			e.Permanent = true
			failAll(t.idx, e)
			return true
		}
		failAll(t.idx, e)
		return !closesConnection(err) && s.reset()
	}

	var accepted []int
	for k, i := range t.idx {
		before := s.conn.written
		err := s.client.Rcpt(rcpts[k], rcptOptions(results[i].Msg))
		if err == nil {
			accepted = append(accepted, i)
			continue
		}
		e := s.error(err, bounce.StageRcpt)
		if s.conn.written == before {
			e.Permanent = true // Refused by go-smtp, e.g. a line break in the address.
		}
		fail(&results[i], e)
		if s.conn.written != before && closesConnection(err) {
			// RFC 5321 section 3.8: the transaction is over; the
			// recipients accepted so far and those not sent yet fail with
			// the same reply (temporary: none was delivered).
			failAll(accepted, closedError(e))
			failAll(t.idx[k+1:], closedError(e))
			return false
		}
	}
	if len(accepted) == 0 {
		// RFC 5321 section 3.3: no DATA without an accepted recipient.
		return s.reset()
	}

	r, err := s.c.Opener.OpenMessage(s.ctx, first)
	if err != nil {
		failAll(accepted, &bounce.SMTPError{Stage: bounce.StageData, Err: fmt.Errorf("delivery: opening message %d: %w", first.ID, err)})
		return s.reset()
	}
	defer r.Close()
	w, err := s.client.Data()
	if err != nil {
		failAll(accepted, s.error(err, bounce.StageData))
		return !closesConnection(err) && s.reset()
	}
	if _, err := io.Copy(deadlineWriter{w: w, conn: s.raw, timeout: s.timeouts.Data}, r); err != nil {
		// The server has a partial message; only closing the connection
		// stops it from taking it as complete.
		failAll(accepted, s.error(err, bounce.StageDataEnd))
		return false
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		failAll(accepted, s.error(err, bounce.StageDataEnd))
		return !closesConnection(err)
	}
	d := queue.Delivery{Code: 250, Line: resp.StatusText}
	if enh, rest, ok := bounce.CutEnhancedCode(resp.StatusText); ok {
		d.EnhancedCode, d.Line = enh, strings.TrimSpace(rest)
	}
	for _, i := range accepted {
		results[i].Status = queue.AttemptDelivered
		results[i].Delivery = d
	}
	inject.Logger(s.c.Logger).Debug("delivery: delivered",
		slog.String("host", s.host), slog.Int("recipients", len(accepted)), slog.Int("refused", len(t.idx)-len(accepted)))
	return true
}

// closedError is the failure of a recipient whose transaction ended with
// e about another command: e's reply, wrapping ErrTransactionClosed.
func closedError(e *bounce.SMTPError) *bounce.SMTPError {
	c := *e
	c.Err = errors.Join(ErrTransactionClosed, e.Err)
	return &c
}

// reset sends RSET to end a transaction that sent no data, and reports
// whether the connection is still good.
func (s *session) reset() bool {
	return s.client.Reset() == nil
}
