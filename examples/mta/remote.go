package main

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/emersion/go-smtp"
)

// The recipients of the "remote" SMTP server, each answering like a real
// provider does.
const (
	rcptOK       = "ok@remote.example"      // Accepted.
	rcptUnknown  = "nouser@remote.example"  // 550 5.1.1 user unknown.
	rcptFull     = "full@remote.example"    // 452 4.2.2 mailbox full, three times, then accepted.
	rcptGrey     = "grey@remote.example"    // 451 4.7.1 greylisted once, then accepted.
	rcptListed   = "listed@remote.example"  // 554 5.7.1 blocked using a DNS blocklist.
	rcptDMARC    = "dmarc@remote.example"   // Multi-line 550-5.7.26 (Gmail's unauthenticated-sender reply).
	rcptDrop     = "drop@remote.example"    // 421 and disconnect, every time: expires.
	rcptPlain    = "plain@remote.example"   // 550 without an enhanced code.
	rcptLater    = "later@remote.example"   // Accepted; a DSN arrives later.
	rcptReports  = "reports@remote.example" // Receives our DMARC report; rejects it.
	remoteDomain = "remote.example"
)

// remoteServer is the demo's remote MTA: a go-smtp server on 127.0.0.1.
type remoteServer struct {
	srv  *smtp.Server
	l    net.Listener
	addr string

	mu    sync.Mutex
	tries map[string]int // RCPT attempts per recipient.
}

func startRemote() (*remoteServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &remoteServer{addr: l.Addr().String(), l: l, tries: map[string]int{}}
	r.srv = smtp.NewServer(r)
	r.srv.Domain = "mx.remote.example"
	r.srv.AllowInsecureAuth = true
	go r.srv.Serve(l)
	return r, nil
}

// Close stops the server. go-smtp's Close closes only the listeners Serve
// has taken, so the listener is closed here too.
func (r *remoteServer) Close() error {
	err := r.srv.Close()
	r.l.Close()
	return err
}

// NewSession implements smtp.Backend.
func (r *remoteServer) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &remoteSession{r: r}, nil
}

type remoteSession struct {
	r *remoteServer
}

func (s *remoteSession) Reset()                               {}
func (s *remoteSession) Logout() error                        { return nil }
func (s *remoteSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *remoteSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }
func (s *remoteSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	to = strings.ToLower(to)
	s.r.mu.Lock()
	s.r.tries[to]++
	n := s.r.tries[to]
	s.r.mu.Unlock()

	switch to {
	case rcptOK, rcptLater:
		return nil
	case rcptUnknown:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<nouser@remote.example>: Recipient address rejected: User unknown in virtual mailbox table"}
	case rcptFull:
		if n <= 3 {
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "The email account that you tried to reach is over quota. Please direct the recipient to https://support.example/mail/?p=422"}
		}
		return nil
	case rcptGrey:
		if n <= 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "<grey@remote.example>: Recipient address rejected: Greylisted, see https://postgrey.example/ (try again later)"}
		}
		return nil
	case rcptListed:
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1"}
	case rcptDMARC:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 26}, Message: "This mail has been blocked because the sender is unauthenticated.\nGmail requires all senders to authenticate with either SPF or DKIM.\n\nAuthentication results:\nDKIM = did not pass\nSPF [example.org] with ip: [127.0.0.1] = did not pass"}
	case rcptDrop:
		// An overloaded server answers 421; the client then closes the
		// connection (RFC 5321 section 3.8).
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service not available, closing transmission channel"}
	case rcptPlain:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.NoEnhancedCode, Message: "No such user here"}
	case rcptReports:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox does not exist"}
	}
	return errors.New("unexpected recipient")
}
