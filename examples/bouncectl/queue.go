package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webhook"
)

func queueGroup() group {
	return group{
		name:  "queue",
		short: "Inspect and manage queued messages.",
		cmds: []command{
			{name: "list", short: "list queued messages, oldest next attempt first", run: queueList},
			{name: "show", args: "ID", short: "show one queued message with its delivery attempts", run: queueShow},
			{name: "hold", short: "hold matching messages: they are not delivered until released", run: queueHold(true)},
			{name: "release", short: "release matching held messages", run: queueHold(false)},
			{name: "fail", short: "fail matching messages permanently; a failure DSN goes to the sender", long: failLong, run: queueFail},
			{name: "cancel", short: "remove matching messages without a DSN", long: cancelLong, run: queueCancel},
		},
	}
}

// queueBackend holds the queue commands' operations.
type queueBackend interface {
	// queueList returns the messages matching f by next attempt, at most
	// limit+1 of them (0: all), so the caller can tell there are more.
	queueList(ctx context.Context, f msgFilter, limit int) ([]queue.Msg, error)
	queueGet(ctx context.Context, id int64) (queue.Msg, error)
	queueHold(ctx context.Context, f msgFilter, hold bool) (countJSON, error)
	queueFail(ctx context.Context, f msgFilter, hf handlerFlags) ([]outcomeJSON, error)
	queueCancel(ctx context.Context, f msgFilter, hf handlerFlags) ([]outcomeJSON, error)
}

const failLong = `
The messages are failed through queue.Handler.FailMsgs with a permanent error
(status 5.0.0 and the -reason text), so the sender gets a failure DSN unless
its NOTIFY parameter says otherwise. The DSN waits in the database's outbox
until the server's Handler.Run delivers it. The messages are kept as retired
for -keep. No suppression entry is added: an operator's decision says nothing
about the recipient. Needs a filter or -all.`

const cancelLong = `
The messages are removed through queue.Handler.CancelMsgs: no DSN, kept as
retired with event "canceled" for -keep. Needs a filter or -all.`

// msgFilter holds the selection flags of the queue commands.
type msgFilter struct {
	ids       idList
	account   string
	domain    string
	recipient string
	dueBefore time.Time
	dueAfter  time.Time
	held      bool
	all       bool
}

func (f *msgFilter) register(c *cli, fs *flag.FlagSet, selection bool) {
	fs.Var(&f.ids, "id", "message IDs, comma-separated; repeatable")
	fs.StringVar(&f.account, "account", "", "sender account")
	fs.StringVar(&f.domain, "domain", "", "recipient domain")
	fs.StringVar(&f.recipient, "recipient", "", "recipient address, exact")
	fs.Var(timeFlag{c, &f.dueBefore}, "due-before", "next attempt before this time")
	fs.Var(timeFlag{c, &f.dueAfter}, "due-after", "next attempt at or after this time")
	fs.BoolVar(&f.held, "held", false, "only held messages")
	if selection {
		fs.BoolVar(&f.all, "all", false, "select all messages when no other filter is given")
	}
}

func (f *msgFilter) empty() bool {
	return len(f.ids) == 0 && f.account == "" && f.domain == "" && f.recipient == "" && f.dueBefore.IsZero() && f.dueAfter.IsZero() && !f.held
}

// selection checks that a command changing messages has a filter or -all.
func (f *msgFilter) selection(name string) error {
	if f.empty() && !f.all {
		return usageErrorf("%s: give a filter (-id, -account, -domain, -recipient, -due-before, -due-after, -held) or -all", name)
	}
	return nil
}

func queueList(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	var f msgFilter
	f.register(c, fs, false)
	limit := fs.Int("limit", 1000, "show at most this many messages; 0: all")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	msgs, err := c.be.queueList(ctx, f, *limit)
	if err != nil {
		return err
	}
	more := *limit > 0 && len(msgs) > *limit
	if more {
		msgs = msgs[:*limit]
	}
	if msgs == nil {
		msgs = []queue.Msg{}
	}
	if more {
		c.note("more messages match; showing the first %d (-limit)", *limit)
	}
	if c.json {
		return c.writeJSON(msgs)
	}
	if len(msgs) == 0 {
		c.note("no queued messages match")
		return nil
	}
	t := c.table("ID", "ACCOUNT", "FROM", "TO", "ATTEMPTS", "NEXT ATTEMPT", "HOLD", "LAST ERROR")
	for _, m := range msgs {
		t.row(fmtInt(m.ID), m.SenderAccount, m.SenderAddress, m.RecipientAddress, fmtInt(m.Attempts), c.fmtWhen(m.NextAttempt), yesNo(m.Hold), truncate(lastError(m.Results), 60))
	}
	return t.flush()
}

// lastError sums up the last result for a table: "550 5.1.1 userunknown"
// for a reply (queue show has its text), the reason and error otherwise.
func lastError(results []queue.MsgResult) string {
	if len(results) == 0 {
		return ""
	}
	r := results[len(results)-1]
	if r.Success {
		return "ok"
	}
	var parts []string
	if r.Code != 0 {
		parts = append(parts, fmt.Sprint(r.Code))
	}
	if r.EnhancedCode != "" {
		parts = append(parts, r.EnhancedCode)
	}
	if r.Reason != "" {
		parts = append(parts, string(r.Reason))
	}
	s := strings.Join(parts, " ")
	if r.Code == 0 && r.Error != "" {
		if s != "" {
			s += ": "
		}
		s += r.Error
	}
	return s
}

func queueShow(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	id, err := c.parseOneID(fs, args, "queue show")
	if err != nil {
		return err
	}
	m, err := c.be.queueGet(ctx, id)
	if errors.Is(err, errNotFound) {
		return notFoundf("queue show: no queued message %d (see retired show)", id)
	} else if err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(m)
	}
	c.fields(
		"ID", fmtInt(m.ID),
		"BaseID", fmtInt(m.BaseID),
		"Queued", c.fmtTime(m.Queued),
		"Account", m.SenderAccount,
		"From", m.SenderAddress,
		"To", m.RecipientAddress,
		"FromID", m.FromID,
		"Message-ID", m.MessageID,
		"Subject", m.Subject,
		"Size", fmtInt(m.Size),
		"Hold", yesNo(m.Hold),
		"Attempts", fmt.Sprintf("%d (max %d; 0: policy)", m.Attempts, m.MaxAttempts),
		"Next attempt", c.fmtWhen(m.NextAttempt),
		"Last attempt", c.fmtTime(m.LastAttempt),
		"Notify", string(m.Notify),
		"Ret", string(m.Ret),
		"EnvID", m.EnvID,
		"ORcpt", m.ORcpt,
		"Flags", msgFlags(m.Has8bit, m.SMTPUTF8, m.IsDMARCReport, m.IsTLSReport, m.IsDSN, m.DelayedDSNSent),
		"Extra", fmtMap(m.Extra),
	)
	return c.results(m.Results)
}

func msgFlags(has8bit, smtputf8, dmarc, tls, isDSN, delayedSent bool) string {
	var l []string
	for _, f := range []struct {
		on   bool
		name string
	}{{has8bit, "8bit"}, {smtputf8, "smtputf8"}, {dmarc, "dmarc-report"}, {tls, "tls-report"}, {isDSN, "dsn"}, {delayedSent, "delayed-dsn-sent"}} {
		if f.on {
			l = append(l, f.name)
		}
	}
	return strings.Join(l, " ")
}

// results prints delivery attempts as a table after a show.
func (c *cli) results(results []queue.MsgResult) error {
	fmt.Fprintln(c.stdout)
	if len(results) == 0 {
		fmt.Fprintln(c.stdout, "no delivery attempts")
		return nil
	}
	t := c.table("START", "DURATION", "RESULT", "CODE", "STATUS", "REASON", "REMOTE MTA", "ERROR")
	for _, r := range results {
		result := "temporary"
		switch {
		case r.Success:
			result = "delivered"
		case r.Permanent:
			result = "permanent"
		}
		if r.DSN {
			result += " (dsn)"
		}
		code := ""
		if r.Code != 0 {
			code = fmt.Sprint(r.Code)
		}
		t.row(c.fmtTime(r.Start), r.Duration.String(), result, code, r.EnhancedCode, string(r.Reason), r.RemoteMTA, r.Error)
	}
	return t.flush()
}

// countJSON is the JSON output of hold and release.
type countJSON struct {
	Matched int     // Messages selected.
	Changed int     // Messages whose hold state changed.
	IDs     []int64 // IDs selected.
}

func queueHold(hold bool) func(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	return func(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
		var f msgFilter
		f.register(c, fs, true)
		if err := c.parse(fs, args); err != nil {
			return err
		}
		if err := noArgs(fs); err != nil {
			return err
		}
		if err := f.selection(fs.Name()); err != nil {
			return err
		}
		res, err := c.be.queueHold(ctx, f, hold)
		if err != nil {
			return err
		}
		if res.Matched == 0 {
			return notFoundf("%s: no queued messages match", fs.Name())
		}
		if c.json {
			return c.writeJSON(res)
		}
		verb := "held"
		if !hold {
			verb = "released"
		}
		fmt.Fprintf(c.stdout, "%s %d of %d matching messages\n", verb, res.Changed, res.Matched)
		return nil
	}
}

// outcomeJSON is one message's outcome of fail and cancel.
type outcomeJSON struct {
	MsgID     int64
	Recipient string
	Result    queue.Result
	DSN       queue.DSNKind         `json:",omitempty"`
	Hook      webhook.OutgoingEvent `json:",omitempty"`
	Retired   bool
}

// handlerFlags are the settings of the Handler that fail and cancel use.
type handlerFlags struct {
	keep     time.Duration
	hostname string
	reason   string
}

func (h *handlerFlags) register(c *cli, fs *flag.FlagSet, fail bool) {
	fs.DurationVar(&h.keep, "keep", 7*24*time.Hour, "keep the messages as retired for this long; 0: remove without history")
	if fail {
		fs.StringVar(&h.hostname, "hostname", c.hostname, "host name of the MTA, for the DSN's Reporting-MTA and Message-ID")
		fs.StringVar(&h.reason, "reason", "delivery canceled by operator", "error text for the DSN and the message's history")
	}
}

func queueFail(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	var f msgFilter
	var hf handlerFlags
	f.register(c, fs, true)
	hf.register(c, fs, true)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := f.selection("queue fail"); err != nil {
		return err
	}
	if err := c.fileOnly(fs, "keep", "hostname"); err != nil {
		return err
	}
	outcomes, err := c.be.queueFail(ctx, f, hf)
	if err != nil {
		return err
	}
	return c.outcomes("queue fail", outcomes)
}

func queueCancel(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	var f msgFilter
	var hf handlerFlags
	f.register(c, fs, true)
	hf.register(c, fs, false)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := f.selection("queue cancel"); err != nil {
		return err
	}
	if err := c.fileOnly(fs, "keep"); err != nil {
		return err
	}
	outcomes, err := c.be.queueCancel(ctx, f, hf)
	if err != nil {
		return err
	}
	return c.outcomes("queue cancel", outcomes)
}

// outcomes prints the result of fail and cancel.
func (c *cli) outcomes(name string, l []outcomeJSON) error {
	if len(l) == 0 {
		return notFoundf("%s: no queued messages match", name)
	}
	slices.SortStableFunc(l, func(a, b outcomeJSON) int { return cmp.Compare(a.MsgID, b.MsgID) })
	if c.json {
		return c.writeJSON(l)
	}
	t := c.table("ID", "RECIPIENT", "RESULT", "DSN", "WEBHOOK", "RETIRED")
	for _, o := range l {
		t.row(fmtInt(o.MsgID), o.Recipient, string(o.Result), string(o.DSN), string(o.Hook), yesNo(o.Retired))
	}
	return t.flush()
}
