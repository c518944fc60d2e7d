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

// envelope is what one transaction sends: the addresses as they go on the
// wire and the MAIL FROM parameters that depend on the message.
type envelope struct {
	first      queue.Msg // The transaction's first message: its data, size and DSN parameters.
	mailFrom   string
	rcpts      []string // Per message of the transaction.
	utf8       bool     // Send SMTPUTF8.
	requireTLS bool     // Send REQUIRETLS.
}

// transaction runs one mail transaction (RFC 5321 section 3.3) for t and
// sets the result of each of its messages. It returns whether the
// connection can carry another transaction. With a server that offers
// PIPELINING (RFC 2920) the commands go as one group (pipeline.go);
// otherwise go-smtp's client sends them one by one.
func (s *session) transaction(t txn, results []queue.AttemptResult) (reusable bool) {
	env, failure := s.prepare(t, results)
	if failure != nil {
		failAll(results, t.idx, failure)
		return true
	}
	// Opened before MAIL FROM: once DATA was accepted, a message that
	// cannot be read could only be ended as an empty one.
	r, err := s.c.Opener.OpenMessage(s.ctx, env.first)
	if err != nil {
		failAll(results, t.idx, &bounce.SMTPError{Stage: bounce.StageMail, Err: fmt.Errorf("delivery: opening message %d: %w", env.first.ID, err)})
		return true
	}
	defer r.Close()
	var accepted []int
	if ok, _ := s.client.Extension("PIPELINING"); ok && !s.c.NoPipelining {
		accepted, reusable = s.pipelined(t, env, r, results)
	} else {
		accepted, reusable = s.stepwise(t, env, r, results)
	}
	inject.Logger(s.c.Logger).Debug("delivery: transaction",
		slog.String("host", s.host), slog.Int("recipients", len(t.idx)), slog.Int("accepted", len(accepted)),
		slog.Int("delivered", countDelivered(results, accepted)), slog.Bool("reusable", reusable))
	return reusable
}

// prepare returns the envelope of t, or the failure of all its messages
// when the server cannot take them: what the client can tell before
// sending anything.
func (s *session) prepare(t txn, results []queue.AttemptResult) (envelope, *bounce.SMTPError) {
	env := envelope{first: results[t.idx[0]].Msg, rcpts: make([]string, len(t.idx)), requireTLS: t.requireTLS}
	var utf8 bool
	env.mailFrom, utf8 = envelopeAddress(t.mailFrom)
	for k, i := range t.idx {
		var u bool
		env.rcpts[k], u = envelopeAddress(results[i].Msg.RecipientAddress)
		utf8 = utf8 || u
	}
	ext := func(name string) bool { ok, _ := s.client.Extension(name); return ok }
	// SMTPUTF8 is required when the envelope needs it, and asked for when
	// only the header does and the server offers it (RFC 6531 section
	// 3.4); otherwise such a message goes as 8-bit data.
	env.utf8 = utf8 || env.first.SMTPUTF8 && ext("SMTPUTF8")
	switch {
	case t.requireTLS && !(s.tlsVerified && ext("REQUIRETLS")):
		// RFC 8689 section 4.2.1: not sent without verified TLS to a
		// server that promises to keep requiring it.
		return env, localError(bounce.StageMail, enhRequireTLS, textRequireTLS)
	case utf8 && !ext("SMTPUTF8"):
		return env, localError(bounce.StageMail, enhNoUTF8, textNoUTF8)
	case (env.first.Has8bit || env.first.SMTPUTF8) && !ext("8BITMIME"):
		return env, localError(bounce.StageMail, enhNo8bit, textNo8bit)
	}
	if max, ok := s.client.MaxMessageSize(); ok && max > 0 && env.first.Size > int64(max) {
		// RFC 1870 section 6: a client should not send a message the
		// server announced it will not take.
		return env, localError(bounce.StageMail, enhTooBig, textTooBig)
	}
	return env, nil
}

// stepwise runs the transaction with go-smtp's client, one command at a
// time. It returns the messages whose RCPT TO was accepted.
func (s *session) stepwise(t txn, env envelope, r io.Reader, results []queue.AttemptResult) (accepted []int, reusable bool) {
	before := s.conn.written
	if err := s.client.Mail(env.mailFrom, mailOptions(env.first, env.utf8, env.requireTLS)); err != nil {
		e := s.error(err, bounce.StageMail)
		if s.conn.written == before {
			// go-smtp refused the argument itself; nothing was sent.
			e.Permanent = true
			failAll(results, t.idx, e)
			return nil, true
		}
		failAll(results, t.idx, e)
		return nil, !closesConnection(err) && s.reset()
	}

	for k, i := range t.idx {
		before := s.conn.written
		err := s.client.Rcpt(env.rcpts[k], rcptOptions(results[i].Msg))
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
			// RFC 5321 section 3.8: the transaction is over.
			failClosed(results, accepted, t.idx[k+1:], e)
			return accepted, false
		}
	}
	if len(accepted) == 0 {
		// RFC 5321 section 3.3: no DATA without an accepted recipient.
		return nil, s.reset()
	}

	w, err := s.client.Data()
	if err != nil {
		failAll(results, accepted, s.error(err, bounce.StageData))
		return accepted, !closesConnection(err) && s.reset()
	}
	if _, err := io.Copy(s.dataWriter(w), r); err != nil {
		// The server has a partial message; only closing the connection
		// stops it from taking it as complete.
		failAll(results, accepted, s.error(err, bounce.StageDataEnd))
		return accepted, false
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		failAll(results, accepted, s.error(err, bounce.StageDataEnd))
		return accepted, !closesConnection(err)
	}
	setDelivered(results, accepted, resp.StatusText)
	return accepted, true
}

// dataWriter returns w with the data timeout per write.
func (s *session) dataWriter(w io.Writer) io.Writer {
	return deadlineWriter{w: w, conn: s.raw, timeout: s.timeouts.Data}
}

// setDelivered marks the messages idx delivered with the reply text to
// the end of data (code 250).
func setDelivered(results []queue.AttemptResult, idx []int, text string) {
	d := queue.Delivery{Code: 250, Line: text}
	if enh, rest, ok := bounce.CutEnhancedCode(text); ok {
		d.EnhancedCode, d.Line = enh, strings.TrimSpace(rest)
	}
	for _, i := range idx {
		results[i].Status = queue.AttemptDelivered
		results[i].Delivery = d
	}
}

// failAll sets the messages idx failed with err.
func failAll(results []queue.AttemptResult, idx []int, err error) {
	for _, i := range idx {
		fail(&results[i], err)
	}
}

// failClosed fails the recipients accepted before and those not sent yet
// when the reply e to another command ended the transaction: with e's
// reply (temporary, none was delivered), wrapping ErrTransactionClosed.
func failClosed(results []queue.AttemptResult, accepted, rest []int, e *bounce.SMTPError) {
	c := *e
	c.Err = errors.Join(ErrTransactionClosed, e.Err)
	failAll(results, accepted, &c)
	failAll(results, rest, &c)
}

func countDelivered(results []queue.AttemptResult, idx []int) int {
	n := 0
	for _, i := range idx {
		if results[i].Status == queue.AttemptDelivered {
			n++
		}
	}
	return n
}

// reset sends RSET to end a transaction that sent no data, and reports
// whether the connection is still good.
func (s *session) reset() bool {
	return s.client.Reset() == nil
}
