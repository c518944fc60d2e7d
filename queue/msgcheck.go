package queue

import (
	"fmt"
	"unicode/utf8"

	"github.com/bouncekit/bouncekit/dsn"
)

// checkDSNFields refuses a message whose fields that its DSN carries in
// header or delivery-status fields (RFC 3464 sections 2.2 and 2.3) could not
// be written there: control characters (a CR or LF would start a new field),
// invalid UTF-8, or a non-ASCII sender without SMTPUTF8 (RFC 6531 section
// 3.4; the DSN is sent to it). Such a message could be queued, but its DSN
// never composed, so FailMsgs would fail for it on every attempt.
func checkDSNFields(m *Msg) error {
	for _, f := range []struct {
		name, value string
	}{
		{"sender address", m.SenderAddress},
		{"recipient address", m.RecipientAddress},
		{"message-id", m.MessageID},
		{"envid", m.EnvID},
		{"orcpt", m.ORcpt},
		{"future release request", m.FutureReleaseRequest},
	} {
		if !utf8.ValidString(f.value) {
			return fmt.Errorf("%w: %s %q is not valid utf-8", ErrBadMsg, f.name, f.value)
		}
		for _, c := range []byte(f.value) {
			if c < 0x20 || c == 0x7f {
				return fmt.Errorf("%w: %s %q has control character 0x%02x", ErrBadMsg, f.name, f.value, c)
			}
		}
	}
	if !m.SMTPUTF8 && !isASCII(m.SenderAddress) {
		return fmt.Errorf("%w: non-ascii sender address %q without smtputf8", ErrBadMsg, m.SenderAddress)
	}
	return checkDSNParams(m)
}

// checkDSNParams refuses a message whose NOTIFY or RET (RFC 3461 sections
// 4.1 and 4.3) is not one the DSN code reads as meant: an unknown keyword,
// NEVER with another, or a spelling other than the canonical one, which
// dsn.ParseNotify and dsn.ParseRet make from an SMTP parameter.
func checkDSNParams(m *Msg) error {
	if !m.Notify.Valid() {
		canonical, err := dsn.ParseNotify(string(m.Notify))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadMsg, err)
		}
		return fmt.Errorf("%w: %w %q: not in canonical form %q (see dsn.ParseNotify)", ErrBadMsg, dsn.ErrNotify, m.Notify, canonical)
	}
	if !m.Ret.Valid() {
		return fmt.Errorf("%w: %w %q: want %q, %q or empty (see dsn.ParseRet)", ErrBadMsg, dsn.ErrRet, m.Ret, dsn.RetFull, dsn.RetHeaders)
	}
	return nil
}

func isASCII(s string) bool {
	for _, c := range []byte(s) {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
