package queue

import "strings"

// defaultCatchallSeparator is used for parsing FromIDs when
// Handler.CatchallSeparator is empty.
const defaultCatchallSeparator = "+"

// maxFromIDCandidates bounds the FromIDs tried for one address whose
// localpart holds the separator several times.
const maxFromIDCandidates = 8

// MailFrom returns the MAIL FROM address to use for m: the sender's
// localpart, separator and FromID at the sender's domain (as mox does), so
// a DSN that comes back to it names the message, even when the DSN itself
// cannot be read. Without a FromID, with an empty separator, for the null
// sender or a quoted localpart it returns SenderAddress unchanged.
//
// The host's delivery for the address must accept it: the separator is the
// one its catchall (subaddress) handling uses, and Handler.CatchallSeparator
// must be set to the same value for ProcessIncoming.
//
// An SMTP transaction has one MAIL FROM (RFC 5321 section 3.3), so one to
// several recipients of a submission uses one message's address for all:
// Batch.MailFrom, the first message's. ProcessIncoming therefore takes a
// FromID as naming the submission (all messages with its BaseID), not a
// recipient: a report that names a recipient changes the message to that
// address, whichever message's FromID it came back to. A host that wants a
// report to identify the recipient by FromID alone sends each recipient in
// a transaction of its own, with its message's MailFrom.
func (m Msg) MailFrom(separator string) string {
	i := strings.LastIndexByte(m.SenderAddress, '@')
	if m.FromID == "" || separator == "" || i <= 0 || strings.HasPrefix(m.SenderAddress, `"`) {
		return m.SenderAddress
	}
	return m.SenderAddress[:i] + separator + m.FromID + m.SenderAddress[i:]
}

// ParseMailFrom splits an address as made by Msg.MailFrom into the base
// address (without separator and FromID) and the FromID. The FromID is what
// follows the first separator in the localpart, so the base localpart must
// not contain the separator; ProcessIncoming also tries the later ones. ok
// is false when the localpart has no separator or nothing follows it.
func ParseMailFrom(addr, separator string) (base, fromID string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if separator == "" || i <= 0 {
		return addr, "", false
	}
	local, domain := addr[:i], addr[i:]
	j := strings.Index(local, separator)
	if j < 0 || j+len(separator) == len(local) {
		return addr, "", false
	}
	return local[:j] + domain, local[j+len(separator):], true
}

// fromIDCandidates returns the FromIDs an address may carry: what follows
// each occurrence of the separator in its localpart, first occurrence
// first. A FromID may itself contain the separator (generated ones use
// "-" and "_"), and a localpart may too.
func fromIDCandidates(addr, separator string) []string {
	i := strings.LastIndexByte(addr, '@')
	if separator == "" || i <= 0 {
		return nil
	}
	local := trimAngle(addr[:i])
	var l []string
	for off := 0; len(l) < maxFromIDCandidates; {
		j := strings.Index(local[off:], separator)
		if j < 0 {
			break
		}
		off += j + len(separator)
		if off < len(local) {
			l = append(l, local[off:])
		}
	}
	return l
}

func (h *Handler) catchallSeparator() string {
	if h.CatchallSeparator != "" {
		return h.CatchallSeparator
	}
	return defaultCatchallSeparator
}

// MailFrom returns the MAIL FROM address for the SMTP transaction that
// carries b: that of its first message (see Msg.MailFrom), or "" for an
// empty batch. One transaction has one MAIL FROM for all its recipients;
// ProcessIncoming takes a FromID as naming the whole submission (the
// messages with its BaseID), and finds the recipient a report is about
// among them by address.
func (b Batch) MailFrom(separator string) string {
	if len(b.Msgs) == 0 {
		return ""
	}
	return b.Msgs[0].MailFrom(separator)
}
