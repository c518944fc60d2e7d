package report

import (
	"net/mail"
	"strings"
)

// isAutoReply reports whether a message header marks an automatic reply, such
// as a vacation or out-of-office message, which must not be treated as a
// bounce. It looks at the RFC 3834 Auto-Submitted field, the fields vacation
// programs and Exchange set (X-Autoreply, X-Autorespond, Precedence:
// auto_reply, X-Auto-Response-Suppress together with an auto-reply subject),
// and subjects such as "Out of Office" or "Automatic reply".
//
// Bounces are often auto-replied too (RFC 3834 section 5), so Read only
// consults isAutoReply for messages that show no sign of being a bounce.
func isAutoReply(h mail.Header) bool {
	// RFC 3834 section 5: any value other than "no" marks an automatic
	// message; "auto-replied" is the one for replies.
	as := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	if strings.HasPrefix(as, "auto-replied") {
		return true
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Vacation"} {
		if v := strings.ToLower(strings.TrimSpace(h.Get(k))); v != "" && v != "no" && v != "false" {
			return true
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "auto_reply", "auto-reply":
		return true
	}
	subj := strings.ToLower(decodeHeader(h.Get("Subject")))
	for _, s := range autoReplySubjects {
		if strings.Contains(subj, s) {
			return true
		}
	}
	return false
}

// autoReplySubjects are subject phrases of vacation and out-of-office
// messages, lower case.
var autoReplySubjects = []string{
	"out of office",
	"out of the office",
	"automatic reply",
	"auto reply",
	"autoreply",
	"auto-reply",
	"auto response",
	"autoresponse",
	"vacation",
	"away from the office",
	"away until",
	"abwesenheitsnotiz",
	"réponse automatique",
	"risposta automatica",
	"respuesta automática",
}
