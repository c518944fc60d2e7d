package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/webhook"
)

func hooksGroup() group {
	return group{
		name:  "hooks",
		short: "Inspect and manage outgoing webhooks.",
		cmds: []command{
			{name: "list", short: "list pending webhooks, oldest first, a page at a time", run: hooksList},
			{name: "retired", short: "list delivered, failed and canceled webhooks, newest first", run: hooksRetired},
			{name: "cancel", short: "cancel matching pending webhooks; they are retired as canceled", run: hooksCancel},
			{name: "retry", short: "make matching pending webhooks due now", long: retryLong, run: hooksRetry},
		},
	}
}

// hooksBackend holds the hooks commands' operations.
type hooksBackend interface {
	hookList(ctx context.Context, f hookqueue.Filter, p paging.Page) ([]hookqueue.Hook, int64, error)
	hookRetiredList(ctx context.Context, f hookqueue.Filter, p paging.Page) ([]hookqueue.HookRetired, int64, error)
	hookCancel(ctx context.Context, f hookqueue.Filter) (int, error)
	hookRetry(ctx context.Context, f hookqueue.Filter) (int, error)
}

const retryLong = `
Sets the next attempt of the matching pending webhooks to now, so the
server's webhook worker sends them when it next looks at the queue (at
start, or at its next wakeup). Attempts made so far still count towards the
retry schedule. Needs a filter or -all.`

// hookFilter registers the filter flags of the hooks commands.
func hookFilter(c *cli, fs *flag.FlagSet, retired bool) *hookqueue.Filter {
	f := &hookqueue.Filter{}
	fs.Var((*idList)(&f.IDs), "id", "webhook IDs, comma-separated; repeatable")
	fs.StringVar(&f.Account, "account", "", "account")
	fs.StringVar(&f.URL, "url", "", "webhook URL, exact")
	fs.Var(eventFlag{&f.Event}, "event", "event, e.g. failed, delayed, delivered")
	fs.Int64Var(&f.QueueMsgID, "msgid", 0, "ID of the queue message the event is about")
	fs.Var(timeFlag{c, &f.SubmittedAfter}, "submitted-after", "queued at or after this time")
	fs.Var(timeFlag{c, &f.SubmittedBefore}, "submitted-before", "queued before this time")
	if retired {
		fs.Var(outcomeFlag{&f.RetireReason}, "outcome", "outcome: delivered, failed, gone, refused, canceled, superseded")
	}
	return f
}

func hookFilterEmpty(f *hookqueue.Filter) bool {
	return len(f.IDs) == 0 && f.Account == "" && f.URL == "" && f.Event == "" && f.QueueMsgID == 0 && f.SubmittedAfter.IsZero() && f.SubmittedBefore.IsZero()
}

type eventFlag struct{ e *webhook.OutgoingEvent }

func (f eventFlag) String() string {
	if f.e == nil {
		return ""
	}
	return string(*f.e)
}

func (f eventFlag) Set(s string) error {
	e := webhook.OutgoingEvent(s)
	if !e.Known() {
		return fmt.Errorf("unknown event %q", s)
	}
	*f.e = e
	return nil
}

type outcomeFlag struct{ o *hookqueue.RetireReason }

func (f outcomeFlag) String() string {
	if f.o == nil {
		return ""
	}
	return string(*f.o)
}

func (f outcomeFlag) Set(s string) error {
	switch o := hookqueue.RetireReason(s); o {
	case hookqueue.RetiredDelivered, hookqueue.RetiredFailed, hookqueue.RetiredGone, hookqueue.RetiredRefused, hookqueue.RetiredCanceled, hookqueue.RetiredSuperseded:
		*f.o = o
		return nil
	}
	return fmt.Errorf("unknown outcome %q", s)
}

// hookResult sums up an attempt: "503: text" or the error.
func hookResult(r hookqueue.HookResult) string {
	switch {
	case r.Start.IsZero():
		return ""
	case r.Success:
		return fmt.Sprintf("%d ok", r.Code)
	case r.Code != 0 && r.Error != "":
		return fmt.Sprintf("%d: %s", r.Code, r.Error)
	case r.Code != 0:
		return fmt.Sprint(r.Code)
	}
	return r.Error
}

func hooksList(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	f := hookFilter(c, fs, false)
	p, checkPage := listFlags(fs, false)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := checkPage("hooks list"); err != nil {
		return err
	}
	hooks, next, err := c.be.hookList(ctx, *f, *p)
	if err != nil {
		return err
	}
	if hooks == nil {
		hooks = []hookqueue.Hook{}
	}
	for i := range hooks {
		// Credentials stay in the database.
		hooks[i].Authorization = redact(hooks[i].Authorization)
		for j := range hooks[i].Secrets {
			hooks[i].Secrets[j] = redact(hooks[i].Secrets[j])
		}
	}
	if c.json {
		return c.writeJSON(pageJSON[hookqueue.Hook]{hooks, next})
	}
	if len(hooks) == 0 {
		c.note("no pending webhooks match")
		return nil
	}
	t := c.table("ID", "ACCOUNT", "EVENT", "MSGID", "RECIPIENT", "ATTEMPTS", "NEXT ATTEMPT", "LAST RESULT", "URL")
	for _, h := range hooks {
		t.row(fmtInt(h.ID), h.Account, string(h.Event), fmtInt(h.QueueMsgID), h.Payload.Recipient, fmtInt(h.Attempts), c.fmtWhen(h.NextAttempt), truncate(hookResult(h.LastResult()), 50), h.URL)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if next != 0 {
		c.note("more results: -cursor %d", next)
	}
	return nil
}

// redact hides a credential, keeping whether it was set.
func redact(s string) string {
	if s == "" {
		return ""
	}
	return "(redacted)"
}

func hooksRetired(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	f := hookFilter(c, fs, true)
	p, checkPage := listFlags(fs, true)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := checkPage("hooks retired"); err != nil {
		return err
	}
	hooks, next, err := c.be.hookRetiredList(ctx, *f, *p)
	if err != nil {
		return err
	}
	if hooks == nil {
		hooks = []hookqueue.HookRetired{}
	}
	if c.json {
		return c.writeJSON(pageJSON[hookqueue.HookRetired]{hooks, next})
	}
	if len(hooks) == 0 {
		c.note("no retired webhooks match")
		return nil
	}
	t := c.table("ID", "ACCOUNT", "EVENT", "MSGID", "RECIPIENT", "OUTCOME", "ATTEMPTS", "LAST ACTIVITY", "LAST RESULT", "URL")
	for _, h := range hooks {
		t.row(fmtInt(h.ID), h.Account, string(h.Event), fmtInt(h.QueueMsgID), h.Payload.Recipient, string(h.RetireReason), fmtInt(h.Attempts), c.fmtTime(h.LastActivity), truncate(hookResult(h.LastResult()), 50), h.URL)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if next != 0 {
		c.note("more results: -cursor %d", next)
	}
	return nil
}

func hooksCancel(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	f := hookFilter(c, fs, false)
	all := fs.Bool("all", false, "cancel all pending webhooks when no other filter is given")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if hookFilterEmpty(f) && !*all {
		return usageErrorf("hooks cancel: give a filter or -all")
	}
	n, err := c.be.hookCancel(ctx, *f)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFoundf("hooks cancel: no pending webhooks match")
	}
	if c.json {
		return c.writeJSON(map[string]int{"Canceled": n})
	}
	fmt.Fprintf(c.stdout, "canceled %d webhooks\n", n)
	return nil
}

func hooksRetry(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	f := hookFilter(c, fs, false)
	all := fs.Bool("all", false, "retry all pending webhooks when no other filter is given")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if hookFilterEmpty(f) && !*all {
		return usageErrorf("hooks retry: give a filter or -all")
	}
	n, err := c.be.hookRetry(ctx, *f)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFoundf("hooks retry: no pending webhooks match")
	}
	if c.json {
		return c.writeJSON(map[string]int{"Retried": n})
	}
	fmt.Fprintf(c.stdout, "%d webhooks due now\n", n)
	return nil
}
