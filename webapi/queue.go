package webapi

import (
	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

// DefaultFailReason is the error text of QueueFail without a Reason.
const DefaultFailReason = "delivery canceled by operator"

func (f QueueFilter) empty() bool {
	return len(f.IDs) == 0 && f.BaseID == 0 && f.SenderDomain == "" && f.RecipientDomain == "" && f.Recipient == "" && f.DueBefore.IsZero() && f.DueAfter.IsZero() && !f.Held
}

// queueFilter returns the library's filter for a request's account and
// filter.
func (c *call) queueFilter(requested string, f QueueFilter) (queue.ListFilter, error) {
	account, err := c.scope(requested)
	if err != nil {
		return queue.ListFilter{}, err
	}
	return queue.ListFilter{
		MsgFilter: queue.MsgFilter{
			IDs:             f.IDs,
			BaseID:          f.BaseID,
			Account:         account,
			SenderDomain:    f.SenderDomain,
			RecipientDomain: f.RecipientDomain,
			Recipient:       f.Recipient,
		},
		DueBefore: f.DueBefore,
		DueAfter:  f.DueAfter,
		Held:      f.Held,
	}, nil
}

// queueChange checks a request that changes messages and returns its
// filter: one without a filter must say All.
func (c *call) queueChange(requested string, qf QueueFilter, all bool) (queue.ListFilter, error) {
	f, err := c.queueFilter(requested, qf)
	if err != nil {
		return f, err
	}
	if qf.empty() && requested == "" && !all {
		return f, errorf(CodeUser, "give a filter, or All to select every queued message")
	}
	return f, nil
}

func (c *call) queueList(req QueueListRequest) (QueueListResult, error) {
	f, err := c.queueFilter(req.Account, req.QueueFilter)
	if err != nil {
		return QueueListResult{}, err
	}
	var msgs []queue.Msg
	var next int64
	err = c.read(func(tx *bstore.Tx) error {
		msgs, next, err = queue.ListMsgs(tx, f, c.page(req.Page))
		return err
	})
	return QueueListResult{Messages: nonNil(msgs), Next: next}, err
}

func ids(msgs []queue.Msg) []int64 {
	l := make([]int64, len(msgs))
	for i, m := range msgs {
		l[i] = m.ID
	}
	return l
}

// queueCount selects the messages matching f and, when there are any,
// changes them by ID with change, in one transaction.
func (c *call) queueCount(f queue.ListFilter, change func(tx *bstore.Tx, ids queue.MsgFilter) (int, error)) (QueueCountResult, error) {
	var res QueueCountResult
	err := c.write(func(tx *bstore.Tx) error {
		msgs, err := queue.MatchMsgs(tx, f)
		if err != nil {
			return err
		}
		res = QueueCountResult{Matched: len(msgs), IDs: ids(msgs)}
		if len(msgs) == 0 {
			return nil // A MsgFilter without IDs would match every message.
		}
		res.Changed, err = change(tx, queue.MsgFilter{IDs: res.IDs})
		return err
	})
	return res, err
}

func (c *call) queueHold(req QueueHoldRequest) (QueueCountResult, error) {
	f, err := c.queueChange(req.Account, req.QueueFilter, req.All)
	if err != nil {
		return QueueCountResult{}, err
	}
	return c.queueCount(f, func(tx *bstore.Tx, byID queue.MsgFilter) (int, error) {
		return queue.SetHold(tx, byID, true)
	})
}

func (c *call) queueRelease(req QueueReleaseRequest) (QueueCountResult, error) {
	f, err := c.queueChange(req.Account, req.QueueFilter, req.All)
	if err != nil {
		return QueueCountResult{}, err
	}
	res, err := c.queueCount(f, func(tx *bstore.Tx, byID queue.MsgFilter) (int, error) {
		return queue.SetHold(tx, byID, false)
	})
	if err == nil && res.Changed > 0 {
		c.queueChanged()
	}
	return res, err
}

func (c *call) queueReschedule(req QueueRescheduleRequest) (QueueCountResult, error) {
	f, err := c.queueChange(req.Account, req.QueueFilter, req.All)
	if err != nil {
		return QueueCountResult{}, err
	}
	next := req.NextAttempt
	if next.IsZero() {
		next = c.now
	}
	res, err := c.queueCount(f, func(tx *bstore.Tx, byID queue.MsgFilter) (int, error) {
		return queue.Reschedule(tx, byID, next)
	})
	if err == nil && res.Changed > 0 {
		c.queueChanged()
	}
	return res, err
}

func toOutcomes(l []queue.Outcome) []Outcome {
	r := make([]Outcome, len(l))
	for i, o := range l {
		r[i] = Outcome{MsgID: o.MsgID, Recipient: o.Recipient, Result: o.Result, DSN: o.DSN, Hook: o.Hook, Retired: o.Retired}
	}
	return r
}

// handlerChange runs change on the messages matching f in one
// transaction, with the Handler, and kicks it after the commit.
func (c *call) handlerChange(f queue.ListFilter, change func(tx *bstore.Tx, h *queue.Handler, msgs []queue.Msg) ([]queue.Outcome, error)) (QueueOutcomeResult, error) {
	h := c.s.Handler
	if h == nil {
		return QueueOutcomeResult{}, errorf(CodeNotConfigured, "the server has no queue handler")
	}
	var outcomes []queue.Outcome
	err := c.write(func(tx *bstore.Tx) error {
		msgs, err := queue.MatchMsgs(tx, f)
		if err != nil || len(msgs) == 0 {
			return err
		}
		outcomes, err = change(tx, h, msgs)
		return err
	})
	if err != nil {
		return QueueOutcomeResult{}, err
	}
	if len(outcomes) > 0 {
		c.after = append(c.after, h.Kick)
		c.queueChanged()
	}
	return QueueOutcomeResult{Outcomes: toOutcomes(outcomes)}, nil
}

func (c *call) queueFail(req QueueFailRequest) (QueueOutcomeResult, error) {
	f, err := c.queueChange(req.Account, req.QueueFilter, req.All)
	if err != nil {
		return QueueOutcomeResult{}, err
	}
	reason := req.Reason
	if reason == "" {
		reason = DefaultFailReason
	}
	// Permanent without a reply code: no remote server said anything.
	failErr := &bounce.SMTPError{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 0, 0}, Line: reason}
	return c.handlerChange(f, func(tx *bstore.Tx, h *queue.Handler, msgs []queue.Msg) ([]queue.Outcome, error) {
		var outcomes []queue.Outcome
		for _, batch := range queue.SplitByAccount(msgs) {
			o, err := h.FailMsgs(tx, batch, failErr)
			if err != nil {
				return nil, err
			}
			outcomes = append(outcomes, o...)
		}
		return outcomes, nil
	})
}

func (c *call) queueCancel(req QueueCancelRequest) (QueueOutcomeResult, error) {
	f, err := c.queueChange(req.Account, req.QueueFilter, req.All)
	if err != nil {
		return QueueOutcomeResult{}, err
	}
	return c.handlerChange(f, func(tx *bstore.Tx, h *queue.Handler, msgs []queue.Msg) ([]queue.Outcome, error) {
		return h.CancelMsgs(tx, queue.MsgFilter{IDs: ids(msgs)})
	})
}
