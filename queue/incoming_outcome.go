package queue

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// maxDetail bounds the text of a report kept in a MsgResult or webhook.
const maxDetail = 2000

// applyBounce records the outcome of one DSN or bounce recipient: on the
// matched message, the suppression list and as a webhook. It returns
// whether a result with key (the report's idempotency key) was added to
// the message.
func (p *incomingRun) applyBounce(c *candidate, rr reportRcpt, o *IncomingOutcome, key string) (bool, error) {
	f := o.Failure
	o.Event = actionEvent(rr.action)
	if c == nil {
		o.Event = webhook.EventUnrecognized
		o.Detail = "no message found for this recipient" + p.searched()
		p.unmatchedHook(p.account, rr, o)
		return false, nil
	}
	if o.Event == webhook.EventUnrecognized {
		o.Detail = fmt.Sprintf("unknown action %q", rr.action)
		return false, p.matchedHook(c, o, true)
	}

	success := rr.action == dsn.ActionDelivered || rr.action == dsn.ActionRelayed || rr.action == dsn.ActionExpanded
	result := MsgResult{
		Start:        p.now,
		Success:      success,
		Permanent:    f.Permanent,
		Code:         f.Code,
		EnhancedCode: f.EnhancedCode.String(),
		Reason:       f.Reason,
		Error:        truncate(diagnosticText(rr.diagnostic), maxDetail),
		RemoteMTA:    rr.remoteMTA,
		DSN:          true,
		Report:       key,
	}
	if err := p.record(c, result, o.Event); err != nil {
		return false, err
	}

	switch o.Event {
	case webhook.EventFailed:
		added, err := p.suppressFailure(c.r, f)
		if err != nil {
			return true, err
		}
		o.Suppressing = added
	case webhook.EventDelivered, webhook.EventRelayed, webhook.EventExpanded:
		if s := p.h.Suppressions; s != nil {
			if _, err := s.DeliveredTx(p.tx, c.r.SenderAccount, c.r.RecipientAddress); err != nil && !errors.Is(err, suppression.ErrAddress) {
				return true, fmt.Errorf("queue: clearing suppression of %s: %w", c.r.RecipientAddress, err)
			}
		}
	}
	return true, p.matchedHook(c, o, true)
}

// MaxDSNResults bounds the results from reports that one message keeps.
// Each distinct DSN about a message adds one; past the bound the oldest of
// them is dropped, so a sender of endless reports about one message cannot
// grow its record (and the work of reading it) without end. The results of
// delivery attempts are kept. A dropped result takes its report's key
// (MsgResult.Report) with it: a copy of that report, should one still
// come, is processed again.
const MaxDSNResults = 20

// appendDSNResult appends a result from a report to results, dropping the
// oldest such result when there are MaxDSNResults already.
func appendDSNResult(results []MsgResult, r MsgResult) []MsgResult {
	n := 0
	for _, x := range results {
		if x.DSN {
			n++
		}
	}
	if n >= MaxDSNResults {
		for i, x := range results {
			if x.DSN {
				results = append(results[:i:i], results[i+1:]...)
				break
			}
		}
	}
	return append(results, r)
}

// record adds result to the matched message's history. A retired message
// that failed becomes failed, one delivered, relayed or expanded becomes
// that; a delayed one keeps its state. LastActivity moves only when the
// outcome changes, as its doc says; no index holds it, so the update
// rewrites only the record. The keep period is extended, so a later DSN
// about it still finds it, but only once less than nine tenths of it
// remain: the reports that follow a retirement within days then leave
// the KeepUntil index as it is (each index changed adds its pages to the
// commit). A message still in the queue only gets the result: its
// delivery state belongs to the delivery loop.
func (p *incomingRun) record(c *candidate, result MsgResult, event webhook.OutgoingEvent) error {
	if c.queued {
		m := Msg{ID: c.r.ID}
		if err := p.tx.Get(&m); err != nil {
			return fmt.Errorf("queue: reading message %d: %w", m.ID, err)
		}
		m.Results = appendDSNResult(m.Results, result)
		if err := p.tx.Update(&m); err != nil {
			return fmt.Errorf("queue: updating message %d: %w", m.ID, err)
		}
		c.r.Results = m.Results
		return nil
	}
	r := &c.r
	r.Results = appendDSNResult(r.Results, result)
	success, outcome := r.Success, r.Event
	switch event {
	case webhook.EventFailed:
		success, outcome = false, webhook.EventFailed
	case webhook.EventDelivered, webhook.EventRelayed, webhook.EventExpanded:
		success, outcome = true, event
	}
	if success != r.Success || outcome != r.Event {
		r.Success, r.Event = success, outcome
		r.LastActivity = p.now
	}
	s, _ := p.h.account(r.SenderAccount)
	if keep := p.h.keepRetired(s); keep > 0 && r.KeepUntil.Before(p.now.Add(keep-keep/keepExtendSlack)) {
		r.KeepUntil = p.now.Add(keep)
	}
	if err := p.tx.Update(r); err != nil {
		return fmt.Errorf("queue: updating retired message %d: %w", r.ID, err)
	}
	return nil
}

// suppressFailure asks the SuppressionStore about a failure a DSN
// reported, as FailMsgs does for its own, with source "dsn". The history
// leaves out the message itself.
func (p *incomingRun) suppressFailure(r MsgRetired, f bounce.Failure) (bool, error) {
	s := p.h.Suppressions
	if s == nil {
		return false, nil
	}
	c := suppression.Check{
		Account:   r.SenderAccount,
		Recipient: r.RecipientAddress,
		Failure:   f,
		Source:    suppression.SourceDSN,
		Now:       p.now,
	}
	if needsHistory(s, c) {
		var err error
		if c.History, err = p.history(r); err != nil {
			return false, err
		}
	}
	d, added, err := s.ProcessTx(p.tx, c)
	if errors.Is(err, suppression.ErrAddress) {
		p.h.log().Debug("recipient address not normalizable for suppression", slog.String("recipient", r.RecipientAddress), slog.Any("err", err))
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("queue: processing suppression of %s: %w", r.RecipientAddress, err)
	}
	if d.Suppress {
		p.h.Metrics.suppressed(added)
	}
	return added, nil
}

// history returns the outcomes of the account's other recent messages to
// the recipient, newest first, as recipientHistory does.
func (p *incomingRun) history(r MsgRetired) ([]suppression.Prior, error) {
	return loadHistory(p.tx, r.SenderAccount, r.RecipientAddress, r.ID)
}

// runFeedback handles an RFC 5965 feedback report: a complaint suppression
// and the complained webhook per complained-about recipient.
func (p *incomingRun) runFeedback(res *IncomingResult) error {
	fb := p.rep.feedback
	if fb.MessageID != "" {
		var err error
		if p.byMsgID, err = p.loadBy(p.account, MsgRetired{MessageID: fb.MessageID}, Msg{MessageID: fb.MessageID}); err != nil {
			return err
		}
	}
	rcpts := fb.OriginalRcptTo
	if len(rcpts) > MaxIncomingRecipients {
		rcpts = rcpts[:MaxIncomingRecipients]
		res.Truncated = true
	}
	if len(rcpts) == 0 {
		// Most reports redact the recipient: the message says who.
		rcpts = []string{""}
	}
	for _, addr := range rcpts {
		c, match, err := p.matchFeedback(addr)
		if err != nil {
			return err
		}
		o := IncomingOutcome{Recipient: addr, Match: match, Failure: bounce.Failure{Permanent: true, Reason: bounce.ReasonFeedback}}
		account := p.account
		if c != nil {
			o.Recipient = c.r.RecipientAddress
			account = c.r.SenderAccount
			if c.remote == nil {
				o.MsgID = c.r.ID
				o.Queued = c.queued
			} else {
				o.Detail = remoteDetail(c.remote)
			}
		}
		if c != nil && addr == "" {
			// MatchSoleRecipient, or MatchRemote by the same rule.
			const sole = "the report names no recipient; the message found was the only recipient of its submission"
			o.Detail = strings.TrimPrefix(o.Detail+"; "+sole, "; ")
		}
		dup, err := p.once("arf:"+o.Recipient, c, &o)
		if err != nil {
			return err
		}
		if dup {
			o.Event = webhook.EventComplained
			res.Recipients = append(res.Recipients, o)
			continue
		}
		switch {
		case !fb.Complaint():
			o.Event = webhook.EventUnrecognized
			o.Detail = fmt.Sprintf("feedback report of type %q, not a complaint", fb.Type)
		case o.Recipient == "" || account == "":
			o.Event = webhook.EventUnrecognized
			o.Detail = "feedback report names no recipient and matches no message" + p.searched()
		default:
			o.Event = webhook.EventComplained
			if err := p.complain(account, o.Recipient, &o); err != nil {
				return err
			}
		}
		if c != nil {
			if err := p.matchedHook(c, &o, false); err != nil {
				return err
			}
		} else {
			p.unmatchedHook(account, reportRcpt{address: o.Recipient}, &o)
		}
		res.Recipients = append(res.Recipients, o)
	}
	return nil
}

// matchFeedback finds the message a complaint is about: by FromID or the
// returned Message-ID with the recipient, or the last queued message to the
// recipient. A report that redacts the recipient matches the one message
// found by FromID (or else by Message-ID) only when it was the only
// recipient of its submission (MatchSoleRecipient). When the keys find
// no message of this queue, Handler.Remote is asked before the newest
// message to the recipient is taken: the report's Message-ID or FromID
// naming another node's message is better evidence (MatchRemote).
func (p *incomingRun) matchFeedback(addr string) (*candidate, Match, error) {
	rr := reportRcpt{address: addr}
	if addr == "" {
		cands := p.byMsgID
		if len(p.byFromID) > 0 {
			cands = p.byFromID[:1]
		}
		if len(cands) == 0 {
			rs, err := p.remoteSoleRecipient()
			if err != nil || rs == nil {
				return nil, MatchNone, err
			}
			return &candidate{r: rs.retired(), remote: rs}, MatchRemote, nil
		}
		if len(cands) != 1 || cands[0].used {
			return nil, MatchNone, nil
		}
		c := cands[0]
		if alone, err := p.soleRecipient(c.r); err != nil || !alone {
			return nil, MatchNone, err
		}
		c.used = true
		return c, MatchSoleRecipient, nil
	}
	for _, s := range []struct {
		cands []*candidate
		m     Match
	}{{p.byFromID, MatchFromID}, {p.byMsgID, MatchMessageID}} {
		for _, c := range s.cands {
			if !c.used && rcptMatches(c.r, rr) {
				c.used = true
				return c, s.m, nil
			}
		}
	}
	if rs, err := p.matchRemote(rr); err != nil {
		return nil, MatchNone, err
	} else if rs != nil {
		return &candidate{r: rs.retired(), remote: rs}, MatchRemote, nil
	}
	q := bstore.QueryTx[MsgRetired](p.tx)
	// The recipient's index alone (its keys end in the ID, for the
	// order); the account is checked per record, so the plan never
	// depends on which of two equally usable indexes bstore tries first.
	q.FilterNonzero(MsgRetired{RecipientAddress: addr})
	if account := p.account; account != "" {
		q.FilterFn(func(r MsgRetired) bool { return r.SenderAccount == account })
	}
	q.SortDesc(fieldID)
	q.Limit(1)
	r, err := q.Get()
	if errors.Is(err, bstore.ErrAbsent) {
		return nil, MatchNone, nil
	} else if err != nil {
		return nil, MatchNone, fmt.Errorf("queue: looking up messages to %s: %w", addr, err)
	}
	return &candidate{r: r}, MatchRecipient, nil
}

// complain adds the complaint suppression for recipient.
func (p *incomingRun) complain(account, recipient string, o *IncomingOutcome) error {
	s := p.h.Suppressions
	if s == nil {
		return nil
	}
	c := suppression.Check{
		Account:   account,
		Recipient: recipient,
		Failure:   bounce.Failure{Permanent: true, Reason: bounce.ReasonFeedback},
		Source:    suppression.SourceARF,
		Now:       p.now,
	}
	d, added, err := s.ProcessTx(p.tx, c)
	if errors.Is(err, suppression.ErrAddress) {
		o.Detail = "recipient address cannot be suppressed: " + err.Error()
		return nil
	} else if err != nil {
		return fmt.Errorf("queue: processing complaint about %s: %w", recipient, err)
	}
	if d.Suppress {
		p.h.Metrics.suppressed(added)
	}
	o.Suppressing = added
	return nil
}

// runOther handles an auto-reply, a bounce without recipients or any other
// message: if it came to a FromID address, the message gets the
// unrecognized event (reason "vacation" for an auto-reply); otherwise
// nothing happens.
func (p *incomingRun) runOther(res *IncomingResult) error {
	if len(p.byFromID) == 0 {
		return nil
	}
	c := p.byFromID[0]
	o := IncomingOutcome{Recipient: c.r.RecipientAddress, Event: webhook.EventUnrecognized, Match: MatchFromID, MsgID: c.r.ID, Queued: c.queued}
	switch p.rep.kind {
	case IncomingAutoReply:
		o.Failure = bounce.Failure{Reason: bounce.ReasonVacation}
		o.Detail = "automatic reply"
	case IncomingDSN, IncomingBounce:
		o.Detail = "bounce without a recipient that could be read"
	default:
		o.Failure = bounce.Failure{Reason: bounce.ReasonUndefined}
		o.Detail = "not a delivery status notification"
		if p.rep.parseErr != "" {
			o.Detail += ": " + p.rep.parseErr
		}
	}
	if p.rep.subject != "" {
		o.Detail += fmt.Sprintf(", subject %q", truncate(p.rep.subject, detailMaxSubject))
	}
	dup, err := p.once("fromid:"+p.fromID, c, &o)
	if err != nil {
		return err
	}
	if !dup {
		if err := p.matchedHook(c, &o, p.rep.kind == IncomingDSN || p.rep.kind == IncomingBounce); err != nil {
			return err
		}
	}
	res.Recipients = append(res.Recipients, o)
	return nil
}

// searched describes what a report offered for matching, for an
// unrecognized outcome.
func (p *incomingRun) searched() string {
	var l []string
	if p.fromID != "" {
		l = append(l, "fromid "+p.fromID)
	}
	if p.rep.envID != "" {
		l = append(l, fmt.Sprintf("envid %q", truncate(p.rep.envID, detailMaxEnvID)))
	}
	if id := p.rep.origMessageID; id != "" {
		l = append(l, fmt.Sprintf("message-id <%s>", truncate(id, detailMaxMessageID)))
	}
	if len(l) == 0 {
		return " (the report has no fromid address, envid or message-id)"
	}
	return " (searched " + strings.Join(l, ", ") + ")"
}

// matchedHook queues the webhook of o.Event for the matched message, if its
// account subscribes.
func (p *incomingRun) matchedHook(c *candidate, o *IncomingOutcome, isDSN bool) error {
	account := c.r.SenderAccount
	settings, _ := p.h.account(account)
	if p.h.Hooks == nil || !settings.subscribes(o.Event) {
		return nil
	}
	m := retiredAsMsg(c.r)
	hk := composeHook(hookItem{m: m, event: o.Event, f: o.Failure, suppressing: o.Suppressing}, account, settings, p.now)
	hk.Payload.DSN = isDSN
	if o.Event == webhook.EventUnrecognized || o.Event == webhook.EventComplained {
		hk.Payload.Error = o.Detail
	}
	p.hooks = append(p.hooks, hk)
	o.Hook = o.Event
	return nil
}

// unmatchedHook queues the webhook of o.Event for a report recipient
// without a message, to account, if it subscribes.
func (p *incomingRun) unmatchedHook(account string, rr reportRcpt, o *IncomingOutcome) {
	if account == "" || p.h.Hooks == nil {
		return
	}
	settings, _ := p.h.account(account)
	if !settings.subscribes(o.Event) {
		return
	}
	var messageID string
	if id := p.rep.origMessageID; id != "" {
		messageID = "<" + id + ">"
	}
	text := o.Detail
	if d := strings.TrimSpace(rr.diagnostic); d != "" {
		text = truncate(d, maxDetail) + "; " + text
	}
	m := Msg{RecipientAddress: rr.address, MessageID: strings.Trim(messageID, "<>"), FromID: p.fromID}
	hk := composeHook(hookItem{m: m, event: o.Event, f: o.Failure, suppressing: o.Suppressing}, account, settings, p.now)
	hk.Payload.DSN = p.rep.kind == IncomingDSN || p.rep.kind == IncomingBounce
	hk.Payload.Error = text
	p.hooks = append(p.hooks, hk)
	o.Hook = o.Event
}

// retiredAsMsg returns the fields of r that webhooks use, as a Msg.
func retiredAsMsg(r MsgRetired) Msg {
	return Msg{
		ID:               r.ID,
		BaseID:           r.BaseID,
		SenderAccount:    r.SenderAccount,
		SenderAddress:    r.SenderAddress,
		FromID:           r.FromID,
		RecipientAddress: r.RecipientAddress,
		RecipientDomain:  r.RecipientDomain,
		Results:          r.Results,
		MessageID:        r.MessageID,
		Subject:          r.Subject,
		EnvID:            r.EnvID,
		ORcpt:            r.ORcpt,
		Extra:            r.Extra,
	}
}

// Bytes of a report's values quoted in IncomingOutcome.Detail, which goes
// into logs and webhooks: a report's sender chooses them.
const (
	detailMaxSubject   = 200
	detailMaxEnvID     = 100
	detailMaxMessageID = 200
)

// keepExtendSlack makes a report push a retired message's KeepUntil back
// to a full keep period only when more than a keepExtendSlack-th of it has
// passed, so a stream of reports about one message does not rewrite its
// record each time for a few seconds more.
const keepExtendSlack = 10

// truncate cuts s to at most n bytes, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}

// diagnosticText returns a Diagnostic-Code's text without its type (RFC
// 3464 section 2.3.6: "smtp; 550 5.1.1 ..." becomes "550 5.1.1 ..."), so
// a person reads the reply as the remote sent it.
func diagnosticText(s string) string {
	s = strings.TrimSpace(s)
	typ, rest, ok := strings.Cut(s, ";")
	if !ok || typ == "" || strings.TrimLeft(typ, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return s
	}
	return strings.TrimSpace(rest)
}
