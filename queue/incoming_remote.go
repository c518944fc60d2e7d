package queue

import (
	"errors"
	"fmt"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// MatchRemote: the message is not in this Handler's queue; the shared
// index of sent messages (Handler.Remote) says another node sent it.
// IncomingOutcome.MsgID is 0 (the message's ID is the other node's) and
// Detail names the node, the message's ID there and how it was found.
const MatchRemote Match = "remote"

// RemoteIndex finds messages that other nodes sent, for a DSN, bounce or
// complaint that matches no message of this Handler's queue: several
// nodes that share a suppression list and an index of sent messages (the
// relay package of the nested module github.com/bouncekit/bouncekit/postgres)
// match a report about a message any of them sent, wherever it arrives.
type RemoteIndex interface {
	// RemoteSent returns the messages other nodes sent (never this
	// node's) that a report with key may be about, of account when not
	// empty, each with how it was found. When it finds one message only,
	// the first of its submission (BaseID equal to its ID), it returns
	// the rest of that submission too: a complaint that redacts its
	// recipient matches a message only if it is the one returned. An
	// error fails the ProcessIncoming call, as a failing read of the
	// local queue does.
	RemoteSent(tx *bstore.Tx, account string, key RemoteKey) ([]RemoteSent, error)
}

// RemoteKey holds what a report carries to find its message by, as the
// local matching uses them: FromID, then ENVID, then Message-ID.
type RemoteKey struct {
	// FromIDs are the possible FromIDs in the address the report came
	// to (one per split at the catchall separator). The implementation
	// returns, for a message found by one, the rest of its submission
	// too: a report about any recipient of a transaction comes back to
	// its one MAIL FROM.
	FromIDs []string

	EnvID     string // RFC 3464 section 2.2.1 Original-Envelope-Id.
	MessageID string // Of the returned message, without <>.
}

// RemoteSent is what the shared index knows of a message another node
// sent: enough to match a report's recipient and to compose its webhook.
type RemoteSent struct {
	Node    string // The node whose queue has the message.
	FoundBy Match  // MatchFromID, MatchEnvID or MatchMessageID.

	ID               int64 // The message's ID in Node's queue (Msg.ID).
	BaseID           int64
	SenderAccount    string
	SenderAddress    string
	RecipientAddress string
	ORcpt            string
	FromID           string
	EnvID            string
	MessageID        string
	Subject          string
	Queued           time.Time
}

// retired returns the fields of s that matching and webhooks use, as a
// MsgRetired.
func (s RemoteSent) retired() MsgRetired {
	return MsgRetired{
		ID:               s.ID,
		BaseID:           s.BaseID,
		SenderAccount:    s.SenderAccount,
		SenderAddress:    s.SenderAddress,
		RecipientAddress: s.RecipientAddress,
		ORcpt:            s.ORcpt,
		FromID:           s.FromID,
		EnvID:            s.EnvID,
		MessageID:        s.MessageID,
		Subject:          s.Subject,
		Queued:           s.Queued,
	}
}

// remoteMatch is the state of one ProcessIncoming call's remote
// matching, loaded when a recipient first matches nothing locally.
type remoteMatch struct {
	rcptTo string
	loaded bool
	sent   []RemoteSent
	used   []bool
}

// remoteBounce handles a recipient of a DSN or bounce that no local
// message matched, when Handler.Remote finds the message another node
// sent: the outcome names that node, and the report's events are made
// from the index's summary: the webhook, and a suppression change with
// source "dsn" (written by this node; the suppression store is the shared
// one). The message's own record stays with its node. It returns false
// when the index has no message for the recipient.
func (p *incomingRun) remoteBounce(rr reportRcpt, res *IncomingResult) (bool, error) {
	rs, err := p.matchRemote(rr)
	if err != nil || rs == nil {
		return false, err
	}
	o := IncomingOutcome{
		Recipient: rr.address,
		Match:     MatchRemote,
		Failure:   classifyRcpt(rr),
		Detail:    remoteDetail(rs),
	}
	key := seenKey(p.reportKey, rr.address)
	dup, err := p.duplicate(key, nil)
	if err != nil {
		return false, err
	}
	if dup {
		o.Duplicate = true
	} else {
		if err := p.applyRemote(*rs, rr, &o); err != nil {
			return false, err
		}
		if err := p.remember(key, nil); err != nil {
			return false, err
		}
	}
	res.Recipients = append(res.Recipients, o)
	return true, nil
}

// loadRemote asks Handler.Remote for the report's messages, once per
// report.
func (p *incomingRun) loadRemote() error {
	m := &p.remote
	if p.h.Remote == nil || m.loaded {
		return nil
	}
	m.loaded = true
	key := RemoteKey{
		FromIDs:   fromIDCandidates(m.rcptTo, p.h.catchallSeparator()),
		EnvID:     p.rep.envID,
		MessageID: p.rep.origMessageID,
	}
	if len(key.FromIDs) == 0 && key.EnvID == "" && key.MessageID == "" {
		return nil
	}
	sent, err := p.h.Remote.RemoteSent(p.tx, p.account, key)
	if err != nil {
		return fmt.Errorf("queue: looking up messages of other nodes: %w", err)
	}
	m.sent = sent
	m.used = make([]bool, len(sent))
	return nil
}

// matchRemote returns the first message of the index not matched yet
// whose recipient the report names, or nil.
func (p *incomingRun) matchRemote(rr reportRcpt) (*RemoteSent, error) {
	if err := p.loadRemote(); err != nil {
		return nil, err
	}
	m := &p.remote
	for i, s := range m.sent {
		if !m.used[i] && rcptMatches(s.retired(), rr) {
			m.used[i] = true
			return &m.sent[i], nil
		}
	}
	return nil, nil
}

// applyRemote makes the events of a report recipient matched to rs.
func (p *incomingRun) applyRemote(rs RemoteSent, rr reportRcpt, o *IncomingOutcome) error {
	c := &candidate{r: rs.retired()}
	o.Event = actionEvent(rr.action)
	switch o.Event {
	case webhook.EventUnrecognized:
		o.Detail += fmt.Sprintf("; unknown action %q", rr.action)
	case webhook.EventFailed:
		// The history is this node's: ID 0 leaves none of its messages
		// out.
		r := c.r
		r.ID = 0
		added, err := p.suppressFailure(r, o.Failure)
		if err != nil {
			return err
		}
		o.Suppressing = added
	case webhook.EventDelivered, webhook.EventRelayed, webhook.EventExpanded:
		if s := p.h.Suppressions; s != nil {
			if _, err := s.DeliveredTx(p.tx, rs.SenderAccount, rs.RecipientAddress); err != nil && !errors.Is(err, suppression.ErrAddress) {
				return fmt.Errorf("queue: clearing suppression of %s: %w", rs.RecipientAddress, err)
			}
		}
	}
	return p.matchedHook(c, o, true)
}

// remoteSoleRecipient returns the message of the index for a complaint
// that names no recipient, as matchFeedback's MatchSoleRecipient does
// locally: only when the index found one message, by the report's FromID
// or Message-ID, and it was the only recipient of its submission: the
// first of it (BaseID equal to its ID), and RemoteSent, which returns the
// rest of a submission with its only message found, returned no other.
func (p *incomingRun) remoteSoleRecipient() (*RemoteSent, error) {
	if err := p.loadRemote(); err != nil {
		return nil, err
	}
	m := &p.remote
	if len(m.sent) != 1 || m.used[0] || m.sent[0].BaseID != m.sent[0].ID {
		return nil, nil
	}
	m.used[0] = true
	return &m.sent[0], nil
}

// remoteDetail names where a remote message was found, for
// IncomingOutcome.Detail.
func remoteDetail(rs *RemoteSent) string {
	return fmt.Sprintf("sent by node %s as message %d, found by %s", rs.Node, rs.ID, rs.FoundBy)
}
