package main

import (
	"context"
	"errors"
	"flag"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
)

func retiredGroup() group {
	return group{
		name:  "retired",
		short: "Inspect messages that left the queue: delivered, failed, suppressed or canceled.",
		cmds: []command{
			{name: "list", short: "list retired messages, newest first (-oldest: oldest first), a page at a time", run: retiredList},
			{name: "show", args: "ID", short: "show one retired message with its delivery attempts", run: retiredShow},
		},
	}
}

// retiredBackend holds the retired commands' operations.
type retiredBackend interface {
	retiredList(ctx context.Context, f queue.RetiredFilter, p paging.Page) ([]queue.MsgRetired, int64, error)
	retiredGet(ctx context.Context, id int64) (queue.MsgRetired, error)
}

func retiredList(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	var f queue.RetiredFilter
	fs.StringVar(&f.Account, "account", "", "sender account")
	fs.StringVar(&f.Recipient, "recipient", "", "recipient address, exact")
	fs.Var(eventFlag{&f.Event}, "event", "event that retired the message: delivered, failed, suppressed, canceled, relayed, expanded")
	fs.Var(timeFlag{c, &f.Since}, "since", "retired at or after this time")
	fs.Var(timeFlag{c, &f.Before}, "before", "retired before this time")
	p, checkPage := listFlags(fs, true)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := checkPage("retired list"); err != nil {
		return err
	}
	msgs, next, err := c.be.retiredList(ctx, f, *p)
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []queue.MsgRetired{}
	}
	if c.json {
		return c.writeJSON(pageJSON[queue.MsgRetired]{msgs, next})
	}
	if len(msgs) == 0 {
		c.note("no retired messages match")
		return nil
	}
	t := c.table("ID", "ACCOUNT", "FROM", "TO", "EVENT", "ATTEMPTS", "RETIRED", "LAST RESULT")
	for _, m := range msgs {
		t.row(fmtInt(m.ID), m.SenderAccount, m.SenderAddress, m.RecipientAddress, string(m.Event), fmtInt(m.Attempts), c.fmtTime(m.LastActivity), truncate(lastError(m.Results), 60))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if next != 0 {
		c.note("more results: -cursor %d", next)
	}
	return nil
}

func retiredShow(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	id, err := c.parseOneID(fs, args, "retired show")
	if err != nil {
		return err
	}
	m, err := c.be.retiredGet(ctx, id)
	if errors.Is(err, errNotFound) {
		return notFoundf("retired show: no retired message %d (see queue show)", id)
	} else if err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(m)
	}
	c.fields(
		"ID", fmtInt(m.ID),
		"BaseID", fmtInt(m.BaseID),
		"Event", string(m.Event),
		"Success", yesNo(m.Success),
		"Queued", c.fmtTime(m.Queued),
		"Retired", c.fmtTime(m.LastActivity),
		"Kept until", c.fmtWhen(m.KeepUntil),
		"Account", m.SenderAccount,
		"From", m.SenderAddress,
		"To", m.RecipientAddress,
		"FromID", m.FromID,
		"Message-ID", m.MessageID,
		"Subject", m.Subject,
		"Size", fmtInt(m.Size),
		"Attempts", fmtInt(m.Attempts),
		"Last attempt", c.fmtTime(m.LastAttempt),
		"Notify", string(m.Notify),
		"Ret", string(m.Ret),
		"EnvID", m.EnvID,
		"ORcpt", m.ORcpt,
		"Flags", msgFlags(m.Has8bit, m.SMTPUTF8, m.IsDMARCReport, m.IsTLSReport, m.IsDSN, false),
		"Extra", fmtMap(m.Extra),
	)
	return c.results(m.Results)
}

// parseOneID parses a show command's flags and its single ID argument.
func (c *cli) parseOneID(fs *flag.FlagSet, args []string, cmd string) (int64, error) {
	if err := c.parse(fs, args); err != nil {
		return 0, err
	}
	ids, err := parseIDArgs(cmd, fs.Args())
	if err != nil {
		return 0, err
	}
	if len(ids) != 1 {
		return 0, usageErrorf("%s: one ID", cmd)
	}
	return ids[0], nil
}
