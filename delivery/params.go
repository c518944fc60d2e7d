package delivery

import (
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-smtp"
	"golang.org/x/net/idna"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
)

// envelopeAddress returns addr for MAIL FROM or RCPT TO: a non-ASCII
// domain in its A-label form, so only a non-ASCII localpart needs SMTPUTF8
// (RFC 6531 section 3.2). utf8 says whether the result still needs it.
func envelopeAddress(addr string) (out string, needsUTF8 bool) {
	if isASCII(addr) {
		return addr, false
	}
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr, true
	}
	local, domain := addr[:i], addr[i+1:]
	if a, err := idna.Lookup.ToASCII(domain); err == nil {
		domain = a
	}
	out = local + "@" + domain
	return out, !isASCII(out)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isXtextSafe reports whether s can be an ENVID or ORCPT address: printable
// US-ASCII (RFC 3461 section 4), as go-smtp requires.
func isXtextSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// mailOptions returns the MAIL FROM parameters for a transaction whose
// first message is m. go-smtp sends each only where the server offers its
// extension (BODY=8BITMIME whenever offered; SIZE, RFC 1870; RET and
// ENVID, RFC 3461 section 4.3 and 4.4); SMTPUTF8 and REQUIRETLS are
// checked before, see transaction.
func mailOptions(m queue.Msg, utf8, requireTLS bool) *smtp.MailOptions {
	o := &smtp.MailOptions{Size: m.Size, UTF8: utf8, RequireTLS: requireTLS}
	switch m.Ret {
	case dsn.RetFull:
		o.Return = smtp.DSNReturnFull
	case dsn.RetHeaders:
		o.Return = smtp.DSNReturnHeaders
	}
	if isXtextSafe(m.EnvID) {
		o.EnvelopeID = m.EnvID
	}
	return o
}

// rcptOptions returns the RCPT TO parameters of m: NOTIFY and ORCPT (RFC
// 3461 section 4.1 and 4.2), sent by go-smtp when the server offers DSN.
// A value go-smtp would refuse is left out: the server then decides, as
// if it was not given.
func rcptOptions(m queue.Msg) *smtp.RcptOptions {
	if m.Notify == "" && m.ORcpt == "" {
		return nil
	}
	var o smtp.RcptOptions
	if m.Notify != "" && m.Notify.Valid() {
		for _, w := range strings.Split(string(m.Notify), ",") {
			o.Notify = append(o.Notify, smtp.DSNNotify(w))
		}
	}
	if typ, addr, ok := strings.Cut(m.ORcpt, ";"); ok && addr != "" {
		switch {
		case strings.EqualFold(strings.TrimSpace(typ), "rfc822") && isXtextSafe(addr):
			o.OriginalRecipientType, o.OriginalRecipient = smtp.DSNAddressTypeRFC822, addr
		case strings.EqualFold(strings.TrimSpace(typ), "utf-8"):
			o.OriginalRecipientType, o.OriginalRecipient = smtp.DSNAddressTypeUTF8, addr
		}
	}
	return &o
}
