package delivery

import (
	"errors"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
)

// Sentinel errors, wrapped in the *bounce.SMTPError of a result. Errors
// about the client's configuration start with "delivery: ".
var (
	// ErrNullMX: the recipient domain publishes a null MX (RFC 7505): it
	// accepts no mail.
	ErrNullMX = errors.New("delivery: domain accepts no mail (null mx)")

	// ErrNoAddress: the MX host (or the implicit MX) has no IP address.
	ErrNoAddress = errors.New("delivery: host has no ip address")

	// ErrMessageTooBig: the message is larger than the server's SIZE limit
	// (RFC 1870); it was not sent.
	ErrMessageTooBig = errors.New("delivery: message larger than the server's size limit")

	// ErrNoSMTPUTF8: the message needs SMTPUTF8 (RFC 6531) and the server
	// does not offer it.
	ErrNoSMTPUTF8 = errors.New("delivery: message needs smtputf8, server does not offer it")

	// ErrNo8BITMIME: the message has 8-bit data and the server does not
	// offer 8BITMIME (RFC 6152); this client does not convert messages.
	ErrNo8BITMIME = errors.New("delivery: message has 8-bit data, server does not offer 8bitmime")

	// ErrRequireTLS: the message requires TLS (RFC 8689) and the
	// connection is not verified TLS to a server that offers REQUIRETLS.
	ErrRequireTLS = errors.New("delivery: message requires tls, not available")

	// ErrTransactionClosed: the transaction ended (the server sent 421 or
	// the connection broke) before this recipient's outcome was known.
	ErrTransactionClosed = errors.New("delivery: transaction closed before the recipient's outcome")

	// ErrNoHostname: Client.Hostname is empty.
	ErrNoHostname = errors.New("delivery: client has no hostname")

	// ErrNoOpener: Client.Opener is nil.
	ErrNoOpener = errors.New("delivery: client has no message opener")
)

// Enhanced status codes the client gives failures it finds itself, before
// the server could refuse (RFC 3463, and the registry of RFC 5248).
var (
	enhNullMX     = bounce.EnhancedCode{5, 1, 10} // RFC 7505 section 3.
	enhTooBig     = bounce.EnhancedCode{5, 3, 4}  // Message too big for system.
	enhNoUTF8     = bounce.EnhancedCode{5, 6, 7}  // RFC 6531 section 3.7.2.
	enhNo8bit     = bounce.EnhancedCode{5, 6, 3}  // Conversion required but not supported.
	enhRequireTLS = bounce.EnhancedCode{5, 7, 30} // RFC 8689 section 5.
)

// stageError returns err as a *bounce.SMTPError at stage: a go-smtp reply
// keeps its code, enhanced code and text; any other error (network, TLS,
// timeout) becomes a temporary failure without a reply, with err kept for
// errors.As and for Classify, which reads DNS, dial and TLS errors.
func stageError(err error, stage bounce.Stage) *bounce.SMTPError {
	var se *bounce.SMTPError
	if errors.As(err, &se) {
		c := *se
		if c.Stage == bounce.StageUnknown {
			c.Stage = stage
		}
		return &c
	}
	var ge *smtp.SMTPError
	if errors.As(err, &ge) {
		e := &bounce.SMTPError{
			Permanent: ge.Code/100 == 5,
			Code:      ge.Code,
			Stage:     stage,
			Err:       err,
		}
		if ge.EnhancedCode != smtp.NoEnhancedCode {
			e.EnhancedCode = bounce.EnhancedCode(ge.EnhancedCode)
		}
		lines := strings.Split(ge.Message, "\n")
		e.Line = lines[0]
		if len(lines) > 1 {
			e.MoreLines = lines[1:]
		}
		return e
	}
	return &bounce.SMTPError{Stage: stage, Err: err}
}

// localError is a failure the client found itself: permanent, with an
// enhanced code and no reply code, wrapping sentinel.
func localError(stage bounce.Stage, enh bounce.EnhancedCode, sentinel error) *bounce.SMTPError {
	return &bounce.SMTPError{
		Permanent:    true,
		EnhancedCode: enh,
		Stage:        stage,
		Line:         strings.TrimPrefix(sentinel.Error(), "delivery: "),
		Err:          sentinel,
	}
}

// closesConnection reports whether err ends the connection: a 421 reply
// (RFC 5321 section 3.8) or any error that is not a reply (I/O, timeout).
func closesConnection(err error) bool {
	var ge *smtp.SMTPError
	if errors.As(err, &ge) {
		return ge.Code == 421
	}
	return err != nil
}
