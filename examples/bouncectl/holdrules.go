package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

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

// holdRulesBackend holds the holdrules commands' operations.
type holdRulesBackend interface {
	holdRuleList(ctx context.Context) ([]queue.HoldRule, error)
	// holdRuleAdd adds r; a rule without fields holds every message.
	holdRuleAdd(ctx context.Context, r queue.HoldRule) (holdAddJSON, error)
	// holdRuleRemove removes the rules, all or none; for an ID that is
	// not a rule it returns the ID and errNotFound.
	holdRuleRemove(ctx context.Context, ids []int64) (missing int64, err error)
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
	rules, err := c.be.holdRuleList(ctx)
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
	res, err := c.be.holdRuleAdd(ctx, r)
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
	missing, err := c.be.holdRuleRemove(ctx, ids)
	if errors.Is(err, errNotFound) {
		return notFoundf("holdrules remove: no hold rule %d; nothing removed", missing)
	} else if err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(map[string]int{"Removed": len(ids)})
	}
	fmt.Fprintf(c.stdout, "removed %d hold rules; messages they held stay held (queue release)\n", len(ids))
	return nil
}
