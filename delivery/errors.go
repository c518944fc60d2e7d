package delivery

import (
	"errors"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
)

// Sentinel errors, wrapped in the *bounce.SMTPError of a result or, for
// the client's configuration, returned by Deliver. The failures the client finds itself before a server
// refused (a null MX, a message too big for the server, a missing SMTPUTF8,
// 8BITMIME or REQUIRETLS) are *bounce.SMTPError values with an enhanced
// code and no reply code or Err, so that bounce.Classify reads their code.
var (
	// ErrNoAddress: the MX host (or the implicit MX) has no IP address.
	ErrNoAddress = errors.New("delivery: host has no ip address")

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

// The texts of the failures the client finds itself.
const (
	textNullMX     = "domain accepts no mail (null mx)"
	textTooBig     = "message larger than the server's size limit"
	textNoUTF8     = "message needs smtputf8, server does not offer it"
	textNo8bit     = "message has 8-bit data, server does not offer 8bitmime; not converted"
	textRequireTLS = "message requires tls (requiretls), server or connection does not provide it"

	textInsecureRoute    = "message requires tls (requiretls), but the mx records are not authenticated by dnssec or an mta-sts policy (rfc 8689 section 4.2.1); not sent"
	textRouteUnknown     = "message requires tls (requiretls), the secure route could not be checked (rfc 8689 section 4.2.1)"
	textNoRequireTLSHost = "message requires tls (requiretls), no mx host offers requiretls over verified tls (rfc 8689 section 4.2.1)"
)

// localError is a failure the client found itself: permanent, with an
// enhanced code, without reply code or Err (bounce.Classify reads the
// enhanced code only when there is no Err).
func localError(stage bounce.Stage, enh bounce.EnhancedCode, text string) *bounce.SMTPError {
	return &bounce.SMTPError{Permanent: true, EnhancedCode: enh, Stage: stage, Line: text}
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
