package webapi

import (
	"errors"
	"slices"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
)

func (c *call) holdRuleList(req HoldRuleListRequest) (HoldRuleListResult, error) {
	account, err := c.scope(req.Account)
	if err != nil {
		return HoldRuleListResult{}, err
	}
	var rules []queue.HoldRule
	err = c.read(func(tx *bstore.Tx) error {
		rules, err = queue.ListHoldRules(tx)
		return err
	})
	if account != "" {
		rules = slices.DeleteFunc(rules, func(r queue.HoldRule) bool { return r.Account != account })
	}
	return HoldRuleListResult{Rules: nonNil(rules)}, err
}

func (c *call) holdRuleAdd(req HoldRuleAddRequest) (HoldRuleAddResult, error) {
	account, err := c.scope(req.Account)
	if err != nil {
		return HoldRuleAddResult{}, err
	}
	res := HoldRuleAddResult{Rule: queue.HoldRule{Account: account, SenderDomain: req.SenderDomain, RecipientDomain: req.RecipientDomain}}
	err = c.write(func(tx *bstore.Tx) error {
		res.Held, err = queue.AddHoldRule(tx, &res.Rule)
		return err
	})
	if err != nil {
		return HoldRuleAddResult{}, err
	}
	return res, nil
}

func (c *call) holdRuleRemove(req HoldRuleRemoveRequest) (HoldRuleRemoveResult, error) {
	if req.ID <= 0 {
		return HoldRuleRemoveResult{}, errorf(CodeUser, "missing ID")
	}
	err := c.write(func(tx *bstore.Tx) error {
		r := queue.HoldRule{ID: req.ID}
		if err := tx.Get(&r); errors.Is(err, bstore.ErrAbsent) || err == nil && !c.owns(r.Account) {
			return errorf(CodeNotFound, "no hold rule %d", req.ID)
		} else if err != nil {
			return err
		}
		return queue.RemoveHoldRule(tx, r.ID)
	})
	return HoldRuleRemoveResult{}, err
}
