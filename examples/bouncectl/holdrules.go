package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
)

func holdRulesGroup() group {
	return group{
		name:  "holdrules",
		short: "Manage hold rules: matching messages stay queued and are not delivered until released.",
		cmds: []command{
			{name: "list", short: "list hold rules", run: holdRulesList},
			{name: "add", short: "add a rule; it holds matching queued messages at once and new ones as they are queued", long: holdAddLong, run: holdRulesAdd},
			{name: "remove", args: "ID...", short: "remove rules; all or none. Held messages stay held: release them with queue release", run: holdRulesRemove},
		},
	}
}

const holdAddLong = `
A rule matches messages on all of its fields that are set. A rule without
fields holds every message; it needs -all.`

func holdRulesList(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	var rules []queue.HoldRule
	err := c.withDB(ctx, func(db *bstore.DB) error {
		return db.Read(ctx, func(tx *bstore.Tx) error {
			var err error
			rules, err = queue.ListHoldRules(tx)
			return err
		})
	})
	if err != nil {
		return err
	}
	if rules == nil {
		rules = []queue.HoldRule{}
	}
	if c.json {
		return c.writeJSON(rules)
	}
	if len(rules) == 0 {
		c.note("no hold rules")
		return nil
	}
	t := c.table("ID", "ACCOUNT", "SENDER DOMAIN", "RECIPIENT DOMAIN")
	for _, r := range rules {
		if r.All() {
			t.row(fmtInt(r.ID), "(all messages)", "", "")
			continue
		}
		t.row(fmtInt(r.ID), r.Account, r.SenderDomain, r.RecipientDomain)
	}
	return t.flush()
}

// holdAddJSON is the JSON output of holdrules add.
type holdAddJSON struct {
	Rule queue.HoldRule
	Held int // Queued messages the rule held at once.
}

func holdRulesAdd(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	var r queue.HoldRule
	fs.StringVar(&r.Account, "account", "", "sender account")
	fs.StringVar(&r.SenderDomain, "sender-domain", "", "domain of the sender address")
	fs.StringVar(&r.RecipientDomain, "domain", "", "recipient domain")
	all := fs.Bool("all", false, "add a rule that holds every message")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if r.All() && !*all {
		return usageErrorf("holdrules add: give -account, -sender-domain or -domain, or -all to hold every message")
	}
	var res holdAddJSON
	err := c.withDB(ctx, func(db *bstore.DB) error {
		return db.Write(ctx, func(tx *bstore.Tx) error {
			var err error
			if r.All() {
				res.Held, err = addHoldAllRule(tx, &r)
			} else {
				res.Held, err = queue.AddHoldRule(tx, &r)
			}
			res.Rule = r
			return err
		})
	})
	if err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(res)
	}
	fmt.Fprintf(c.stdout, "added hold rule %d; it held %d queued messages\n", res.Rule.ID, res.Held)
	return nil
}

func holdRulesRemove(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	if err := c.parse(fs, args); err != nil {
		return err
	}
	ids, err := parseIDArgs("holdrules remove", fs.Args())
	if err != nil {
		return err
	}
	err = c.withDB(ctx, func(db *bstore.DB) error {
		return db.Write(ctx, func(tx *bstore.Tx) error {
			for _, id := range ids {
				err := queue.RemoveHoldRule(tx, id)
				if errors.Is(err, queue.ErrHoldRuleNotFound) {
					return notFoundf("holdrules remove: no hold rule %d; nothing removed", id)
				} else if err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(map[string]int{"Removed": len(ids)})
	}
	fmt.Fprintf(c.stdout, "removed %d hold rules; messages they held stay held (queue release)\n", len(ids))
	return nil
}

// addHoldAllRule does what queue.AddHoldRule does for a rule without
// fields, which fails there: its SetHold with a zero MsgFilter trips
// bstore's FilterNonzero. The rule is stored and every queued message held.
func addHoldAllRule(tx *bstore.Tx, r *queue.HoldRule) (int, error) {
	if err := tx.Insert(r); err != nil {
		return 0, fmt.Errorf("storing hold rule: %w", err)
	}
	msgs, err := bstore.QueryTx[queue.Msg](tx).FilterEqual("Hold", false).List()
	if err != nil {
		return 0, fmt.Errorf("selecting messages: %w", err)
	}
	n := 0
	for _, lf := range libFilters(msgs) {
		held, err := queue.SetHold(tx, lf, true)
		if err != nil {
			return 0, err
		}
		n += held
	}
	return n, nil
}
