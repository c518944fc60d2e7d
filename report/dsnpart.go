package report

import (
	"bytes"
	"errors"
	"strings"

	"github.com/bouncekit/bouncekit/dsn"
)

// parseDeliveryStatus reads the per-recipient fields of a
// message/delivery-status part (RFC 3464 section 2) that dsn.Parse refused,
// or of DSN fields written into a text body, with dsn.DecodeLenient: see
// there for what it tolerates. Recipients without an address are left out.
// truncated says the fields named more recipients than the first
// dsn.MaxRecipients returned.
func parseDeliveryStatus(b []byte) (rcpts []textRecipient, truncated bool) {
	if !namesRecipient(b) {
		return nil, false
	}
	drs, err := dsn.DecodeLenient(bytes.NewReader(b))
	return textRecipientsOf(drs), errors.Is(err, dsn.ErrTooManyRecipients)
}

// textRecipientsOf returns the text reader's recipients for recipients
// package dsn decoded; nil for none.
func textRecipientsOf(drs []dsn.Recipient) []textRecipient {
	if len(drs) == 0 {
		return nil
	}
	rcpts := make([]textRecipient, 0, len(drs))
	for _, dr := range drs {
		rcpts = append(rcpts, textRecipientOf(dr))
	}
	return rcpts
}

// parseDeliveryStatusText is parseDeliveryStatus of DSN fields written
// into a bounce's text; the text is copied only when it names a recipient.
func parseDeliveryStatusText(text string) ([]textRecipient, bool) {
	if !namesRecipient(text) {
		return nil, false
	}
	return parseDeliveryStatus([]byte(text))
}

// namesRecipient reports whether s may hold delivery-status fields that
// name a recipient: every recipient DecodeLenient keeps has a
// Final-Recipient or Original-Recipient field (RFC 3464 section 2.3), so
// text without the word, in any case, is not decoded at all (nor copied).
func namesRecipient[T string | []byte](s T) bool {
	return indexFold(s, "recipient") >= 0
}

// textRecipientOf returns the text reader's recipient for a DSN recipient,
// taking the diagnostic, reply code and status from where the DSN has them.
func textRecipientOf(dr dsn.Recipient) textRecipient {
	r := textRecipient{
		Address:           dr.FinalRecipient,
		OriginalRecipient: dr.OriginalRecipient,
		Action:            string(dr.Action),
		Status:            dr.Status,
	}
	if r.Status == "" {
		// A Status that is not only a code (RFC 3464 section 2.3.4), such
		// as "550 5.1.1", as dsn kept it.
		r.Status = findStatus(firstValue(dr.Extra["Status"]))
	}
	r.Diagnostic = dropRepeatedCodes(strings.Join(strings.Fields(dr.DiagnosticCode), " "))
	if r.Diagnostic == "" && !genericStatusComment(dr.StatusComment) {
		// Some software explains the code: "5.4.4 (Illegal host/domain name found)".
		r.Diagnostic = dr.StatusComment
	}
	if r.Diagnostic != "" {
		code, status := codes(r.Diagnostic)
		r.Code = code
		if r.Status == "" {
			r.Status = status
		}
	}
	return r
}

// genericStatusComment reports whether a Status comment only repeats the
// class, as in "5.0.0 (permanent failure)", and says nothing a classifier
// could use.
func genericStatusComment(s string) bool {
	switch strings.ToLower(s) {
	case "", "permanent failure", "unknown permanent failure", "temporary failure", "persistent transient failure", "unknown transient failure", "success", "delayed":
		return true
	}
	return false
}

// dropRepeatedCodes removes the code prefixes of the continuation lines of a
// multi-line reply that a DSN's Diagnostic-Code carries folded into one line,
// as in "550-5.7.1 Messages with multiple 550-5.7.1 addresses in From:". The
// first code stays.
func dropRepeatedCodes(s string) string {
	if len(s) < 4 || !isDigits(s[:3]) || s[3] != '-' && s[3] != ' ' {
		return s
	}
	code := s[:3]
	w := strings.Fields(s[4:])
	status := ""
	if len(w) > 0 && findStatus(w[0]) == w[0] {
		status = w[0]
	}
	out := []string{s[:3]}
	if s[3] == '-' {
		out[0] += "-"
	}
	for i := 0; i < len(w); i++ {
		if i > 0 {
			switch {
			case w[i] == code+"-"+status, status == "" && w[i] == code+"-":
				continue
			case w[i] == code && status != "" && i+1 < len(w) && w[i+1] == status:
				i++
				continue
			}
		}
		out = append(out, w[i])
	}
	if s[3] == '-' && len(out) > 1 {
		return out[0] + strings.Join(out[1:], " ")
	}
	return strings.Join(out, " ")
}
