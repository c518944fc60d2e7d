package queue

import (
	"strings"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/report"
)

// MaxIncomingRecipients bounds the recipients ProcessIncoming handles from
// one report; further recipients are ignored (and logged). It equals the
// limits of package dsn and of the bounce text parser.
const MaxIncomingRecipients = 1000

// incomingReport is what parseIncoming found in an incoming message: package
// report's reading, in the form the matching and classification use.
type incomingReport struct {
	kind   IncomingKind
	format report.Format

	messageID string // Message-ID of the incoming message, without <>.
	subject   string

	envID         string // RFC 3464 Original-Envelope-Id.
	origMessageID string // Message-ID of the message the report is about, without <>.

	rcpts     []reportRcpt
	truncated bool // More recipients than MaxIncomingRecipients.

	feedback *report.Feedback // For IncomingFeedback.

	// parseErr says why a message that looked like a DSN could not be read
	// as one, for the unrecognized event.
	parseErr string
}

// reportRcpt is one recipient of a DSN or bounce.
type reportRcpt struct {
	address    string // Final-Recipient, or the address a bounce names.
	original   string // Original-Recipient, if given.
	action     dsn.Action
	status     bounce.EnhancedCode // RFC 3463 enhanced status code; zero if none or invalid.
	code       int                 // SMTP reply code.
	diagnostic string              // Diagnostic-Code text or the bounce's sentence.
	remoteMTA  string
	stage      bounce.Stage // The command the reply answered, as far as the text says.
	// mailer is set when a local delivery program, not an SMTP server,
	// failed: a pipe recipient ("|/usr/bin/procmail") or a Diagnostic-Code
	// of type X-Unix (an exit status or the program's message).
	mailer bool
	// groupRefused is set for a Google Groups bounce: the group does not
	// exist or the sender may not post to it, in whatever language it says
	// so.
	groupRefused bool
}

// incomingKinds maps package report's kinds to ProcessIncoming's. A
// provider notification is a bounce, or a feedback report when it carries a
// complaint (parseIncoming).
var incomingKinds = map[report.Kind]IncomingKind{
	report.KindDSN:          IncomingDSN,
	report.KindBounce:       IncomingBounce,
	report.KindFeedback:     IncomingFeedback,
	report.KindNotification: IncomingBounce,
	report.KindAutoReply:    IncomingAutoReply,
	report.KindNone:         IncomingOther,
}

// parseIncoming reads msg with package report. It never fails: what it
// cannot read is IncomingOther.
func parseIncoming(msg []byte) *incomingReport {
	r := report.Read(msg)
	rep := &incomingReport{
		kind:          incomingKinds[r.Kind],
		format:        r.Format,
		messageID:     r.MessageID,
		subject:       r.Subject,
		envID:         r.EnvelopeID,
		origMessageID: r.OriginalMessageID,
		truncated:     r.Truncated,
		feedback:      r.Feedback,
	}
	if rep.kind == "" {
		rep.kind = IncomingOther
	}
	if r.Feedback != nil {
		// A sending service's complaint notification (Amazon SES): the
		// same outcome as an RFC 5965 report.
		rep.kind = IncomingFeedback
		return rep
	}
	if r.DSNError != nil {
		rep.parseErr = r.DSNError.Error()
	}
	for _, rc := range r.Recipients {
		action, status := finalAction(rc.Action, rc.Status, rc.Diagnostic)
		rep.rcpts = append(rep.rcpts, reportRcpt{
			address:      rc.Address,
			original:     rc.OriginalRecipient,
			action:       action,
			status:       status,
			code:         rc.Code,
			diagnostic:   rc.Diagnostic,
			remoteMTA:    rc.RemoteMTA,
			stage:        rc.Stage,
			mailer:       rc.DiagnosticType == "x-unix" || isPipe(rc.Address) || isPipe(rc.ActualRecipient),
			groupRefused: r.Format == report.FormatGoogleGroups,
		})
	}
	if len(rep.rcpts) > MaxIncomingRecipients {
		rep.rcpts = rep.rcpts[:MaxIncomingRecipients]
		rep.truncated = true
	}
	return rep
}

// isPipe reports whether a recipient is a program that the message was
// piped to: "|/usr/bin/procmail", "X-Unix; |/home/u/catch.pl", or
// "rfc822; |..." as some MTAs write it.
func isPipe(addr string) bool {
	a := strings.TrimSpace(addr)
	if i := strings.IndexByte(a, ';'); i >= 0 && !strings.HasPrefix(a, "|") {
		a = strings.TrimSpace(a[i+1:])
	}
	return strings.HasPrefix(a, "|")
}
