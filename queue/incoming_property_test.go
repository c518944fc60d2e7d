package queue_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/suppression"
)

// The property test's size and seed: flags, else the environment
// (BOUNCEKIT_PROPERTY_N, BOUNCEKIT_PROPERTY_SEED), else the defaults.
// scripts/property runs it long.
var (
	propertyN     = flag.Int("property.n", 0, "reports fed by TestIncomingProperty (0: $BOUNCEKIT_PROPERTY_N or 3000)")
	propertySeed  = flag.Uint64("property.seed", 0, "seed of TestIncomingProperty (0: $BOUNCEKIT_PROPERTY_SEED or 1)")
	propertyBatch = flag.Int("property.batch", -1, "run only this batch of TestIncomingProperty, to replay a failure")
)

const (
	defaultPropertyCases = 3000
	propertyBatchCases   = 25 // Reports per database.
)

func propertyConfig(t *testing.T) (n int, seed uint64) {
	n, seed = *propertyN, *propertySeed
	if n == 0 {
		n = defaultPropertyCases
		if s := os.Getenv("BOUNCEKIT_PROPERTY_N"); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("BOUNCEKIT_PROPERTY_N: %v", err)
			}
			n = v
		}
	}
	if seed == 0 {
		seed = 1
		if s := os.Getenv("BOUNCEKIT_PROPERTY_SEED"); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				t.Fatalf("BOUNCEKIT_PROPERTY_SEED: %v", err)
			}
			seed = v
		}
	}
	return n, seed
}

// region is a part of a real report that is about one recipient (or a
// list of them), rewritten to name the recipients a case chooses: the
// region is replaced by prefix and one copy of unit per recipient, with
// addr replaced, joined by sep; empty (when no recipient is named)
// replaces it otherwise.
type region struct {
	text, prefix, unit, sep, empty string
}

// propTemplate is a real bounce from the corpus with what must be
// rewritten in it.
type propTemplate struct {
	name   string
	file   string // Under the corpus; empty for a DSN composed with package dsn.
	addr   string // The recipient address the bounce names.
	selfID string // The bounce's own Message-ID.
	msgID  string // The returned message's Message-ID.
	to     string // The returned message's To field, for all recipients of the submission.
	dsn    bool   // Has a message/delivery-status part: actions vary, ENVID can be added.
	parts  []region
	data   string
}

var propTemplates = []propTemplate{
	{
		name: "postfix", file: "sisimai/bsd/lhost-postfix-17.eml", addr: "kijitora@example.org",
		selfID: "20110420233445.ffff@mx20.example.jp", msgID: "20110420233445.EEEEEEEEEEEE@mx20.example.jp",
		to: "To: kijitora@example.org\n", dsn: true,
		parts: []region{
			{text: "<kijitora@example.org>: Name service error for name=example.org\n    type=MX: Malformed or unexpected name server reply\n", unit: "<kijitora@example.org>: Name service error for name=example.org\n    type=MX: Malformed or unexpected name server reply\n", sep: "\n"},
			{text: "Final-Recipient: rfc822; kijitora@example.org\nAction: failed\nStatus: 5.4.4\nDiagnostic-Code: X-Postfix; Name service error for name=example.org\n    type=MX: Malformed or unexpected name server reply\n", unit: "Final-Recipient: rfc822; kijitora@example.org\nAction: failed\nStatus: 5.4.4\nDiagnostic-Code: X-Postfix; Name service error for name=example.org\n    type=MX: Malformed or unexpected name server reply\n", sep: "\n"},
		},
	},
	{
		name: "sendmail", file: "sisimai/bsd/lhost-sendmail-04.eml", addr: "kijitora@example.com",
		selfID: "000000000000000000000000000@mx.example.jp", msgID: "000000000000000000000000000@host1.mx.example.jp",
		to: "To: kijitora@example.com\n", dsn: true,
		parts: []region{
			{text: "<kijitora@example.com>\n    (reason: 553 5.1.8 <httpd@host1.mx.example.jp>... Domain of sender address httpd@host1.mx.example.jp does not exist)\n", unit: "<kijitora@example.com>\n    (reason: 553 5.1.8 <httpd@host1.mx.example.jp>... Domain of sender address httpd@host1.mx.example.jp does not exist)\n"},
			{text: "Final-Recipient: RFC822; kijitora@example.com\nAction: failed\nStatus: 5.1.8\nDiagnostic-Code: SMTP; 553 5.1.8 <httpd@host1.mx.example.jp>... Domain of sender\n    address httpd@host1.mx.example.jp does not exist\nLast-Attempt-Date: Thu, 29 Apr 2009 23:45:00 +0900\n", unit: "Final-Recipient: RFC822; kijitora@example.com\nAction: failed\nStatus: 5.1.8\nDiagnostic-Code: SMTP; 553 5.1.8 <httpd@host1.mx.example.jp>... Domain of sender\n    address httpd@host1.mx.example.jp does not exist\nLast-Attempt-Date: Thu, 29 Apr 2009 23:45:00 +0900\n", sep: "\n"},
		},
	},
	{
		name: "exim", file: "sisimai/bsd/lhost-exim-02.eml", addr: "kijitora@example.jp",
		selfID: "E1X58pT-0004bZ-Co@marutamachi.example.org", msgID: "E1X58pB-0004bW-2s@marutamachi.example.org",
		parts: []region{
			{text: "X-Failed-Recipients: kijitora@example.jp,\n  sabatora@example.jp\n", prefix: "X-Failed-Recipients: ", unit: "kijitora@example.jp", sep: ",\n  ", empty: "X-Note: none\n"},
			{text: "  kijitora@example.jp\n    SMTP error from remote mail server after RCPT TO:<kijitora@example.jp>:\n    host mx.example.jp [192.0.2.153]: 550 5.1.1 <kijitora@example.jp>... User Unknown\n  sabatora@example.jp\n    SMTP error from remote mail server after RCPT TO:<sabatora@example.jp>:\n    host mx.example.jp [192.0.2.153]: 550 5.2.1 <sabatora@example.jp>... User Unknown\n",
				unit: "  kijitora@example.jp\n    SMTP error from remote mail server after RCPT TO:<kijitora@example.jp>:\n    host mx.example.jp [192.0.2.153]: 550 5.1.1 <kijitora@example.jp>... User Unknown\n"},
		},
	},
	{
		name: "qmail", file: "sisimai/bsd/lhost-qmail-03.eml", addr: "kijitora@example.org",
		selfID: "", msgID: "00000000000000.5529.qmail@nijo.example.jp", to: "To: kijitora@example.org\n",
		parts: []region{
			{text: "<kijitora@example.org>:\nConnected to 192.0.2.225 but sender was rejected.\nRemote host said: 550 5.7.1 <root@nijo.example.jp>... Access denied\n", unit: "<kijitora@example.org>:\nConnected to 192.0.2.225 but sender was rejected.\nRemote host said: 550 5.7.1 <root@nijo.example.jp>... Access denied\n", sep: "\n"},
		},
	},
	{
		name: "exchange", file: "sisimai/bsd/lhost-exchange2003-02.eml", addr: "kijitora@example.co.jp",
		selfID: "0000000000000000000000000000000000000000@xs.example.co.jp", msgID: "000000000000000.0000000@example.jp",
		to: "To: kijitora@example.co.jp\n",
		parts: []region{
			{text: "kijitora@example.co.jp on Thu, 29 Apr 2007 16:51:51 -0500\n    The recipient name is not recognized\n\tThe MTS-ID of the original message is: c=jp;a= ;p=neko\n;l=EXCHANGE000000000000000000\n    MSEXCH:IMS:KIJITORA CAT:EXAMPLE:EXCHANGE 0 (000C05A6) Unknown Recipient\nmikeneko@example.co.jp on Thu, 29 Apr 2007 16:51:51 -0500\n    The recipient name is not recognized\n\tThe MTS-ID of the original message is: c=jp;a= ;p=neko\n;l=EXCHANGE000000000000000000\n    MSEXCH:IMS:KIJITORA CAT:EXAMPLE:EXCHANGE 0 (000C05A6) Unknown Recipient\n",
				unit: "kijitora@example.co.jp on Thu, 29 Apr 2007 16:51:51 -0500\n    The recipient name is not recognized\n\tThe MTS-ID of the original message is: c=jp;a= ;p=neko\n;l=EXCHANGE000000000000000000\n    MSEXCH:IMS:KIJITORA CAT:EXAMPLE:EXCHANGE 0 (000C05A6) Unknown Recipient\n"},
		},
	},
	{
		name: "gmail", file: "sisimai/bsd/lhost-gmail-01.eml", addr: "userunknown@example.jp",
		selfID: "047d7bdca0c250c6c004fe72bd32@google.com", msgID: "D992C2C3-F175-4C4D-97E2-53A90E4E5BF5@gmail.com",
		to: "To: mailboxfull@example.jp,\n userunknown@example.jp\n",
		parts: []region{
			{text: "X-Failed-Recipients: userunknown@example.jp\n", prefix: "X-Failed-Recipients: ", unit: "userunknown@example.jp", sep: ", ", empty: "X-Note: none\n"},
			{text: "     userunknown@example.jp\n", unit: "     userunknown@example.jp\n"},
		},
	},
	{name: "composed", dsn: true},
}

// loadPropTemplates reads the template files and checks that every
// rewritten part is in them.
func loadPropTemplates(t *testing.T) []propTemplate {
	l := make([]propTemplate, len(propTemplates))
	copy(l, propTemplates)
	for i := range l {
		tp := &l[i]
		if tp.file == "" {
			continue
		}
		buf, err := os.ReadFile(filepath.Join("../report/testdata/corpus", tp.file))
		icheck(t, err, "read template")
		tp.data = string(buf)
		need := []string{tp.msgID, tp.to}
		if tp.selfID != "" {
			need = append(need, "<"+tp.selfID+">")
		}
		for _, p := range tp.parts {
			need = append(need, p.text)
			if !strings.Contains(p.unit, tp.addr) {
				t.Fatalf("template %s: unit %q lacks %s", tp.name, p.unit, tp.addr)
			}
		}
		for _, s := range need {
			if !strings.Contains(tp.data, s) {
				t.Fatalf("template %s: %q not in %s", tp.name, s, tp.file)
			}
		}
	}
	return l
}

// propName is a recipient a report names, with the action it reports.
type propName struct {
	addr   string
	action dsn.Action
}

// propReport is what a case puts in a report.
type propReport struct {
	tmpl     string
	names    []propName
	msgID    string // The returned message's Message-ID (the submission's, or another).
	envID    string // ENVID, or empty.
	rcptTo   string
	fromSub  int // Submission whose FromID rcptTo carries, or -1.
	account  string
	selfID   string
	allRcpts []string // The submission's recipients, for the returned To field.
}

func (r propReport) String() string {
	var l []string
	for _, n := range r.names {
		l = append(l, n.addr+"/"+string(n.action))
	}
	return fmt.Sprintf("template %s, names [%s], message-id %q, envid %q, rcptTo %q, account %q", r.tmpl, strings.Join(l, " "), r.msgID, r.envID, r.rcptTo, r.account)
}

// build writes the report.
func (r propReport) build(t *testing.T, tp propTemplate) []byte {
	if tp.file == "" {
		var rcpts []dsn.Recipient
		for _, n := range r.names {
			rc := dsn.Recipient{FinalRecipient: n.addr, Action: n.action, Status: actionStatus(n.action, "5.1.1"), RemoteMTA: "mx.example.com"}
			if n.action == dsn.ActionFailed {
				rc.DiagnosticCode = "550 5.1.1 <" + n.addr + ">: user unknown"
			}
			rcpts = append(rcpts, rc)
		}
		orig := "From: alice@example.org\r\nTo: " + strings.Join(r.allRcpts, ", ") + "\r\nSubject: hi\r\nMessage-ID: <" + r.msgID + ">\r\n\r\n"
		return composeDSN(t, "<"+r.selfID+">", r.envID, []byte(orig), rcpts...)
	}
	s := tp.data
	placeholder := "postmaster@unrelated.example"
	if len(r.names) > 0 {
		placeholder = r.names[0].addr
	}
	s = strings.ReplaceAll(s, "<"+tp.msgID+">", "<"+r.msgID+">")
	if tp.selfID != "" {
		s = strings.ReplaceAll(s, "<"+tp.selfID+">", "<"+r.selfID+">")
	} else {
		s = "Message-ID: <" + r.selfID + ">\n" + s
	}
	if tp.to != "" {
		s = strings.Replace(s, tp.to, "To: "+strings.Join(r.allRcpts, ",\n ")+"\n", 1)
	}
	for _, p := range tp.parts {
		var b strings.Builder
		if len(r.names) == 0 {
			b.WriteString(p.empty)
		} else {
			b.WriteString(p.prefix)
			for i, n := range r.names {
				if i > 0 {
					b.WriteString(p.sep)
				}
				u := strings.ReplaceAll(p.unit, tp.addr, n.addr)
				if tp.dsn && strings.Contains(u, "Action: failed") && n.action != dsn.ActionFailed {
					u = strings.Replace(u, "Action: failed", "Action: "+string(n.action), 1)
					u = strings.Replace(u, "Status: 5.", "Status: "+actionStatus(n.action, "5.")[:2], 1)
				}
				b.WriteString(u)
			}
			if p.prefix != "" {
				b.WriteString("\n")
			}
		}
		s = strings.Replace(s, p.text, b.String(), 1)
	}
	s = strings.ReplaceAll(s, tp.addr, placeholder)
	if tp.dsn && r.envID != "" {
		s = strings.Replace(s, "\nReporting-MTA:", "\nOriginal-Envelope-Id: "+r.envID+"\nReporting-MTA:", 1)
	}
	return []byte(s)
}

// actionStatus returns status with its class digit fitting action.
func actionStatus(action dsn.Action, status string) string {
	switch action {
	case dsn.ActionDelayed:
		return "4" + status[1:]
	case dsn.ActionDelivered, dsn.ActionRelayed, dsn.ActionExpanded:
		return "2" + status[1:]
	}
	return status
}

// propSub is a submission of the property test.
type propSub struct {
	account string
	msgs    []*queue.Msg
	msgID   string
	envID   string // Of all messages, or with "-<index>" per message.
}

// propAccounts: one account per way of keeping retired messages.
var propAccounts = map[string]time.Duration{"k0": 0, "kneg": -1, "k1h": time.Hour, "k30d": 30 * 24 * time.Hour}

type propRun struct {
	t     *testing.T
	r     *rand.Rand
	db    *bstore.DB
	h     *queue.Handler
	clock *queuetest.Clock
	tmpls []propTemplate
	subs  []*propSub
	seed  uint64
	batch int
	ncase int
	fails int            // Cases whose report the parser read with other recipients.
	stats map[string]int // Outcomes by match and event, and changed messages.
}

// TestIncomingProperty feeds random reports about random submissions and
// checks, after each, that every message whose recipient the report does
// not name is unchanged, byte for byte, and that suppression entries
// changed only for addresses the report named (as failed, for an entry
// added). The one exception is the documented one: a report naming one
// address may change the sole recipient of a submission it points to by
// FromID, ENVID or Message-ID (MatchSoleRecipient).
//
// Submissions have 1-10 recipients, of four accounts that keep retired
// messages for the default period, not at all, an hour and 30 days; their
// messages stay queued, are delivered, fail temporarily or permanently
// (FailMsgs with SMTP errors). Reports are real bounces from the corpus
// (Postfix, Sendmail, Exim, qmail, Exchange, Gmail) and DSNs composed
// with package dsn, rewritten to name none, one or several recipients of
// the submission, of other submissions, ORCPT addresses or forwards, with
// the submission's Message-ID or another, sometimes its ENVID, sent to a
// plain address, the submission's first FromID (Batch.MailFrom) or another
// of its FromIDs. The clock moves and retired messages are cleaned up
// between reports; some reports are processed twice.
func TestIncomingProperty(t *testing.T) {
	n, seed := propertyConfig(t)
	tmpls := loadPropTemplates(t)
	batches := (n + propertyBatchCases - 1) / propertyBatchCases
	dir := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		// Commits on tmpfs: the test measures decisions, not fsync.
		if d, err := os.MkdirTemp("/dev/shm", "bouncekit-property"); err == nil {
			dir = d
			t.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	var total, unread int
	stats := map[string]int{}
	for b := range batches {
		if *propertyBatch >= 0 && b != *propertyBatch {
			continue
		}
		p := newPropRun(t, dir, seed, b, tmpls)
		cases := min(propertyBatchCases, n-b*propertyBatchCases)
		p.setup()
		for range cases {
			p.step()
		}
		total += p.ncase
		unread += p.fails
		for k, v := range p.stats {
			stats[k] += v
		}
		p.db.Close()
		os.Remove(filepath.Join(dir, fmt.Sprintf("b%d.db", b)))
	}
	var keys []string
	for k := range stats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var l []string
	for _, k := range keys {
		l = append(l, fmt.Sprintf("%s %d", k, stats[k]))
	}
	t.Logf("%d reports (seed %d); %d read with other recipients than they name; %s", total, seed, unread, strings.Join(l, ", "))
}

func newPropRun(t *testing.T, dir string, seed uint64, batch int, tmpls []propTemplate) *propRun {
	db, err := bstore.Open(context.Background(), filepath.Join(dir, fmt.Sprintf("b%d.db", batch)), &bstore.Options{Timeout: time.Second}, queue.DBTypes()...)
	icheck(t, err, "open db")
	t.Cleanup(func() { db.Close() }) // After a failure; closed at the end of the batch otherwise.
	r := rand.New(rand.NewPCG(seed, uint64(batch)))
	clock := queuetest.NewClock(inT0)
	p := &propRun{t: t, r: r, db: db, clock: clock, tmpls: tmpls, seed: seed, batch: batch, stats: map[string]int{}}
	p.h = &queue.Handler{
		DB:                db,
		DSNComposer:       &queuetest.Composer{},
		Suppressions:      &suppression.Store{DB: db, Now: clock.Now},
		Hooks:             &hookqueue.Queue{DB: db, Now: clock.Now},
		GenerateFromIDs:   true,
		CatchallSeparator: "+",
		Rand:              rand.NewChaCha8(chachaSeed(seed, batch)),
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			keep, ok := propAccounts[name]
			return queue.AccountSettings{WebhookURL: "https://app.example.org/hook", KeepRetired: keep}, ok
		}),
		Now:   clock.Now,
		After: clock.After,
	}
	return p
}

// chachaSeed makes the seed of the batch's FromIDs.
func chachaSeed(seed uint64, batch int) [32]byte {
	var b [32]byte
	for i := range 8 {
		b[i] = byte(seed >> (8 * i))
		b[8+i] = byte(uint64(batch) >> (8 * i))
	}
	return b
}

func (p *propRun) fatalf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("seed %d batch %d case %d (replay: go test ./queue -run TestIncomingProperty -property.seed=%d -property.batch=%d): %s",
		p.seed, p.batch, p.ncase, p.seed, p.batch, fmt.Sprintf(format, args...))
}

// pool returns the i-th recipient address of the batch's address pool.
func pool(i int) string {
	return fmt.Sprintf("u%d@d%d.example", i, i%4)
}

// setup queues the batch's submissions and gives each message an outcome.
func (p *propRun) setup() {
	accounts := []string{"k0", "kneg", "k1h", "k30d"}
	nsubs := 1 + p.r.IntN(6)
	err := p.db.Write(context.Background(), func(tx *bstore.Tx) error {
		for i := range nsubs {
			s := &propSub{account: accounts[p.r.IntN(len(accounts))], msgID: fmt.Sprintf("s%d-b%d@example.org", i, p.batch), envID: fmt.Sprintf("env-%d-%d", p.batch, i)}
			if i > 0 && p.r.IntN(10) == 0 {
				s.msgID = p.subs[p.r.IntN(i)].msgID // A resend: the same Message-ID.
			}
			// A host may give each recipient its own ENVID: a report's
			// ENVID then finds one message, whose siblings are not
			// candidates.
			perMsgEnvID := p.r.IntN(3) == 0
			nrcpt := 1 + p.r.IntN(10)
			perm := p.r.Perm(20)
			for j := range nrcpt {
				m := &queue.Msg{SenderAccount: s.account, SenderAddress: s.account + "@example.org", RecipientAddress: pool(perm[j]), MessageID: s.msgID, EnvID: s.envID, Subject: "hi"}
				if perMsgEnvID {
					m.EnvID = fmt.Sprintf("%s-%d", s.envID, j)
				}
				if p.r.IntN(5) == 0 {
					m.ORcpt = fmt.Sprintf("rfc822;alias-%d-%d-%d@lists.example", p.batch, i, j)
				}
				s.msgs = append(s.msgs, m)
			}
			if _, err := p.h.Add(tx, s.msgs...); err != nil {
				return err
			}
			p.subs = append(p.subs, s)
		}
		for _, s := range p.subs {
			for _, m := range s.msgs {
				if err := p.outcome(tx, m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	icheck(p.t, err, "setup")
}

// outcome gives m a random delivery outcome; messages retired at Add (a
// suppressed recipient) are left alone.
func (p *propRun) outcome(tx *bstore.Tx, m *queue.Msg) error {
	if err := tx.Get(&queue.Msg{ID: m.ID}); err == bstore.ErrAbsent {
		return nil
	}
	temp := &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 2, 0}, Stage: bounce.StageRcpt, Line: "try again later"}
	perm := &bounce.SMTPError{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "<" + m.RecipientAddress + ">: user unknown"}
	var err error
	switch p.r.IntN(5) {
	case 0: // Queued, not tried yet.
	case 1:
		_, err = p.h.DeliveredMsgs(tx, []queue.Msg{*m}, queue.Delivery{Code: 250, EnhancedCode: bounce.EnhancedCode{2, 0, 0}, Line: "ok"})
	case 2:
		_, err = p.h.FailMsgs(tx, []queue.Msg{*m}, temp)
	case 3:
		_, err = p.h.FailMsgs(tx, []queue.Msg{*m}, perm)
	case 4:
		if _, err = p.h.FailMsgs(tx, []queue.Msg{*m}, temp); err != nil {
			return err
		}
		// Unless it was given up meanwhile (the recipient was suppressed).
		if err := tx.Get(&queue.Msg{ID: m.ID}); err == nil {
			_, err = p.h.DeliveredMsgs(tx, []queue.Msg{*m}, queue.Delivery{Code: 250})
			return err
		}
	}
	return err
}

// snapshot is the stored state the property compares.
type snapshot struct {
	msgs    map[int64]string // Msg or MsgRetired as JSON.
	entries map[string]string
}

func (p *propRun) snapshot() snapshot {
	s := snapshot{msgs: map[int64]string{}, entries: map[string]string{}}
	err := p.db.Read(context.Background(), func(tx *bstore.Tx) error {
		err := bstore.QueryTx[queue.Msg](tx).ForEach(func(m queue.Msg) error {
			buf, err := json.Marshal(m)
			s.msgs[m.ID] = "queued " + string(buf)
			return err
		})
		if err != nil {
			return err
		}
		err = bstore.QueryTx[queue.MsgRetired](tx).ForEach(func(m queue.MsgRetired) error {
			buf, err := json.Marshal(m)
			s.msgs[m.ID] = "retired " + string(buf)
			return err
		})
		if err != nil {
			return err
		}
		return bstore.QueryTx[suppression.Entry](tx).ForEach(func(e suppression.Entry) error {
			buf, err := json.Marshal(e)
			s.entries[e.Account+" "+e.BaseAddress] = string(buf)
			return err
		})
	})
	icheck(p.t, err, "snapshot")
	return s
}

// report makes a random report about a random submission.
func (p *propRun) report() (propReport, int) {
	si := p.r.IntN(len(p.subs))
	s := p.subs[si]
	rep := propReport{tmpl: p.tmpls[p.r.IntN(len(p.tmpls))].name, fromSub: -1, account: s.account, selfID: fmt.Sprintf("bounce-%d-%d@mx.example.net", p.batch, p.ncase)}
	tp := p.template(rep.tmpl)
	for _, m := range s.msgs {
		rep.allRcpts = append(rep.allRcpts, m.RecipientAddress)
	}
	var k int
	switch x := p.r.IntN(10); {
	case x == 0:
		k = 0
	case x < 6:
		k = 1
	default:
		k = 2 + p.r.IntN(2)
	}
	if tp.file == "" && k == 0 {
		// A DSN names a recipient; this one a stranger, as confused MTAs
		// do.
		rep.names = []propName{{"postmaster@unrelated.example", dsn.ActionFailed}}
	}
	seen := map[string]bool{}
	for len(rep.names) < k {
		var addr string
		switch x := p.r.IntN(20); {
		case x < 12:
			addr = s.msgs[p.r.IntN(len(s.msgs))].RecipientAddress
		case x < 14:
			m := s.msgs[p.r.IntN(len(s.msgs))]
			if m.ORcpt == "" {
				continue
			}
			addr = strings.TrimPrefix(m.ORcpt, "rfc822;")
		case x < 17:
			addr = pool(p.r.IntN(20))
		default:
			addr = fmt.Sprintf("fwd%d@forward.example", p.r.IntN(5))
		}
		if seen[addr] {
			continue
		}
		seen[addr] = true
		action := dsn.ActionFailed
		if tp.dsn {
			switch x := p.r.IntN(20); {
			case x < 3:
				action = dsn.ActionDelayed
			case x < 6:
				action = dsn.ActionDelivered
			case x < 8:
				action = dsn.ActionRelayed
			}
		}
		rep.names = append(rep.names, propName{addr, action})
	}
	rep.msgID = s.msgID
	if p.r.IntN(5) < 2 {
		rep.msgID = fmt.Sprintf("other-%d@example.org", p.r.IntN(1000))
	}
	if tp.dsn && p.r.IntN(2) == 0 {
		rep.envID = s.msgs[p.r.IntN(len(s.msgs))].EnvID
	}
	switch x := p.r.IntN(3); x {
	case 0:
		rep.rcptTo = "bounces@example.org"
	case 1:
		b := queue.Batch{BaseID: s.msgs[0].BaseID}
		for _, m := range s.msgs {
			b.Msgs = append(b.Msgs, *m)
		}
		rep.rcptTo = b.MailFrom("+")
		rep.fromSub = si
	case 2:
		rep.rcptTo = s.msgs[p.r.IntN(len(s.msgs))].MailFrom("+")
		rep.fromSub = si
	}
	if p.r.IntN(5) == 0 {
		rep.account = "" // A server-wide bounce address.
	}
	return rep, si
}

func (p *propRun) template(name string) propTemplate {
	for _, tp := range p.tmpls {
		if tp.name == name {
			return tp
		}
	}
	p.t.Fatalf("no template %s", name)
	return propTemplate{}
}

// step processes one random report and checks the property.
func (p *propRun) step() {
	p.ncase++
	p.clock.Advance(time.Duration(p.r.IntN(90)) * time.Minute)
	if p.r.IntN(4) == 0 {
		err := p.db.Write(context.Background(), func(tx *bstore.Tx) error {
			_, err := queue.CleanupRetired(tx, p.clock.Now())
			return err
		})
		icheck(p.t, err, "cleanup")
	}
	rep, _ := p.report()
	msg := rep.build(p.t, p.template(rep.tmpl))
	before := p.snapshot()
	res := p.process(rep, msg)
	after := p.snapshot()
	p.check(rep, msg, res, before, after)

	if p.r.IntN(10) == 0 {
		// The same report again changes nothing.
		res := p.process(rep, msg)
		again := p.snapshot()
		if d := diff(after, again); d != "" {
			p.fatalf("report processed twice changed state: %s\n%s", d, rep)
		}
		for _, o := range res.Recipients {
			if !o.Duplicate {
				p.fatalf("second processing not a duplicate: %+v\n%s", o, rep)
			}
		}
	}
}

func (p *propRun) process(rep propReport, msg []byte) queue.IncomingResult {
	var res queue.IncomingResult
	err := p.db.Write(context.Background(), func(tx *bstore.Tx) error {
		var err error
		res, err = p.h.ProcessIncoming(tx, rep.account, rep.rcptTo, msg)
		return err
	})
	if err != nil {
		p.fatalf("process incoming: %v\n%s", err, rep)
	}
	return res
}

// diff describes what differs between two snapshots, or is empty.
func diff(a, b snapshot) string {
	var l []string
	for id, s := range a.msgs {
		if b.msgs[id] != s {
			l = append(l, fmt.Sprintf("message %d", id))
		}
	}
	for id := range b.msgs {
		if _, ok := a.msgs[id]; !ok {
			l = append(l, fmt.Sprintf("new message %d", id))
		}
	}
	for k, s := range a.entries {
		if b.entries[k] != s {
			l = append(l, "entry "+k)
		}
	}
	for k := range b.entries {
		if _, ok := a.entries[k]; !ok {
			l = append(l, "new entry "+k)
		}
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

// check verifies the property for one processed report.
func (p *propRun) check(rep propReport, msg []byte, res queue.IncomingResult, before, after snapshot) {
	named := map[string]bool{}       // Addresses the report names, lower case.
	namedFailed := map[string]bool{} // Those it names as failed.
	for _, n := range rep.names {
		named[strings.ToLower(n.addr)] = true
		if n.action == dsn.ActionFailed {
			namedFailed[strings.ToLower(n.addr)] = true
		}
	}
	if len(rep.names) == 0 && p.template(rep.tmpl).to != "" && len(rep.allRcpts) == 1 {
		// A bounce that names nobody but returns a message with one
		// addressee is about that addressee (package report's last resort).
		named[strings.ToLower(rep.allRcpts[0])] = true
		namedFailed[strings.ToLower(rep.allRcpts[0])] = true
	}
	type msgInfo struct {
		sub  int
		rcpt string
		orig string
	}
	info := map[int64]msgInfo{}
	for si, s := range p.subs {
		for _, m := range s.msgs {
			info[m.ID] = msgInfo{si, strings.ToLower(m.RecipientAddress), strings.ToLower(strings.TrimPrefix(m.ORcpt, "rfc822;"))}
		}
	}
	// pointsTo: the report carries a key of the submission.
	pointsTo := func(si int) bool {
		s := p.subs[si]
		if rep.fromSub == si || rep.msgID == s.msgID {
			return true
		}
		for _, m := range s.msgs {
			if rep.envID != "" && rep.envID == m.EnvID {
				return true
			}
		}
		return false
	}
	// mayChange: the report names the message's recipient, or the message
	// is the sole recipient of a submission the report points to and the
	// report names one address.
	sole := func(id int64) bool {
		mi := info[id]
		return len(rep.names) == 1 && len(p.subs[mi.sub].msgs) == 1 && pointsTo(mi.sub)
	}
	mayChange := func(id int64) bool {
		mi := info[id]
		return named[mi.rcpt] || mi.orig != "" && named[mi.orig] || sole(id)
	}
	// Addresses whose entries may be added (failed) or removed (named).
	failedTargets, anyTargets := map[string]bool{}, map[string]bool{}
	for id, mi := range info {
		failed := namedFailed[mi.rcpt] || mi.orig != "" && namedFailed[mi.orig]
		if sole(id) {
			failed = failed || namedFailed[strings.ToLower(rep.names[0].addr)]
		}
		if failed {
			failedTargets[mi.rcpt] = true
		}
		if mayChange(id) {
			anyTargets[mi.rcpt] = true
		}
	}
	for a := range namedFailed {
		failedTargets[a] = true
	}
	for a := range named {
		anyTargets[a] = true
	}

	show := func() string {
		var ol []string
		for _, o := range res.Recipients {
			ol = append(ol, fmt.Sprintf("%s %s match=%s msgid=%d %s", o.Recipient, o.Event, o.Match, o.MsgID, o.Detail))
		}
		m := msg
		if len(m) > 3000 {
			m = m[:3000]
		}
		return fmt.Sprintf("%s\noutcomes:\n  %s\nreport:\n%s", rep, strings.Join(ol, "\n  "), m)
	}

	for _, o := range res.Recipients {
		m := string(o.Match)
		if m == "" {
			m = "none"
		}
		p.stats["match "+m+"/"+string(o.Event)]++
	}
	for id, s := range before.msgs {
		if after.msgs[id] != s {
			p.stats["changed messages"]++
		}
		if after.msgs[id] != s && !mayChange(id) {
			p.fatalf("message %d to %s changed, not named by the report:\nbefore %s\nafter  %s\n%s", id, info[id].rcpt, s, after.msgs[id], show())
		}
	}
	for id := range after.msgs {
		if _, ok := before.msgs[id]; !ok {
			p.fatalf("message %d appeared\n%s", id, show())
		}
	}
	for k, s := range after.entries {
		if before.entries[k] == s {
			continue
		}
		addr := k[strings.IndexByte(k, ' ')+1:]
		if !failedTargets[addr] {
			p.fatalf("suppression entry %s added or changed, not named as failed:\nbefore %s\nafter  %s\n%s", k, before.entries[k], s, show())
		}
	}
	for k := range before.entries {
		if _, ok := after.entries[k]; !ok && !anyTargets[k[strings.IndexByte(k, ' ')+1:]] {
			p.fatalf("suppression entry %s removed, not named\n%s", k, show())
		}
	}
	for _, o := range res.Recipients {
		// An unrecognized outcome changes nothing but queues a webhook: a
		// report without a readable recipient, to a FromID.
		if o.MsgID != 0 && o.Event != "unrecognized" && !mayChange(o.MsgID) {
			p.fatalf("outcome matched message %d to %s, not named\n%s", o.MsgID, info[o.MsgID].rcpt, show())
		}
		if o.Match == queue.MatchSoleRecipient && !sole(o.MsgID) {
			p.fatalf("sole-recipient match of message %d\n%s", o.MsgID, show())
		}
	}

	// What the report was read as: the recipients it names. A difference
	// is counted (a parser that misses a recipient loses a result but
	// changes nothing); an outcome for one of our recipients that the
	// report does not name is a failure, even when it matched nothing.
	var got []string
	for _, o := range res.Recipients {
		if o.Match == queue.MatchFromID && o.Event == "unrecognized" {
			// No recipient could be read; the FromID's message gets the
			// unrecognized event, nothing else.
			continue
		}
		got = append(got, strings.ToLower(o.Recipient))
	}
	ours := map[string]bool{} // Addresses of our messages.
	for _, mi := range info {
		ours[mi.rcpt] = true
		if mi.orig != "" {
			ours[mi.orig] = true
		}
	}
	for _, a := range got {
		// Addresses of the template's own text (its sender, its host)
		// match nothing; a recipient of ours the report does not name
		// could.
		if ours[a] && !named[a] {
			p.fatalf("outcome for %s, which the report does not name\n%s", a, show())
		}
	}
	if len(got) != len(rep.names) && len(rep.names) > 0 {
		p.fails++
		if testing.Verbose() {
			p.t.Logf("seed %d batch %d case %d: read %v from a report naming %d\n%s", p.seed, p.batch, p.ncase, got, len(rep.names), show())
		}
	}

	// No lost results: a name that is a recipient of the submission, by
	// a FromID that was found, matches a message to that address when one
	// is stored.
	if rep.fromSub >= 0 && res.FromID != "" && len(got) == len(rep.names) {
		for _, n := range rep.names {
			a := strings.ToLower(n.addr)
			var stored bool
			for _, m := range p.subs[rep.fromSub].msgs {
				if strings.ToLower(m.RecipientAddress) == a && after.msgs[m.ID] != "" && !named[info[m.ID].orig] {
					stored = true
				}
			}
			if !stored {
				continue
			}
			var ok bool
			for _, o := range res.Recipients {
				if strings.ToLower(o.Recipient) == a && o.MsgID != 0 && info[o.MsgID].rcpt == a {
					ok = true
				}
			}
			if !ok {
				p.fatalf("report names %s of its submission by fromid, not matched\n%s", a, show())
			}
		}
	}
}
