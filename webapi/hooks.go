package webapi

import (
	"github.com/bouncekit/bouncekit/hookqueue"
)

// redacted replaces a credential in listings, keeping whether it was set.
const redacted = "(redacted)"

// redactHooks hides the hooks' credentials: they stay in the database.
func redactHooks(hooks []hookqueue.Hook) []hookqueue.Hook {
	for i := range hooks {
		if hooks[i].Authorization != "" {
			hooks[i].Authorization = redacted
		}
		for j := range hooks[i].Secrets {
			hooks[i].Secrets[j] = redacted
		}
	}
	return nonNil(hooks)
}

// hookFilter returns the library's filter for a request's account and
// filter.
func (c *call) hookFilter(requested string, f HookFilter) (hookqueue.Filter, error) {
	account, err := c.scope(requested)
	if err != nil {
		return hookqueue.Filter{}, err
	}
	if err := checkEvent(f.Event); err != nil {
		return hookqueue.Filter{}, err
	}
	return hookqueue.Filter{
		IDs:             f.IDs,
		Account:         account,
		URL:             f.URL,
		Event:           f.Event,
		QueueMsgID:      f.QueueMsgID,
		SubmittedAfter:  f.SubmittedAfter,
		SubmittedBefore: f.SubmittedBefore,
	}, nil
}

func (f HookFilter) empty() bool {
	return len(f.IDs) == 0 && f.URL == "" && f.Event == "" && f.QueueMsgID == 0 && f.SubmittedAfter.IsZero() && f.SubmittedBefore.IsZero()
}

func (c *call) hookList(req HookListRequest) (HookListResult, error) {
	f, err := c.hookFilter(req.Account, req.HookFilter)
	if err != nil {
		return HookListResult{}, err
	}
	hooks, next, err := c.s.hooks().List(c.ctx, f, c.page(req.Page))
	return HookListResult{Hooks: redactHooks(hooks), Next: next}, err
}

func (c *call) hookRetiredList(req HookRetiredListRequest) (HookRetiredListResult, error) {
	f, err := c.hookFilter(req.Account, req.HookFilter)
	if err != nil {
		return HookRetiredListResult{}, err
	}
	switch req.RetireReason {
	case "", hookqueue.RetiredDelivered, hookqueue.RetiredFailed, hookqueue.RetiredGone, hookqueue.RetiredRefused, hookqueue.RetiredCanceled, hookqueue.RetiredSuperseded:
	default:
		return HookRetiredListResult{}, errorf(CodeUser, "unknown retire reason %q", req.RetireReason)
	}
	f.RetireReason = req.RetireReason
	hooks, next, err := c.s.hooks().ListRetired(c.ctx, f, c.page(req.Page))
	return HookRetiredListResult{Hooks: nonNil(hooks), Next: next}, err
}

// hookChange checks a retry or cancel and returns its filter.
func (c *call) hookChange(requested string, hf HookFilter, all bool) (hookqueue.Filter, error) {
	f, err := c.hookFilter(requested, hf)
	if err != nil {
		return f, err
	}
	if hf.empty() && requested == "" && !all {
		return f, errorf(CodeUser, "give a filter, or All to select every pending webhook")
	}
	return f, nil
}

func (c *call) hookRetry(req HookRetryRequest) (HookRetryResult, error) {
	f, err := c.hookChange(req.Account, req.HookFilter, req.All)
	if err != nil {
		return HookRetryResult{}, err
	}
	n, err := c.s.hooks().Retry(c.ctx, f)
	return HookRetryResult{Retried: n}, err
}

func (c *call) hookCancel(req HookCancelRequest) (HookCancelResult, error) {
	f, err := c.hookChange(req.Account, req.HookFilter, req.All)
	if err != nil {
		return HookCancelResult{}, err
	}
	n, err := c.s.hooks().Cancel(c.ctx, f)
	return HookCancelResult{Canceled: n}, err
}
