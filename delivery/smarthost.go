package delivery

import (
	"errors"
	"fmt"

	"github.com/bouncekit/bouncekit/bounce"
)

// Smarthost is a relay that takes all outgoing mail (submission, RFC
// 6409), instead of the recipient domains' MX hosts.
type Smarthost struct {
	// Host is the relay's host name, dialed by name and checked against
	// its certificate. Required.
	Host string

	// Port is the relay's port. Zero: 465 with ImplicitTLS, else 587.
	Port int

	// ImplicitTLS starts TLS on connect (RFC 8314 section 3.3); otherwise
	// STARTTLS is used (RFC 3207).
	ImplicitTLS bool

	// Insecure allows a relay without TLS or with a certificate that is
	// not valid for Host; for tests and relays on the same machine only.
	// False: a valid TLS connection is required.
	Insecure bool

	// Username and Password authenticate with AUTH PLAIN (RFC 4954, RFC
	// 4616) when Username is set; only over TLS unless Insecure.
	Username string
	Password string
}

// ErrSmarthostTLS: the smarthost offers no STARTTLS, and Insecure is not
// set.
var ErrSmarthostTLS = errors.New("delivery: smarthost offers no starttls")

// ErrSmarthostAuth: the smarthost does not offer AUTH PLAIN.
var ErrSmarthostAuth = errors.New("delivery: smarthost does not offer auth plain")

func (h *Smarthost) validate() error {
	if h.Host == "" {
		return errors.New("delivery: smarthost without host")
	}
	if h.Port < 0 || h.Port > 65535 {
		return fmt.Errorf("delivery: smarthost port %d out of range", h.Port)
	}
	return nil
}

func (h *Smarthost) port() string {
	switch {
	case h.Port != 0:
		return fmt.Sprint(h.Port)
	case h.ImplicitTLS:
		return "465"
	}
	return "587"
}

// auth checks the smarthost's TLS requirement and authenticates.
func (s *session) auth() error {
	h := s.c.Smarthost
	if !h.Insecure && !s.tls {
		return &bounce.SMTPError{Stage: bounce.StageTLS, Err: ErrSmarthostTLS}
	}
	if h.Username == "" {
		return nil
	}
	if !s.client.SupportsAuth("PLAIN") {
		return &bounce.SMTPError{Stage: bounce.StageAuth, Err: ErrSmarthostAuth}
	}
	if err := s.client.Auth(plainAuth{h.Username, h.Password}); err != nil {
		return s.error(err, bounce.StageAuth)
	}
	return nil
}

// plainAuth is the client side of SASL PLAIN (RFC 4616), with the method
// set of go-sasl's Client that go-smtp's Auth takes.
type plainAuth struct {
	username, password string
}

func (a plainAuth) Start() (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a plainAuth) Next(challenge []byte) ([]byte, error) {
	return nil, errors.New("delivery: unexpected auth plain challenge")
}
