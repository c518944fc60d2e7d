package queuetest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/emersion/go-smtp"
)

// SMTPServer is a go-smtp server on 127.0.0.1 for tests of a delivery loop
// that speaks SMTP (with package delivery or a host's own client): it
// accepts every recipient but those in Refuse, which get their reply at
// RCPT TO, and records the messages it accepted. Nothing leaves the
// machine.
type SMTPServer struct {
	// Addr is the server's "127.0.0.1:port".
	Addr string

	refuse map[string]*smtp.SMTPError
	srv    *smtp.Server
	done   chan error
	l      net.Listener // Closed by Close too (see there).

	mu       sync.Mutex
	received []SMTPMessage
}

// SMTPMessage is one message SMTPServer accepted.
type SMTPMessage struct {
	From string
	To   []string // The accepted recipients.
	Data []byte
}

// NewSMTPServer starts an SMTPServer that answers the recipients in refuse
// (by exact address) with their reply. Close stops it.
func NewSMTPServer(refuse map[string]*smtp.SMTPError) (*SMTPServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("queuetest: listening for the SMTP server: %w", err)
	}
	s := &SMTPServer{Addr: l.Addr().String(), refuse: refuse, done: make(chan error, 1), l: l}
	s.srv = smtp.NewServer(smtpBackend{s})
	s.srv.Domain = "mx.queuetest.example"
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

// Close stops the server and waits for it; it returns the error that ended
// serving, if it was not the Close.
func (s *SMTPServer) Close() error {
	s.srv.Close()
	// go-smtp's Close closes only the listeners Serve has taken: a Close
	// before the goroutine reached Serve would leave it serving for good.
	s.l.Close()
	if err := <-s.done; err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("queuetest: SMTP server: %w", err)
	}
	return nil
}

// Received returns the messages accepted so far.
func (s *SMTPServer) Received() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMTPMessage(nil), s.received...)
}

type smtpBackend struct{ s *SMTPServer }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &smtpSession{s: b.s}, nil
}

type smtpSession struct {
	s   *SMTPServer
	cur SMTPMessage
}

func (ss *smtpSession) Reset()        { ss.cur = SMTPMessage{} }
func (ss *smtpSession) Logout() error { return nil }

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.cur = SMTPMessage{From: from}
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e, ok := ss.s.refuse[to]; ok {
		return e
	}
	ss.cur.To = append(ss.cur.To, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.Data = data
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, ss.cur)
	ss.s.mu.Unlock()
	return nil
}
