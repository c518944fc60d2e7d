package sandbox

import (
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

// Answer is how the simulator treats one address, chosen by its localpart
// (see the package documentation for the table).
type Answer struct {
	// Stage is where Reply, Stall or Greylist take effect: bounce.StageMail
	// (only for the sender), bounce.StageRcpt or bounce.StageDataEnd, the
	// default as in mox.
	Stage bounce.Stage

	// Reply is the refusal, nil to accept.
	Reply *smtp.SMTPError

	// Stall makes the simulator give no answer until the client gives up
	// (or Simulator.MaxStall passes).
	Stall bool

	// Greylist refuses with Reply once per sender and recipient, then
	// accepts.
	Greylist bool

	// Later is the report the simulator sends back after accepting the
	// message: queue.IncomingDSN (a failed DSN), queue.IncomingFeedback (an
	// ARF complaint) or queue.IncomingAutoReply. Empty: none.
	Later queue.IncomingKind
}

// Localpart prefixes that choose the stage of an answer. mox's localserve
// knows "mailfrom" and "rcptto"; "data" is the default, named for clarity.
const (
	prefixMailFrom = "mailfrom"
	prefixRcptTo   = "rcptto"
	prefixData     = "data"
)

// Localpart endings of the conventions; the reply codes are in AnswerFor.
const (
	suffixTempError   = "temperror"   // mox: 451.
	suffixPermError   = "permerror"   // mox: 550.
	suffixTimeout     = "timeout"     // mox: no answer.
	suffixGreylist    = "greylist"    // 451 4.7.1 once.
	suffixMailboxFull = "mailboxfull" // 552 5.2.2.
	suffixAsyncDSN    = "asyncdsn"    // Accepted, then a failed DSN.
	suffixComplaint   = "complaint"   // Accepted, then an ARF complaint.
	suffixAutoReply   = "autoreply"   // Accepted, then an auto-reply.
)

// AnswerFor returns the answer for an address with localpart lp (compared
// without regard to case). A localpart that matches no convention is
// accepted.
func AnswerFor(lp string) Answer {
	lp = strings.ToLower(lp)
	a := Answer{Stage: bounce.StageDataEnd}
	switch {
	case strings.HasPrefix(lp, prefixMailFrom):
		a.Stage = bounce.StageMail
	case strings.HasPrefix(lp, prefixRcptTo):
		a.Stage = bounce.StageRcpt
	}
	reply := func(code int, ec smtp.EnhancedCode, msg string) *smtp.SMTPError {
		return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: msg}
	}
	switch {
	case strings.HasSuffix(lp, suffixTempError):
		// As mox: 451 (RFC 5321 section 4.2.3, local error in processing).
		a.Reply = reply(451, smtp.EnhancedCode{4, 0, 0}, "temporary failure (sandbox: localpart ends in temperror)")
	case strings.HasSuffix(lp, suffixPermError):
		// As mox: 550 (mailbox unavailable).
		a.Reply = reply(550, smtp.EnhancedCode{5, 0, 0}, "permanent failure (sandbox: localpart ends in permerror)")
	case strings.HasSuffix(lp, suffixTimeout):
		a.Stall = true
	case strings.HasSuffix(lp, suffixGreylist):
		// RFC 3463 4.7.1: delivery not authorized, the usual greylisting code.
		a.Greylist = true
		a.Reply = reply(451, smtp.EnhancedCode{4, 7, 1}, "greylisted, try again later (sandbox: localpart ends in greylist)")
	case strings.HasSuffix(lp, suffixMailboxFull):
		// RFC 3463 5.2.2: mailbox full.
		a.Reply = reply(552, smtp.EnhancedCode{5, 2, 2}, "mailbox full (sandbox: localpart ends in mailboxfull)")
	case strings.HasSuffix(lp, suffixAsyncDSN):
		a.Later = queue.IncomingDSN
	case strings.HasSuffix(lp, suffixComplaint):
		a.Later = queue.IncomingFeedback
	case strings.HasSuffix(lp, suffixAutoReply):
		a.Later = queue.IncomingAutoReply
	default:
		if code, ec, ok := codeSuffix(lp); ok {
			a.Reply = reply(code, ec, "failure with code "+strconv.Itoa(code)+" "+bounce.EnhancedCode(ec).String()+" (sandbox: localpart ends in the code)")
		}
	}
	if a.Reply == nil && !a.Stall && a.Later == "" {
		a.Stage = ""
	}
	return a
}

// codeSuffix reads a reply code at the end of lp: three digits 400 to 599,
// optionally followed by "-" and an enhanced code of the same class
// ("user550", "user550-5.1.1"). Without an enhanced code it is the class
// followed by ".0.0", as mox answers.
func codeSuffix(lp string) (int, smtp.EnhancedCode, bool) {
	digits := lp
	var ec smtp.EnhancedCode
	if i := strings.LastIndexByte(lp, '-'); i >= 0 && strings.Count(lp[i+1:], ".") == 2 {
		bec, err := bounce.ParseEnhancedCode(lp[i+1:])
		if err != nil || (bec.Class() != 4 && bec.Class() != 5) {
			return 0, ec, false
		}
		ec, digits = smtp.EnhancedCode(bec), lp[:i]
	}
	if len(digits) < 3 {
		return 0, ec, false
	}
	code, err := strconv.Atoi(digits[len(digits)-3:])
	if err != nil || code < 400 || code > 599 {
		return 0, ec, false
	}
	class := code / 100
	if ec == (smtp.EnhancedCode{}) {
		ec = smtp.EnhancedCode{class, 0, 0}
	} else if ec[0] != class {
		return 0, ec, false
	}
	return code, ec, true
}
