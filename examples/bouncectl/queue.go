package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
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

// query returns a query on Msg in tx with the filter applied, sorted by
// next attempt.
func (f *msgFilter) query(tx *bstore.Tx) *bstore.Query[queue.Msg] {
	q := bstore.QueryTx[queue.Msg](tx)
	if len(f.ids) > 0 {
		q.FilterIDs(f.ids)
	}
	// One indexed field as a bstore filter, the most selective given, the
	// others checked per message: with two, bstore would pick an index by
	// map order.
	domain := strings.ToLower(f.domain)
	switch {
	case f.recipient != "":
		q.FilterNonzero(queue.Msg{RecipientAddress: f.recipient})
	case domain != "":
		q.FilterNonzero(queue.Msg{RecipientDomain: domain})
	case f.account != "":
		q.FilterNonzero(queue.Msg{SenderAccount: f.account})
	}
	if f.account != "" || domain != "" || f.recipient != "" {
		q.FilterFn(func(m queue.Msg) bool {
			return (f.recipient == "" || m.RecipientAddress == f.recipient) &&
				(domain == "" || m.RecipientDomain == domain) &&
				(f.account == "" || m.SenderAccount == f.account)
		})
	}
	if !f.dueBefore.IsZero() {
		q.FilterLess("NextAttempt", f.dueBefore)
	}
	if !f.dueAfter.IsZero() {
		q.FilterGreaterEqual("NextAttempt", f.dueAfter)
	}
	if f.held {
		q.FilterEqual("Hold", true)
	}
	q.SortAsc("NextAttempt", "ID")
	return q
}

// match returns the messages matching f. The library's MsgFilter has no
// time range, so the selection is made here and handed to SetHold and
// CancelMsgs as IDs (libFilters), in the same transaction.
func (f *msgFilter) match(tx *bstore.Tx) ([]queue.Msg, error) {
	msgs, err := f.query(tx).List()
	if err != nil {
		return nil, fmt.Errorf("selecting messages: %w", err)
	}
	return msgs, nil
}

// libFilters returns MsgFilters selecting exactly msgs: their IDs, per
// recipient domain. A MsgFilter with only IDs fails in queue.SetHold and
// CancelMsgs (bstore's FilterNonzero needs a nonzero field), so each filter
// also names the domain, which every queued message has.
func libFilters(msgs []queue.Msg) []queue.MsgFilter {
	var filters []queue.MsgFilter
	index := map[string]int{}
	for _, m := range msgs {
		i, ok := index[m.RecipientDomain]
		if !ok {
			i = len(filters)
			index[m.RecipientDomain] = i
			filters = append(filters, queue.MsgFilter{RecipientDomain: m.RecipientDomain})
		}
		filters[i].IDs = append(filters[i].IDs, m.ID)
	}
	return filters
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
	var msgs []queue.Msg
	err := c.withDB(ctx, func(db *bstore.DB) error {
		return db.Read(ctx, func(tx *bstore.Tx) error {
			q := f.query(tx)
			if *limit > 0 {
				q.Limit(*limit + 1)
			}
			var err error
			msgs, err = q.List()
			return err
		})
	})
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
	m := queue.Msg{ID: id}
	err = c.withDB(ctx, func(db *bstore.DB) error {
		return db.Read(ctx, func(tx *bstore.Tx) error { return tx.Get(&m) })
	})
	if errors.Is(err, bstore.ErrAbsent) {
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
		var res countJSON
		err := c.withDB(ctx, func(db *bstore.DB) error {
			return db.Write(ctx, func(tx *bstore.Tx) error {
				msgs, err := f.match(tx)
				if err != nil {
					return err
				}
				res.Matched = len(msgs)
				res.IDs = make([]int64, len(msgs))
				for i, m := range msgs {
					res.IDs[i] = m.ID
				}
				for _, lf := range libFilters(msgs) {
					n, err := queue.SetHold(tx, lf, hold)
					if err != nil {
						return err
					}
					res.Changed += n
				}
				return nil
			})
		})
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

func (h *handlerFlags) handler(c *cli, db *bstore.DB) *queue.Handler {
	keep := h.keep
	if keep == 0 {
		keep = -1 // Zero in AccountSettings means the default period.
	}
	settings := queue.AccountSettings{KeepRetired: keep}
	return &queue.Handler{
		DB:       db,
		Hostname: h.hostname,
		Now:      c.now,
		Accounts: queue.AccountsFunc(func(string) (queue.AccountSettings, bool) { return settings, true }),
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
	// Permanent without a reply code: no remote server said anything.
	failErr := &bounce.SMTPError{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 0, 0}, Line: hf.reason}
	var outcomes []queue.Outcome
	err := c.withDB(ctx, func(db *bstore.DB) error {
		h := hf.handler(c, db)
		return db.Write(ctx, func(tx *bstore.Tx) error {
			msgs, err := f.match(tx)
			if err != nil {
				return err
			}
			// FailMsgs takes one sender account per call.
			var accounts []string
			byAccount := map[string][]queue.Msg{}
			for _, m := range msgs {
				if _, ok := byAccount[m.SenderAccount]; !ok {
					accounts = append(accounts, m.SenderAccount)
				}
				byAccount[m.SenderAccount] = append(byAccount[m.SenderAccount], m)
			}
			for _, acc := range accounts {
				o, err := h.FailMsgs(tx, byAccount[acc], failErr)
				if err != nil {
					return err
				}
				outcomes = append(outcomes, o...)
			}
			return nil
		})
	})
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
	var outcomes []queue.Outcome
	err := c.withDB(ctx, func(db *bstore.DB) error {
		h := hf.handler(c, db)
		return db.Write(ctx, func(tx *bstore.Tx) error {
			msgs, err := f.match(tx)
			if err != nil {
				return err
			}
			for _, lf := range libFilters(msgs) {
				o, err := h.CancelMsgs(tx, lf)
				if err != nil {
					return err
				}
				outcomes = append(outcomes, o...)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return c.outcomes("queue cancel", outcomes)
}

// outcomes prints the result of fail and cancel.
func (c *cli) outcomes(name string, outcomes []queue.Outcome) error {
	if len(outcomes) == 0 {
		return notFoundf("%s: no queued messages match", name)
	}
	l := make([]outcomeJSON, len(outcomes))
	for i, o := range outcomes {
		l[i] = outcomeJSON{o.MsgID, o.Recipient, o.Result, o.DSN, o.Hook, o.Retired}
	}
	if c.json {
		return c.writeJSON(l)
	}
	t := c.table("ID", "RECIPIENT", "RESULT", "DSN", "WEBHOOK", "RETIRED")
	for _, o := range l {
		t.row(fmtInt(o.MsgID), o.Recipient, string(o.Result), string(o.DSN), string(o.Hook), yesNo(o.Retired))
	}
	return t.flush()
}
