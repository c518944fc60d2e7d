package crashtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// HookReceipt is one webhook request the parent's receiver got.
type HookReceipt struct {
	WebhookID string // The webhook-id header.
	Account   string // From the URL path.
	Event     webhook.OutgoingEvent
	MsgID     int64
	Recipient string
	Status    int  // The status the receiver answered.
	BadSig    bool // The keep account's signature did not verify.
}

// Report is the outcome of Check: counts for the table and the broken
// invariants.
type Report struct {
	Rows       []Row
	Violations []string
}

// Row is one line of the table: what was counted and how many, and how
// many of them broke an invariant.
type Row struct {
	What   string
	Count  int
	Broken int
}

// Failed reports whether an invariant was broken.
func (r *Report) Failed() bool {
	return len(r.Violations) > 0
}

// Print writes the table and up to 50 violations.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%-64s %8s %7s\n", "check", "count", "broken")
	for _, row := range r.Rows {
		fmt.Fprintf(w, "%-64s %8d %7d\n", row.What, row.Count, row.Broken)
	}
	for i, v := range r.Violations {
		if i == 50 {
			fmt.Fprintf(w, "... and %d more violations\n", len(r.Violations)-50)
			break
		}
		fmt.Fprintln(w, "VIOLATION:", v)
	}
}

// modelMsg is what the committed journal says about one message.
type modelMsg struct {
	account, rcpt string
	baseID        int64
	state         string // queued, retired, removed
	event         webhook.OutgoingEvent
	attempts      int64
	results       int
	codes         []int // Reply code of each result, oldest first.
	failedDSN     int
	delayedDSN    int
	gaveUp        bool // By FailMsgs or Due (a failure DSN is due).
}

type suppKey struct{ account, addr string }

// suppCause is a committed outcome that added a suppression entry.
type suppCause struct {
	code   int
	msgID  int64
	source suppression.Source
}

// Rows of the table, in this order; the messages' final places follow
// "messages added".
var rowOrder = []string{
	"SIGKILLs",
	"child runs (last one drains)",
	"bbolt tx.Check after each kill",
	"journaled transactions committed",
	"  of which killed between commit and confirmation",
	"journaled transactions rolled back by a kill",
	"messages added, each in exactly one place",
	"failure DSNs (exactly one per give-up)",
	"delayed DSNs (at most one per message)",
	"DSNs delivered (at least once, same Message-ID)",
	"  deliveries repeated after a kill",
	"webhooks committed",
	"webhooks delivered (at least once, same webhook-id)",
	"  requests in all (some answered 503 on purpose)",
	"  delivered again after a kill",
	"incoming DSNs processed (duplicates change nothing)",
	"suppression entries, each caused by a committed give-up or DSN",
	"outbox and webhook queue empty after the drain",
}

// checker accumulates the counts and violations of one Check.
type checker struct {
	rep    Report
	broken map[string]int
	counts map[string]int
	order  []string
	states []Row // Final places of the messages: queued, retired, removed, per event.
}

func (c *checker) count(what string, n int) {
	if _, ok := c.counts[what]; !ok {
		c.order = append(c.order, what)
	}
	c.counts[what] += n
}

func (c *checker) fail(what, format string, args ...any) {
	c.count(what, 0)
	c.broken[what]++
	c.rep.Violations = append(c.rep.Violations, what+": "+fmt.Sprintf(format, args...))
}

// Check compares the database in dir after the final (draining) run with
// the child's journal, the delivered DSNs and the webhook receipts.
// kills and bboltChecks are the parent's figures, bboltBroken its failed
// consistency checks; they become rows of the table.
func Check(ctx context.Context, dir string, receipts []HookReceipt, kills, runs, bboltChecks, bboltBroken int) (*Report, error) {
	c := &checker{broken: map[string]int{}, counts: map[string]int{}}
	for _, what := range rowOrder {
		c.count(what, 0)
	}
	c.count("SIGKILLs", kills)
	c.count("child runs (last one drains)", runs)
	c.count("bbolt tx.Check after each kill", bboltChecks)
	if bboltBroken > 0 {
		c.broken["bbolt tx.Check after each kill"] = bboltBroken
		c.rep.Violations = append(c.rep.Violations, fmt.Sprintf("bbolt tx.Check after each kill: %d checks failed (see log)", bboltBroken))
	}

	recs, torn, err := readJournal(filepath.Join(dir, journalFile))
	if err != nil {
		return nil, err
	}
	if torn {
		c.fail("journal records", "torn last line")
	}
	db, err := openDB(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("crashtest: check: %w", err)
	}
	defer db.Close()
	var (
		marks   []TxMark
		msgs    []queue.Msg
		retired []queue.MsgRetired
		outbox  []queue.OutboxDSN
		hooks   []hookqueue.Hook
		entries []suppression.Entry
	)
	err = db.Read(ctx, func(tx *bstore.Tx) error {
		var err error
		if marks, err = bstore.QueryTx[TxMark](tx).List(); err != nil {
			return err
		}
		if msgs, err = bstore.QueryTx[queue.Msg](tx).List(); err != nil {
			return err
		}
		if retired, err = bstore.QueryTx[queue.MsgRetired](tx).List(); err != nil {
			return err
		}
		if outbox, err = bstore.QueryTx[queue.OutboxDSN](tx).List(); err != nil {
			return err
		}
		if hooks, err = bstore.QueryTx[hookqueue.Hook](tx).List(); err != nil {
			return err
		}
		entries, err = bstore.QueryTx[suppression.Entry](tx).List()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("crashtest: reading database for check: %w", err)
	}

	committed := c.journal(recs, marks)
	model, committedDSNs, committedHooks, supp := c.replay(recs, committed)
	c.database(model, msgs, retired)
	c.drained(outbox, hooks)
	if err := c.dsns(dir, model, committedDSNs); err != nil {
		return nil, err
	}
	c.hooks(receipts, committedHooks, model)
	c.suppression(supp, entries, model)

	for _, what := range c.order {
		c.rep.Rows = append(c.rep.Rows, Row{What: what, Count: c.counts[what], Broken: c.broken[what]})
		if what == "messages added, each in exactly one place" {
			c.rep.Rows = append(c.rep.Rows, c.states...)
		}
	}
	return &c.rep, nil
}

// journal decides which intents were committed, from the TxMarks, and
// checks the journal's shape: a confirmed intent was committed, and an
// unconfirmed one is the last record of its run.
func (c *checker) journal(recs []Record, marks []TxMark) map[int64]bool {
	const what = "journaled transactions committed"
	marked := map[int64]bool{}
	for _, m := range marks {
		marked[m.ID] = true
	}
	intents := map[int64]Record{}
	confirmed := map[int64]bool{}
	lastOfRun := map[int]int64{} // Seq of the last record of each run.
	for _, r := range recs {
		lastOfRun[r.Run] = r.Seq
		if r.Confirm {
			if _, ok := intents[r.Seq]; !ok {
				c.fail(what, "confirmation of transaction %d without intent", r.Seq)
			}
			confirmed[r.Seq] = true
			continue
		}
		if _, ok := intents[r.Seq]; ok {
			c.fail(what, "transaction %d journaled twice", r.Seq)
		}
		intents[r.Seq] = r
	}
	committed := map[int64]bool{}
	var unconfirmedCommitted, rolledBack int
	for seq, r := range intents {
		switch {
		case confirmed[seq] && marked[seq]:
			committed[seq] = true
		case confirmed[seq]:
			c.fail(what, "transaction %d (%s, run %d) was confirmed after commit, but is not in the database", seq, r.Op, r.Run)
		default:
			if lastOfRun[r.Run] != seq {
				c.fail(what, "transaction %d (%s, run %d) unconfirmed but not the last record of its run", seq, r.Op, r.Run)
			}
			if marked[seq] {
				committed[seq] = true
				unconfirmedCommitted++
			} else {
				rolledBack++
			}
		}
	}
	for seq := range marked {
		if _, ok := intents[seq]; !ok {
			c.fail(what, "transaction %d in the database has no journal intent", seq)
		}
	}
	c.count(what, len(committed))
	c.count("  of which killed between commit and confirmation", unconfirmedCommitted)
	c.count("journaled transactions rolled back by a kill", rolledBack)
	return committed
}

// replay applies the committed records in order and checks each against
// the previous state.
func (c *checker) replay(recs []Record, committed map[int64]bool) (map[int64]*modelMsg, map[string]DSNRec, map[int64]HookRec, map[suppKey][]suppCause) {
	const (
		msgWhat  = "messages added, each in exactly one place"
		dsnWhat  = "failure DSNs (exactly one per give-up)"
		dlyWhat  = "delayed DSNs (at most one per message)"
		hookWhat = "webhooks committed"
		incWhat  = "incoming DSNs processed (duplicates change nothing)"
	)
	model := map[int64]*modelMsg{}
	dsns := map[string]DSNRec{}
	hooks := map[int64]HookRec{}
	supp := map[suppKey][]suppCause{}
	suppressedAt := map[suppKey]int64{}
	var added int
	for _, r := range recs {
		if r.Confirm || !committed[r.Seq] {
			continue
		}
		// Outbox DSNs and hooks of this transaction, matched to its outcomes.
		// One DSN per original message, kind and Handler call.
		type group struct {
			call int
			base int64
		}
		wantDSN := map[string]map[group]bool{}
		for _, m := range r.Msgs {
			if m.DSN != "" {
				if wantDSN[m.DSN] == nil {
					wantDSN[m.DSN] = map[group]bool{}
				}
				wantDSN[m.DSN][group{m.Call, m.BaseID}] = true
			}
		}
		gotDSN := map[string]int{}
		for _, d := range r.DSNs {
			gotDSN[d.Kind]++
			if _, ok := dsns[d.MessageID]; ok {
				c.fail(dsnWhat, "dsn message-id %s queued twice", d.MessageID)
			}
			dsns[d.MessageID] = d
		}
		for kind, bases := range wantDSN {
			if gotDSN[kind] != len(bases) {
				c.fail(dsnWhat, "transaction %d: %d %s dsns in the outbox for %d original messages", r.Seq, gotDSN[kind], kind, len(bases))
			}
		}
		for kind, n := range gotDSN {
			if len(wantDSN[kind]) == 0 {
				c.fail(dsnWhat, "transaction %d: %d %s dsns no outcome asked for", r.Seq, n, kind)
			}
		}
		wantHooks := 0
		for _, m := range r.Msgs {
			if m.Hook != "" {
				wantHooks++
			}
		}
		if wantHooks != len(r.Hooks) {
			c.fail(hookWhat, "transaction %d (%s): %d hooks queued for %d outcomes with a hook", r.Seq, r.Op, len(r.Hooks), wantHooks)
		}
		for _, h := range r.Hooks {
			if _, ok := hooks[h.ID]; ok {
				c.fail(hookWhat, "hook id %d committed twice", h.ID)
			}
			hooks[h.ID] = h
			found := false
			for _, m := range r.Msgs {
				if m.Hook == h.Event && m.ID == h.MsgID && strings.EqualFold(m.Recipient, h.Recipient) {
					found = true
				}
			}
			if !found {
				c.fail(hookWhat, "transaction %d: hook %d (%s, message %d) matches no outcome", r.Seq, h.ID, h.Event, h.MsgID)
			}
		}
		c.count(hookWhat, len(r.Hooks))

		for _, m := range r.Msgs {
			key := suppKey{m.Account, strings.ToLower(m.Recipient)}
			if m.Suppressing {
				source := suppression.SourceQueue
				if r.Op == opIncoming {
					source = suppression.SourceDSN
				}
				supp[key] = append(supp[key], suppCause{m.Code, m.ID, source})
				if _, ok := suppressedAt[key]; !ok {
					suppressedAt[key] = r.Seq
				}
			}
			if r.Op == opIncoming {
				c.count(incWhat, 1)
				if m.Result == "none" {
					c.fail(incWhat, "transaction %d: dsn about message %d named no recipient", r.Seq, m.ID)
					continue
				}
				if m.Duplicate {
					if m.Hook != "" || m.Suppressing || len(r.DSNs) > 0 {
						c.fail(incWhat, "transaction %d: duplicate dsn changed something", r.Seq)
					}
					continue
				}
				if m.ID == 0 {
					if m.Account != AccountDrop || m.Result != string(webhook.EventUnrecognized) {
						c.fail(incWhat, "transaction %d: dsn for %s of %s not matched (%s)", r.Seq, m.Recipient, m.Account, m.Result)
					}
					continue
				}
				mm := model[m.ID]
				if mm == nil || mm.state != "retired" || m.Result != string(webhook.EventFailed) {
					c.fail(incWhat, "transaction %d: dsn matched message %d in an unexpected state (%s)", r.Seq, m.ID, m.Result)
					continue
				}
				mm.results++
				mm.codes = append(mm.codes, m.Code)
				mm.event = webhook.EventFailed
				continue
			}

			mm := model[m.ID]
			if r.Op == opAdd {
				if mm != nil {
					c.fail(msgWhat, "message %d added twice", m.ID)
					continue
				}
				added++
				mm = &modelMsg{account: m.Account, rcpt: m.Recipient, baseID: m.BaseID, state: "queued"}
				model[m.ID] = mm
				if m.Result == string(queue.ResultSuppressed) {
					mm.results++
					mm.codes = append(mm.codes, 0)
					mm.settle(m, webhook.EventSuppressed)
					if m.Retired != (mm.account == AccountKeep) {
						c.fail(msgWhat, "message %d of account %s: retired %v", m.ID, mm.account, m.Retired)
					}
				}
				continue
			}
			if mm == nil || mm.state != "queued" {
				c.fail(msgWhat, "transaction %d (%s) changed message %d, which is not queued", r.Seq, r.Op, m.ID)
				continue
			}
			mm.results++
			mm.codes = append(mm.codes, m.Code)
			if m.Attempt {
				mm.attempts++
			}
			if m.DSN == string(queue.DSNFailed) {
				mm.failedDSN++
			}
			if m.DSN == string(queue.DSNDelayed) {
				mm.delayedDSN++
			}
			switch queue.Result(m.Result) {
			case queue.ResultRetry:
			case queue.ResultDelivered:
				if at, ok := suppressedAt[key]; ok {
					c.fail(msgWhat, "message %d to %s delivered in transaction %d, after suppression in %d", m.ID, m.Recipient, r.Seq, at)
				}
				mm.settle(m, webhook.EventDelivered)
			case queue.ResultFailed:
				mm.gaveUp = true
				mm.settle(m, webhook.EventFailed)
			case queue.ResultSuppressed:
				mm.gaveUp = true
				mm.settle(m, webhook.EventSuppressed)
			default:
				c.fail(msgWhat, "transaction %d (%s): message %d has result %q", r.Seq, r.Op, m.ID, m.Result)
			}
			if mm.state != "queued" && m.Retired != (mm.account == AccountKeep) {
				c.fail(msgWhat, "message %d of account %s: retired %v", m.ID, mm.account, m.Retired)
			}
		}
	}
	c.count(msgWhat, added)
	var failed, delayed int
	for id, mm := range model {
		failed += mm.failedDSN
		delayed += mm.delayedDSN
		if mm.gaveUp && mm.failedDSN != 1 {
			c.fail(dsnWhat, "message %d was given up with %d failure dsns", id, mm.failedDSN)
		}
		if !mm.gaveUp && mm.failedDSN != 0 {
			c.fail(dsnWhat, "message %d was not given up but has %d failure dsns", id, mm.failedDSN)
		}
		if mm.delayedDSN > 1 {
			c.fail(dlyWhat, "message %d has %d delayed dsns", id, mm.delayedDSN)
		}
	}
	c.count(dsnWhat, failed)
	c.count(dlyWhat, delayed)
	return model, dsns, hooks, supp
}

// settle moves a message out of the queue with event.
func (mm *modelMsg) settle(m MsgRec, event webhook.OutgoingEvent) {
	mm.event = event
	if m.Retired {
		mm.state = "retired"
	} else {
		mm.state = "removed"
	}
}

// database compares the queue and the retired messages with the model.
func (c *checker) database(model map[int64]*modelMsg, msgs []queue.Msg, retired []queue.MsgRetired) {
	const what = "messages added, each in exactly one place"
	inQueue := map[int64]queue.Msg{}
	for _, m := range msgs {
		inQueue[m.ID] = m
	}
	inRetired := map[int64]queue.MsgRetired{}
	for _, r := range retired {
		inRetired[r.ID] = r
	}
	states := map[string]int{}
	for id, mm := range model {
		q, isQ := inQueue[id]
		r, isR := inRetired[id]
		states[mm.state+" "+string(mm.event)]++
		switch mm.state {
		case "queued":
			if !isQ || isR {
				c.fail(what, "message %d should be queued: queued %v, retired %v", id, isQ, isR)
			} else if q.Attempts != mm.attempts || len(q.Results) != mm.results || !sameCodes(q.Results, mm.codes) {
				c.fail(what, "queued message %d: %d attempts, results %v; journal: %d, %v", id, q.Attempts, resultCodes(q.Results), mm.attempts, mm.codes)
			}
		case "retired":
			if isQ || !isR {
				c.fail(what, "message %d should be retired: queued %v, retired %v", id, isQ, isR)
			} else if r.Attempts != mm.attempts || len(r.Results) != mm.results || !sameCodes(r.Results, mm.codes) || r.Event != mm.event || r.SenderAccount != mm.account || r.RecipientAddress != mm.rcpt {
				c.fail(what, "retired message %d: %d attempts, results %v, %s; journal: %d, %v, %s", id, r.Attempts, resultCodes(r.Results), r.Event, mm.attempts, mm.codes, mm.event)
			}
		case "removed":
			if isQ || isR {
				c.fail(what, "message %d should be removed: queued %v, retired %v", id, isQ, isR)
			}
		}
	}
	for id := range inQueue {
		if model[id] == nil {
			c.fail(what, "queued message %d was never added by a committed transaction", id)
		}
	}
	for id := range inRetired {
		if model[id] == nil {
			c.fail(what, "retired message %d was never added by a committed transaction", id)
		}
	}
	keys := make([]string, 0, len(states))
	for k := range states {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.states = append(c.states, Row{What: "  " + strings.TrimSpace(k), Count: states[k]})
	}
}

func resultCodes(results []queue.MsgResult) []int {
	codes := make([]int, len(results))
	for i, r := range results {
		codes[i] = r.Code
	}
	return codes
}

func sameCodes(results []queue.MsgResult, codes []int) bool {
	if len(results) != len(codes) {
		return false
	}
	for i, r := range results {
		if r.Code != codes[i] {
			return false
		}
	}
	return true
}

// drained checks that the final run left nothing pending.
func (c *checker) drained(outbox []queue.OutboxDSN, hooks []hookqueue.Hook) {
	const what = "outbox and webhook queue empty after the drain"
	c.count(what, 0)
	if len(outbox) > 0 {
		c.fail(what, "%d dsns still in the outbox", len(outbox))
	}
	if len(hooks) > 0 {
		c.fail(what, "%d hooks still queued", len(hooks))
	}
}

// dsns checks the DSNs handed to the deliverer against the committed ones.
func (c *checker) dsns(dir string, model map[int64]*modelMsg, committed map[string]DSNRec) error {
	const what = "DSNs delivered (at least once, same Message-ID)"
	f, err := os.Open(filepath.Join(dir, dsnFile))
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("crashtest: opening dsn file: %w", err)
	}
	var lines []DSNLine
	if f != nil {
		defer f.Close()
		if lines, err = readDSNLines(f); err != nil {
			return err
		}
	}
	seen := map[string]int{}
	for _, l := range lines {
		seen[l.MessageID]++
		d, ok := committed[l.MessageID]
		if !ok {
			c.fail(what, "dsn %s (%s, message %d) delivered but never committed", l.MessageID, l.Kind, l.MsgID)
			continue
		}
		if d.Kind != l.Kind || d.MsgID != l.MsgID || d.ID != l.OutboxID {
			c.fail(what, "dsn %s delivered as %s/%d/%d, committed as %s/%d/%d", l.MessageID, l.Kind, l.MsgID, l.OutboxID, d.Kind, d.MsgID, d.ID)
		}
		if mm := model[l.MsgID]; mm == nil || mm.account != l.Account {
			c.fail(what, "dsn %s about message %d delivered to account %s", l.MessageID, l.MsgID, l.Account)
		}
	}
	for id, d := range committed {
		if seen[id] == 0 {
			c.fail(what, "dsn %s (%s, message %d) committed but never delivered", id, d.Kind, d.MsgID)
		}
	}
	c.count(what, len(seen))
	c.count("  deliveries repeated after a kill", len(lines)-len(seen))
	return nil
}

// hooks checks the receiver's requests against the committed hooks.
func (c *checker) hooks(receipts []HookReceipt, committed map[int64]HookRec, model map[int64]*modelMsg) {
	const what = "webhooks delivered (at least once, same webhook-id)"
	ok := map[int64]int{}
	attempts := 0
	for _, r := range receipts {
		attempts++
		var id int64
		if _, err := fmt.Sscanf(r.WebhookID, "bkh_%d", &id); err != nil {
			c.fail(what, "request with webhook-id %q", r.WebhookID)
			continue
		}
		h, found := committed[id]
		if !found {
			c.fail(what, "webhook %s (%s, message %d) received but never committed", r.WebhookID, r.Event, r.MsgID)
			continue
		}
		if h.Event != r.Event || h.MsgID != r.MsgID || !strings.EqualFold(h.Recipient, r.Recipient) {
			c.fail(what, "webhook %s received as %s/%d/%s, committed as %s/%d/%s", r.WebhookID, r.Event, r.MsgID, r.Recipient, h.Event, h.MsgID, h.Recipient)
		}
		if mm := model[r.MsgID]; r.MsgID != 0 && (mm == nil || mm.account != r.Account) {
			c.fail(what, "webhook %s about message %d posted to account %s", r.WebhookID, r.MsgID, r.Account)
		}
		if r.BadSig {
			c.fail(what, "webhook %s: signature does not verify", r.WebhookID)
		}
		if r.Status/100 == 2 {
			ok[id]++
		}
	}
	for id, h := range committed {
		if ok[id] == 0 {
			c.fail(what, "webhook bkh_%d (%s, message %d) committed but never delivered", id, h.Event, h.MsgID)
		}
	}
	dup := 0
	for _, n := range ok {
		dup += n - 1
	}
	c.count(what, len(ok))
	c.count("  requests in all (some answered 503 on purpose)", attempts)
	c.count("  delivered again after a kill", dup)
}

// suppression compares the entries with the suppressing outcomes: each
// entry was added by a committed give-up or DSN with its code and source,
// and the message that caused it is where its account keeps it (retired
// as failed, or removed).
func (c *checker) suppression(want map[suppKey][]suppCause, entries []suppression.Entry, model map[int64]*modelMsg) {
	const what = "suppression entries, each caused by a committed give-up or DSN"
	have := map[suppKey]suppression.Entry{}
	for _, e := range entries {
		have[suppKey{e.Account, e.BaseAddress}] = e
	}
	for k, e := range have {
		causes, ok := want[k]
		if !ok {
			c.fail(what, "entry %s/%s (%s) without a suppressing outcome", k.account, k.addr, e.Source)
			continue
		}
		match := false
		for _, cause := range causes {
			if int64(cause.code) == e.Code && cause.source == e.Source {
				match = true
			}
			mm := model[cause.msgID]
			switch {
			case mm == nil:
				c.fail(what, "entry %s/%s caused by message %d, which was never added", k.account, k.addr, cause.msgID)
			case k.account == AccountKeep && (mm.state != "retired" || mm.event != webhook.EventFailed):
				c.fail(what, "entry %s/%s caused by message %d, which is %s %s", k.account, k.addr, cause.msgID, mm.state, mm.event)
			case k.account == AccountDrop && mm.state != "removed":
				c.fail(what, "entry %s/%s caused by message %d, which is %s", k.account, k.addr, cause.msgID, mm.state)
			}
		}
		if !match {
			c.fail(what, "entry %s/%s has code %d and source %s; its suppressing outcomes: %+v", k.account, k.addr, e.Code, e.Source, causes)
		}
	}
	for k := range want {
		if _, ok := have[k]; !ok {
			c.fail(what, "suppressing outcome for %s/%s, but no entry", k.account, k.addr)
		}
	}
	c.count(what, len(have))
}
