package queue

import (
	"fmt"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/webhook"
)

// maxMatchCandidates bounds the messages read for one ENVID or Message-ID,
// newest first: a submission to more recipients is matched only among the
// newest.
const maxMatchCandidates = 1000

// candidate is a message an incoming report may be about: retired, or
// still in the queue (then r is the Msg in retired form and queued is set).
type candidate struct {
	r      MsgRetired
	queued bool
	used   bool // Matched to a recipient of this report already.
}

// incomingRun holds the state of one ProcessIncoming call.
type incomingRun struct {
	h       *Handler
	tx      *bstore.Tx
	account string
	rep     *incomingReport
	msg     []byte
	now     time.Time

	reportKey string
	fromID    string
	byFromID  []*candidate
	byEnvID   []*candidate
	byMsgID   []*candidate

	hooks []webhook.Hook
}

// run matches the report and records its outcomes in res.
func (p *incomingRun) run(rcptTo string, res *IncomingResult) error {
	if err := cleanupSeen(p.tx, p.now); err != nil {
		return err
	}
	p.reportKey = reportKey(p.rep.messageID, p.msg)
	if err := p.loadFromID(rcptTo); err != nil {
		return err
	}
	if len(p.byFromID) > 0 {
		res.FromID = p.fromID
	}

	var err error
	switch p.rep.kind {
	case IncomingDSN, IncomingBounce:
		err = p.runBounce(res)
	case IncomingFeedback:
		err = p.runFeedback(res)
	default:
		err = p.runOther(res)
	}
	if err != nil {
		return err
	}
	if p.h.Hooks != nil && len(p.hooks) > 0 {
		return p.h.queueHooks(p.tx, p.hooks)
	}
	return nil
}

// runBounce handles a DSN or text bounce: one outcome per recipient.
func (p *incomingRun) runBounce(res *IncomingResult) error {
	if len(p.rep.rcpts) == 0 {
		// Bounce wording without a recipient we could read: only a FromID
		// says which message it is about.
		return p.runOther(res)
	}
	if p.rep.envID != "" {
		var err error
		if p.byEnvID, err = p.loadBy(MsgRetired{EnvID: p.rep.envID}, Msg{EnvID: p.rep.envID}); err != nil {
			return err
		}
	}
	if p.rep.origMessageID != "" {
		var err error
		if p.byMsgID, err = p.loadBy(MsgRetired{MessageID: p.rep.origMessageID}, Msg{MessageID: p.rep.origMessageID}); err != nil {
			return err
		}
	}
	for _, rr := range p.rep.rcpts {
		c, match := p.match(rr)
		o := IncomingOutcome{Recipient: rr.address, Match: match, Failure: classifyRcpt(rr)}
		if c != nil {
			o.MsgID = c.r.ID
			o.Queued = c.queued
		}
		dup, err := p.once(rr.address, c, &o)
		if err != nil {
			return err
		}
		if !dup {
			if err := p.applyBounce(c, rr, &o); err != nil {
				return err
			}
		}
		res.Recipients = append(res.Recipients, o)
	}
	return nil
}

// once checks and records the idempotency key for a recipient of the
// report; it sets o.Duplicate and returns true when the key was seen.
func (p *incomingRun) once(recipient string, c *candidate, o *IncomingOutcome) (bool, error) {
	key := seenKey(p.reportKey, recipient)
	dup, err := seen(p.tx, key)
	if err != nil || dup {
		o.Duplicate = dup
		return dup, err
	}
	keep := incomingSeenKeep
	account := p.account
	if c != nil {
		account = c.r.SenderAccount
	}
	if s, _ := p.h.account(account); p.h.keepRetired(s) > keep {
		keep = p.h.keepRetired(s)
	}
	return false, markSeen(p.tx, key, p.now, p.now.Add(keep))
}

// match finds the message a recipient of a DSN or bounce is about: by
// FromID, then ENVID, then the original's Message-ID, each with the
// recipient's address. Where the address does not match (an alias, a
// forward), a single candidate for a report with a single recipient is
// taken.
func (p *incomingRun) match(rr reportRcpt) (*candidate, Match) {
	single := len(p.rep.rcpts) == 1
	for _, s := range []struct {
		cands []*candidate
		m     Match
	}{{p.byFromID, MatchFromID}, {p.byEnvID, MatchEnvID}, {p.byMsgID, MatchMessageID}} {
		for _, c := range s.cands {
			if !c.used && rcptMatches(c.r, rr) {
				c.used = true
				return c, s.m
			}
		}
		if single && len(s.cands) == 1 && !s.cands[0].used {
			s.cands[0].used = true
			return s.cands[0], s.m
		}
	}
	return nil, MatchNone
}

// rcptMatches reports whether the report's recipient is the message's, by
// Final-Recipient or Original-Recipient against RCPT TO or ORCPT.
func rcptMatches(r MsgRetired, rr reportRcpt) bool {
	return addrEqual(rr.address, r.RecipientAddress) ||
		addrEqual(rr.original, r.RecipientAddress) ||
		r.ORcpt != "" && (addrEqual(rr.original, r.ORcpt) || addrEqual(rr.address, r.ORcpt))
}

// loadFromID reads the message whose FromID the address carries, trying
// each possible split at the catchall separator.
func (p *incomingRun) loadFromID(rcptTo string) error {
	for _, id := range fromIDCandidates(rcptTo, p.h.catchallSeparator()) {
		l, err := p.loadBy(MsgRetired{FromID: id}, Msg{FromID: id})
		if err != nil {
			return err
		}
		if len(l) > 0 {
			p.fromID = id
			p.byFromID = l[:1] // FromIDs are unique; the newest wins if not.
			return nil
		}
	}
	return nil
}

// loadBy reads the retired and queued messages with the nonzero fields of
// the filters (one indexed field each), of the account if one was given,
// newest first, at most maxMatchCandidates of each.
func (p *incomingRun) loadBy(rf MsgRetired, mf Msg) ([]*candidate, error) {
	rf.SenderAccount = p.account
	mf.SenderAccount = p.account
	var l []*candidate
	qr := bstore.QueryTx[MsgRetired](p.tx)
	qr.FilterNonzero(rf)
	qr.SortDesc(fieldID)
	qr.Limit(maxMatchCandidates)
	err := qr.ForEach(func(r MsgRetired) error {
		l = append(l, &candidate{r: r})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: looking up retired messages: %w", err)
	}
	qm := bstore.QueryTx[Msg](p.tx)
	qm.FilterNonzero(mf)
	qm.SortDesc(fieldID)
	qm.Limit(maxMatchCandidates)
	err = qm.ForEach(func(m Msg) error {
		l = append(l, &candidate{r: m.Retire(false, "", m.LastAttempt, time.Time{}), queued: true})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: looking up queued messages: %w", err)
	}
	return l, nil
}

// actionEvent returns the webhook event for a DSN action, or
// unrecognized.
func actionEvent(a dsn.Action) string {
	switch a {
	case dsn.ActionFailed:
		return eventFailed
	case dsn.ActionDelayed:
		return eventDelayed
	case dsn.ActionDelivered:
		return eventDelivered
	case dsn.ActionRelayed:
		return eventRelayed
	case dsn.ActionExpanded:
		return eventExpanded
	}
	return eventUnrecognized
}
