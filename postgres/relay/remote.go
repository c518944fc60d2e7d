package relay

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/postgres/pgsent"
	"github.com/bouncekit/bouncekit/queue"
)

var _ queue.RemoteIndex = (*Relay)(nil)

// RemoteSent finds messages other nodes sent in the shared index (Sent),
// as queue.RemoteIndex, for the Handler's Remote: a DSN that arrives at
// this node for a message another node sent is matched there. Records of
// this node are left out: a message of its own that its queue no longer
// has is not matched again. A FromID's record brings the rest of its
// submission, and so does the only record found by the other keys. The lookups are bounded by LookupTimeout; when PostgreSQL
// cannot be asked, FailOpen decides as in StopTx: an error wrapping
// ErrUnavailable (the default: ProcessIncoming fails, so the host can
// answer the report with a temporary error and get it again later), or
// no messages (the report is handled as unmatched).
func (r *Relay) RemoteSent(tx *bstore.Tx, account string, key queue.RemoteKey) ([]queue.RemoteSent, error) {
	if r.Sent == nil {
		return nil, fmt.Errorf("%w: no shared index of sent messages (Sent)", ErrConfig)
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.lookupTimeout())
	defer cancel()
	var out []queue.RemoteSent
	seen := map[string]bool{}
	add := func(l []pgsent.Sent, by queue.Match) {
		for _, s := range l {
			k := fmt.Sprintf("%s/%d", s.Node, s.MsgID)
			if s.Node == r.Node || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, queue.RemoteSent{
				Node: s.Node, FoundBy: by,
				ID: s.MsgID, BaseID: s.BaseID, SenderAccount: s.Account, SenderAddress: s.SenderAddress,
				RecipientAddress: s.RecipientAddress, ORcpt: s.ORcpt, FromID: s.FromID, EnvID: s.EnvID,
				MessageID: s.MessageID, Subject: s.Subject, Queued: s.Queued,
			})
		}
	}
	for _, id := range key.FromIDs {
		l, err := r.Sent.ByFromID(ctx, account, id)
		if err != nil {
			return r.remoteUnavailable(err)
		}
		if len(l) == 0 {
			continue
		}
		add(l[:1], queue.MatchFromID) // FromIDs are unique; the newest wins if not.
		if l[0].Node != r.Node {
			sub, err := r.Sent.Submission(ctx, l[0].Node, l[0].BaseID)
			if err != nil {
				return r.remoteUnavailable(err)
			}
			add(sub, queue.MatchFromID)
		}
		break
	}
	if key.EnvID != "" {
		l, err := r.Sent.ByEnvID(ctx, account, key.EnvID)
		if err != nil {
			return r.remoteUnavailable(err)
		}
		add(l, queue.MatchEnvID)
	}
	if key.MessageID != "" {
		l, err := r.Sent.ByMessageID(ctx, account, key.MessageID)
		if err != nil {
			return r.remoteUnavailable(err)
		}
		add(l, queue.MatchMessageID)
	}
	// One message found, the first of its submission: its siblings too,
	// which a Message-ID or ENVID need not name (a host may give each
	// recipient its own), so a complaint that redacts its recipient is
	// matched only to a message that really was alone (queue's sole
	// recipient rule). A FromID brought them already.
	if len(out) == 1 && out[0].BaseID == out[0].ID && out[0].FoundBy != queue.MatchFromID {
		sub, err := r.Sent.Submission(ctx, out[0].Node, out[0].BaseID)
		if err != nil {
			return r.remoteUnavailable(err)
		}
		add(sub, out[0].FoundBy)
	}
	return out, nil
}

// remoteUnavailable is RemoteSent's answer when PostgreSQL failed with
// err.
func (r *Relay) remoteUnavailable(err error) ([]queue.RemoteSent, error) {
	if r.FailOpen {
		r.log().Warn("shared index of sent messages unavailable, report handled as unmatched (fail open)", slog.Any("err", err))
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
}
