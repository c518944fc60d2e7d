package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"

	"github.com/emersion/go-smtp"
	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
)

// Limits of the submission listener.
const (
	maxSubmission = 30 << 20 // Message size (SIZE), as common submission limits.
	maxRecipients = 1000     // Recipients per message.
)

// submission is the sandbox's submission listener: SMTP without
// authentication on loopback. Every message is queued for Config.Account
// with its MAIL FROM as sender, one queue.Msg per recipient, and the DSN
// parameters of RFC 3461 (ENVID, RET, NOTIFY, ORCPT) as given.
type submission struct {
	sb  *Sandbox
	srv *smtp.Server
	l   net.Listener

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // Serve and sessions.
	seq    int64          // For Message-IDs the sandbox adds.
}

func (sub *submission) track() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed {
		return false
	}
	sub.wg.Add(1)
	return true
}

func (sub *submission) close() error {
	sub.mu.Lock()
	sub.closed = true
	sub.mu.Unlock()
	err := sub.srv.Close()
	// The server closes only the listeners Serve has begun with.
	sub.l.Close()
	sub.wg.Wait()
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

// NewSession implements smtp.Backend.
func (sub *submission) NewSession(*smtp.Conn) (smtp.Session, error) {
	if !sub.track() {
		return nil, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down"}
	}
	return &subSession{sub: sub}, nil
}

type subSession struct {
	sub    *submission
	from   string
	opts   smtp.MailOptions
	rcpts  []subRcpt
	logout sync.Once
}

type subRcpt struct {
	addr   string
	notify dsn.Notify
	orcpt  string
}

var _ smtp.Session = (*subSession)(nil)

func (s *subSession) Reset() {
	s.from, s.opts, s.rcpts = "", smtp.MailOptions{}, nil
}

func (s *subSession) Logout() error {
	s.logout.Do(s.sub.wg.Done)
	return nil
}

func (s *subSession) Mail(from string, opts *smtp.MailOptions) error {
	s.Reset()
	if opts != nil {
		if _, err := dsn.ParseRet(string(opts.Return)); err != nil {
			return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: err.Error()}
		}
		s.opts = *opts
	}
	s.from = from
	return nil
}

func (s *subSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if len(s.rcpts) >= maxRecipients {
		// RFC 5321 section 4.5.3.1.10: too many recipients is temporary.
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3}, Message: "too many recipients"}
	}
	r := subRcpt{addr: to}
	if opts != nil {
		words := make([]string, len(opts.Notify))
		for i, n := range opts.Notify {
			words[i] = string(n)
		}
		n, err := dsn.ParseNotify(strings.Join(words, ","))
		if err != nil {
			return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: err.Error()}
		}
		r.notify = n
		if opts.OriginalRecipient != "" {
			r.orcpt = string(opts.OriginalRecipientType) + ";" + opts.OriginalRecipient
		}
	}
	s.rcpts = append(s.rcpts, r)
	return nil
}

// Data queues the message for every recipient in one transaction.
func (s *subSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	sb := s.sub.sb
	// The application's identifiers, as mox reads them at submission:
	// X-Mox-Extra-<Key> headers become Msg.Extra (returned in every
	// webhook) and are removed before the message is sent.
	extra, data, err := queue.ExtraFromHeader(data)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed message header: " + err.Error()}
	}
	msgID := strings.Trim(strings.TrimSpace(m.Header.Get("Message-ID")), "<>")
	if msgID == "" {
		// As submission servers do (RFC 6409 section 8.3), so the message
		// can be matched by Message-ID.
		s.sub.mu.Lock()
		s.sub.seq++
		msgID = fmt.Sprintf("sandbox-%d-%d@%s", sb.clock.Now().UnixNano(), s.sub.seq, sb.hostname)
		s.sub.mu.Unlock()
		data = append([]byte("Message-ID: <"+msgID+">\r\n"), data...)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subject = m.Header.Get("Subject")
	}
	ret, _ := dsn.ParseRet(string(s.opts.Return)) // Checked in Mail.
	has8bit := s.opts.Body == smtp.Body8BitMIME || bytes.ContainsFunc(data, func(r rune) bool { return r >= 0x80 })
	msgs := make([]*queue.Msg, len(s.rcpts))
	for i, rc := range s.rcpts {
		msgs[i] = &queue.Msg{
			SenderAccount:    sb.account,
			SenderAddress:    s.from,
			RecipientAddress: rc.addr,
			MessageID:        msgID,
			Subject:          subject,
			Size:             int64(len(data)),
			Has8bit:          has8bit,
			SMTPUTF8:         s.opts.UTF8,
			EnvID:            s.opts.EnvelopeID,
			Ret:              ret,
			Notify:           rc.notify,
			ORcpt:            rc.orcpt,
			Extra:            extra,
		}
	}
	var outs []queue.Outcome
	err = sb.DB.Write(context.Background(), func(tx *bstore.Tx) error {
		outs, err = sb.Handler.Add(tx, msgs...)
		if err != nil {
			return err
		}
		return tx.Insert(&Message{BaseID: msgs[0].BaseID, Data: data})
	})
	if errors.Is(err, queue.ErrBadMsg) {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	} else if err != nil {
		sb.event(Event{Kind: EventError, Text: "queueing a submission: " + err.Error()})
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "queueing failed, try again"}
	}
	for i, o := range outs {
		text := fmt.Sprintf("from %s, queued as message %d", s.from, o.MsgID)
		if o.Result != queue.ResultQueued {
			text = fmt.Sprintf("from %s, %s at submission", s.from, o.Result)
		}
		sb.event(Event{Kind: EventSubmitted, Recipient: msgs[i].RecipientAddress, Text: text})
	}
	sb.Kick()
	return nil
}
