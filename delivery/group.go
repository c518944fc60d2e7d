package delivery

import (
	"strings"

	"github.com/bouncekit/bouncekit/queue"
)

// domainBatch is the messages (indexes into the results) to one recipient
// domain, in their order.
type domainBatch struct {
	domain string
	idx    []int
}

// splitDomains groups msgs by recipient domain, in the order of each
// domain's first message.
func splitDomains(msgs []queue.Msg) []domainBatch {
	var l []domainBatch
	index := map[string]int{}
	for i, m := range msgs {
		d := recipientDomain(m)
		j, ok := index[d]
		if !ok {
			j = len(l)
			index[d] = j
			l = append(l, domainBatch{domain: d})
		}
		l[j].idx = append(l[j].idx, i)
	}
	return l
}

// recipientDomain returns the message's lower-case recipient domain.
func recipientDomain(m queue.Msg) string {
	if m.RecipientDomain != "" {
		return strings.ToLower(m.RecipientDomain)
	}
	if i := strings.LastIndexByte(m.RecipientAddress, '@'); i >= 0 {
		return strings.ToLower(m.RecipientAddress[i+1:])
	}
	return ""
}

// txn is one SMTP transaction: one MAIL FROM, the same message data, and
// the recipients (indexes into the results) in their order.
type txn struct {
	mailFrom   string
	requireTLS bool
	idx        []int
}

// splitTransactions groups the messages idx of one domain into
// transactions. A transaction has one MAIL FROM (RFC 5321 section 3.3) and
// one message data, so messages of different submissions (BaseID) or
// senders never share one, nor do messages with and without REQUIRETLS
// (a MAIL FROM parameter, RFC 8689 section 4.1). With perSubmission, the
// first message's MAIL FROM serves its whole submission; otherwise each
// distinct Msg.MailFrom (a different FromID) has its own transaction.
func splitTransactions(results []queue.AttemptResult, idx []int, separator string, perSubmission bool) []txn {
	type key struct {
		baseID     int64
		sender     string
		mailFrom   string
		requireTLS bool
	}
	var l []txn
	index := map[key]int{}
	for _, i := range idx {
		m := results[i].Msg
		k := key{baseID: m.BaseID, sender: m.SenderAddress, requireTLS: requiresTLS(m)}
		if !perSubmission {
			k.mailFrom = m.MailFrom(separator)
		}
		j, ok := index[k]
		if !ok {
			j = len(l)
			index[k] = j
			l = append(l, txn{mailFrom: m.MailFrom(separator), requireTLS: k.requireTLS})
		}
		l[j].idx = append(l[j].idx, i)
	}
	return l
}

// requiresTLS reports whether m asks for REQUIRETLS.
func requiresTLS(m queue.Msg) bool {
	return m.RequireTLS != nil && *m.RequireTLS
}
