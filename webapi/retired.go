package webapi

import (
	"errors"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webhook"
)

func checkEvent(e webhook.OutgoingEvent) error {
	if e != "" && !e.Known() {
		return errorf(CodeUser, "unknown event %q", e)
	}
	return nil
}

func (c *call) retiredList(req RetiredListRequest) (RetiredListResult, error) {
	account, err := c.scope(req.Account)
	if err != nil {
		return RetiredListResult{}, err
	}
	if err := checkEvent(req.Event); err != nil {
		return RetiredListResult{}, err
	}
	f := queue.RetiredFilter{Account: account, Recipient: req.Recipient, Event: req.Event, Since: req.Since, Before: req.Before}
	var msgs []queue.MsgRetired
	var next int64
	err = c.read(func(tx *bstore.Tx) error {
		msgs, next, err = queue.ListRetired(tx, f, c.page(req.Page))
		return err
	})
	return RetiredListResult{Messages: nonNil(msgs), Next: next}, err
}

func (c *call) retiredGet(req RetiredGetRequest) (RetiredGetResult, error) {
	if req.ID <= 0 {
		return RetiredGetResult{}, errorf(CodeUser, "missing ID")
	}
	var res RetiredGetResult
	err := c.read(func(tx *bstore.Tx) error {
		m := queue.MsgRetired{ID: req.ID}
		if err := tx.Get(&m); errors.Is(err, bstore.ErrAbsent) || err == nil && !c.owns(m.SenderAccount) {
			return errorf(CodeNotFound, "no retired message %d", req.ID)
		} else if err != nil {
			return err
		}
		res.Message = m
		return nil
	})
	if err != nil {
		return RetiredGetResult{}, err
	}
	// The webhooks about the message: a few, one per event. They are read
	// after the message, not in its transaction, since the history may be
	// kept elsewhere (HookHistory). Pending before retired: a webhook
	// retiring in between is listed twice rather than missed.
	f := hookqueue.Filter{Account: res.Message.SenderAccount, QueueMsgID: res.Message.ID}
	p := paging.Page{Limit: c.s.maxPage()}
	hooks, _, err := c.s.hooks().List(c.ctx, f, p)
	if err != nil {
		return RetiredGetResult{}, err
	}
	res.Hooks = redactHooks(hooks)
	retired, _, err := c.s.hooks().ListRetired(c.ctx, f, p)
	if err != nil {
		return RetiredGetResult{}, err
	}
	res.RetiredHooks = nonNil(retired)
	return res, nil
}
