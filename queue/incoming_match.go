package queue

import (
	"fmt"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/webhook"
)

// maxMatchCandidates bounds the messages read for one ENVID, Message-ID or
// FromID's submission, newest first: a submission to more recipients is
// matched only among the newest.
const maxMatchCandidates = 1000

// candidate is a message an incoming report may be about: retired, or
// still in the queue (then r is the Msg in retired form and queued is set).
type candidate struct {
	r      MsgRetired
	queued bool
	used   bool // Matched to a recipient of this report already.

	// remote is set for a message of another node (Handler.Remote): r
	// is its summary, r.ID its ID on that node.
	remote *RemoteSent
}

// incomingRun holds the state of one ProcessIncoming call.
type incomingRun struct {
	h       *Handler
	tx      *bstore.Tx
	account string
	rep     *incomingReport
	msg     []byte
	now     time.Time

	reportKey        string
	fromID           string
	byFromID         []*candidate // The FromID's message, then the rest of its submission once loaded.
	submissionLoaded bool
	byMsgID          []*candidate // A feedback report's Message-ID's messages.

	// keys are the messages a bounce's ENVID, then its returned
	// Message-ID, name, read when match needs them (see keyCands).
	keys []*keyCands

	hooks []hookqueue.Hook

	remote remoteMatch // Handler.Remote's messages, for recipients no local message matches.
}

// run matches the report and records its outcomes in res.
func (p *incomingRun) run(rcptTo string, res *IncomingResult) error {
	if err := p.h.removeExpiredSeen(p.tx, p.now); err != nil {
		return err
	}
	p.reportKey = reportKey(p.rep.messageID, p.msg)
	p.remote.rcptTo = rcptTo
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
	// A FromID names the submission: the search ends there (match reads
	// the submission's other messages when the FromID's own message is not
	// to the recipient).
	if len(p.byFromID) == 0 {
		if p.rep.envID != "" {
			p.keys = append(p.keys, &keyCands{m: MatchEnvID, rf: MsgRetired{EnvID: p.rep.envID}, mf: Msg{EnvID: p.rep.envID}})
		}
		if p.rep.origMessageID != "" {
			p.keys = append(p.keys, &keyCands{m: MatchMessageID, rf: MsgRetired{MessageID: p.rep.origMessageID}, mf: Msg{MessageID: p.rep.origMessageID}})
		}
	}
	for _, rr := range p.rep.rcpts {
		c, match, foundBy, err := p.match(rr)
		if err != nil {
			return err
		}
		if c == nil {
			if remote, err := p.remoteBounce(rr, res); err != nil {
				return err
			} else if remote {
				continue
			}
		}
		o := IncomingOutcome{Recipient: rr.address, Match: match, Failure: classifyRcpt(rr)}
		if c != nil {
			o.MsgID = c.r.ID
			o.Queued = c.queued
		}
		if match == MatchSoleRecipient {
			o.Detail = fmt.Sprintf("the report names %s; the message found by %s is to %s, the only recipient of its submission", rr.address, foundBy, c.r.RecipientAddress)
		}
		key := seenKey(p.reportKey, rr.address)
		dup, err := p.duplicate(key, c)
		if err != nil {
			return err
		}
		if dup {
			o.Duplicate = true
		} else {
			onMsg, err := p.applyBounce(c, rr, &o, key)
			if err != nil {
				return err
			}
			if !onMsg || !p.keyOutlivesRetransmit(c) {
				if err := p.remember(key, c); err != nil {
					return err
				}
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
	dup, err := p.duplicate(key, c)
	if err != nil || dup {
		o.Duplicate = dup
		return dup, err
	}
	return false, p.remember(key, c)
}

// duplicate reports whether key was recorded: in a result of the matched
// message (MsgResult.Report), or as a record of its own (seen).
func (p *incomingRun) duplicate(key string, c *candidate) (bool, error) {
	if c != nil {
		for _, r := range c.r.Results {
			if r.DSN && r.Report == key {
				return true, nil
			}
		}
	}
	if p.h.seenV1Gone.Load() {
		return seenReport(p.tx, key)
	}
	return seen(p.tx, key)
}

// keyOutlivesRetransmit reports whether a key recorded in a result of c
// (after record) lasts until no retransmission of the report can come:
// the retired message is kept retransmitWindow from now, or the queued
// one will be kept that long once it retires. Then the result alone
// recognizes a duplicate and the report writes no record of its own:
// each record type a transaction writes adds its pages, and those of its
// indexes, to the commit.
func (p *incomingRun) keyOutlivesRetransmit(c *candidate) bool {
	if c.queued {
		s, _ := p.h.account(c.r.SenderAccount)
		return p.h.keepRetired(s) >= retransmitWindow
	}
	return !c.r.KeepUntil.Before(p.now.Add(retransmitWindow))
}

// remember records key (markSeen), kept incomingSeenKeep or the
// account's keep period for retired messages if longer.
func (p *incomingRun) remember(key string, c *candidate) error {
	keep := incomingSeenKeep
	account := p.account
	if c != nil {
		account = c.r.SenderAccount
	}
	if s, _ := p.h.account(account); p.h.keepRetired(s) > keep {
		keep = p.h.keepRetired(s)
	}
	return markSeen(p.tx, key, p.now, p.now.Add(keep))
}

// match finds the message a recipient of a DSN or bounce is about. A
// report changes only the messages whose recipient it names: by FromID
// (among the messages of the submission it names), then ENVID, then the
// original's Message-ID, each with the recipient's address (RCPT TO or
// ORCPT against Final-Recipient or Original-Recipient). Where no address
// matches (an alias, a forward), the single message found is taken only
// when the report names one recipient and the message was the only
// recipient of its submission (MatchSoleRecipient; foundBy says how it
// was found); otherwise nothing matches.
func (p *incomingRun) match(rr reportRcpt) (c *candidate, m Match, foundBy Match, err error) {
	if len(p.byFromID) > 0 && !p.submissionLoaded && !rcptMatches(p.byFromID[0].r, rr) {
		if err := p.loadSubmission(); err != nil {
			return nil, MatchNone, MatchNone, err
		}
	}
	for _, c := range p.byFromID {
		if !c.used && rcptMatches(c.r, rr) {
			c.used = true
			return c, MatchFromID, MatchFromID, nil
		}
	}
	for _, k := range p.keys {
		// The messages read so far, then those of the next table.
		for i := 0; ; {
			for ; i < len(k.cands); i++ {
				if c := k.cands[i]; !c.used && rcptMatches(c.r, rr) {
					c.used = true
					return c, k.m, k.m, nil
				}
			}
			if more, err := p.readMore(k); err != nil {
				return nil, MatchNone, MatchNone, err
			} else if !more {
				break
			}
		}
	}
	if len(p.rep.rcpts) != 1 {
		return nil, MatchNone, MatchNone, nil
	}
	// The one message found, by any of the keys: every key's messages
	// have been read by now.
	sources := append([]*keyCands{{m: MatchFromID, cands: p.byFromID}}, p.keys...)
	for _, s := range sources {
		for _, x := range s.cands {
			if c == nil {
				c, foundBy = x, s.m
			} else if x.r.ID != c.r.ID {
				return nil, MatchNone, MatchNone, nil
			}
		}
	}
	if c == nil || c.used {
		return nil, MatchNone, MatchNone, nil
	}
	if alone, err := p.soleRecipient(c.r); err != nil || !alone {
		return nil, MatchNone, MatchNone, err
	}
	c.used = true
	return c, MatchSoleRecipient, foundBy, nil
}

// soleRecipient reports whether r was the only recipient of its
// submission. Only the first message of a submission can be (Add gives it
// BaseID equal to its ID); no other queued or retired message may have
// its ID as BaseID; and since siblings that left the queue are removed
// after the account's keep period, that must not have passed since r was
// queued: without kept history, a sibling may be gone and r only looks
// alone.
func (p *incomingRun) soleRecipient(r MsgRetired) (bool, error) {
	if r.BaseID != r.ID {
		return false, nil
	}
	s, _ := p.h.account(r.SenderAccount)
	keep := p.h.keepRetired(s)
	if keep <= 0 || !p.now.Before(r.Queued.Add(keep)) {
		return false, nil
	}
	n, err := bstore.QueryTx[Msg](p.tx).FilterNonzero(Msg{BaseID: r.ID}).FilterNotEqual(fieldID, r.ID).Exists()
	if err != nil {
		return false, fmt.Errorf("queue: looking up messages of submission %d: %w", r.ID, err)
	} else if n {
		return false, nil
	}
	n, err = bstore.QueryTx[MsgRetired](p.tx).FilterNonzero(MsgRetired{BaseID: r.ID}).FilterNotEqual(fieldID, r.ID).Exists()
	if err != nil {
		return false, fmt.Errorf("queue: looking up retired messages of submission %d: %w", r.ID, err)
	}
	return !n, nil
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
		// The retired message first: most reports come after delivery,
		// and a found one ends the search without reading the queue.
		l, err := p.loadRetired(p.account, MsgRetired{FromID: id})
		if err == nil && len(l) == 0 {
			l, err = p.loadQueued(p.account, Msg{FromID: id})
		}
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

// loadSubmission adds the other messages of the FromID's submission (the
// same BaseID and account) to byFromID, after the FromID's own message: a
// transaction to several recipients has one MAIL FROM (see
// Batch.MailFrom), so a report about any of them may come back to it. It
// is read only when needed: a report about the FromID's own recipient
// does not read the rest.
func (p *incomingRun) loadSubmission() error {
	p.submissionLoaded = true
	first := p.byFromID[0].r
	if first.BaseID == 0 {
		return nil
	}
	l, err := p.loadBy(first.SenderAccount, MsgRetired{BaseID: first.BaseID}, Msg{BaseID: first.BaseID})
	if err != nil {
		return err
	}
	for _, c := range l {
		if c.r.ID != first.ID {
			p.byFromID = append(p.byFromID, c)
		}
	}
	return nil
}

// loadBy reads the retired and queued messages with the nonzero field of
// the filters (one indexed field, the same in both), of account if not
// empty, newest first, at most maxMatchCandidates of each.
//
// The query filters on the identifier alone and checks the account per
// record: given two equality filters on indexed fields, bstore picks
// between their indexes by map order, and the account's index holds all
// of its history. An identifier's index holds the few messages of one
// submission.
func (p *incomingRun) loadBy(account string, rf MsgRetired, mf Msg) ([]*candidate, error) {
	l, err := p.loadRetired(account, rf)
	if err != nil {
		return nil, err
	}
	lq, err := p.loadQueued(account, mf)
	if err != nil {
		return nil, err
	}
	return append(l, lq...), nil
}

// keyCands are the messages of this queue one key of a bounce (its ENVID
// or its returned Message-ID) names: the retired ones, newest first, then
// the queued ones, as loadBy reads them, but a table at a time, when match
// has found no message to the recipient among those read so far. The
// order match tries them in is the same; a report whose recipient is
// among the retired messages (most: reports come after delivery) does not
// read the queue, nor the next key's messages.
type keyCands struct {
	m      Match
	rf     MsgRetired // Filter of the retired messages.
	mf     Msg        // Filter of the queued messages.
	tables int        // Tables read: 0, 1 (MsgRetired) or 2 (and Msg).
	cands  []*candidate
}

// readMore reads k's next table, and reports false when both were read.
func (p *incomingRun) readMore(k *keyCands) (bool, error) {
	var l []*candidate
	var err error
	switch k.tables {
	case 0:
		l, err = p.loadRetired(p.account, k.rf)
	case 1:
		l, err = p.loadQueued(p.account, k.mf)
	default:
		return false, nil
	}
	if err != nil {
		return false, err
	}
	k.tables++
	k.cands = append(k.cands, l...)
	return true, nil
}

// loadRetired reads the retired messages for loadBy.
func (p *incomingRun) loadRetired(account string, rf MsgRetired) ([]*candidate, error) {
	var l []*candidate
	qr := bstore.QueryTx[MsgRetired](p.tx)
	qr.FilterNonzero(rf)
	if account != "" {
		qr.FilterFn(func(r MsgRetired) bool { return r.SenderAccount == account })
	}
	qr.SortDesc(fieldID)
	qr.Limit(maxMatchCandidates)
	err := qr.ForEach(func(r MsgRetired) error {
		l = append(l, &candidate{r: r})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: looking up retired messages: %w", err)
	}
	return l, nil
}

// loadQueued reads the queued messages for loadBy.
func (p *incomingRun) loadQueued(account string, mf Msg) ([]*candidate, error) {
	var l []*candidate
	qm := bstore.QueryTx[Msg](p.tx)
	qm.FilterNonzero(mf)
	if account != "" {
		qm.FilterFn(func(m Msg) bool { return m.SenderAccount == account })
	}
	qm.SortDesc(fieldID)
	qm.Limit(maxMatchCandidates)
	err := qm.ForEach(func(m Msg) error {
		l = append(l, &candidate{r: m.retire(false, "", m.LastAttempt, time.Time{}), queued: true})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: looking up queued messages: %w", err)
	}
	return l, nil
}

// actionEvent returns the webhook event for a DSN action, or
// unrecognized.
func actionEvent(a dsn.Action) webhook.OutgoingEvent {
	switch a {
	case dsn.ActionFailed:
		return webhook.EventFailed
	case dsn.ActionDelayed:
		return webhook.EventDelayed
	case dsn.ActionDelivered:
		return webhook.EventDelivered
	case dsn.ActionRelayed:
		return webhook.EventRelayed
	case dsn.ActionExpanded:
		return webhook.EventExpanded
	}
	return webhook.EventUnrecognized
}
