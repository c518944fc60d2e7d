package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mjl-/bstore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/delivery"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/suppression"
)

// config is what the command line sets.
type config struct {
	Dir      string               // Working directory: database and Maildir. Required.
	DBPath   string               // Database file; empty: Dir/bouncekit.db.
	Policy   string               // "default" or "mox".
	Registry *prometheus.Registry // Metrics go here when set.
	Progress io.Writer            // Progress lines; nil: none.
}

const (
	secret    = "whsec_ZGVtby1zaWduaW5nLXNlY3JldC0xMjM0NTY3OA=="
	separator = "+"
	hostname  = "mta.demo.example"
)

var start = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// demo holds the parts of one run.
type demo struct {
	cfg      config
	db       *bstore.DB
	clock    *queuetest.Clock
	handler  *queue.Handler
	hooks    *hookqueue.Queue
	supp     *suppression.Store
	remote   *remoteServer
	client   *delivery.Client
	app      *receiver
	maildir  *maildir
	results  chan struct{}
	progress io.Writer
	dbPath   string
	incoming queue.IncomingResult
}

// run plays the whole scenario and returns its summary.
func run(ctx context.Context, cfg config) (s *Summary, rerr error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	d := &demo{cfg: cfg, clock: queuetest.NewClock(start), results: make(chan struct{}, 64), progress: cfg.Progress}
	if d.progress == nil {
		d.progress = io.Discard
	}
	d.dbPath = cfg.DBPath
	if d.dbPath == "" {
		d.dbPath = filepath.Join(cfg.Dir, "bouncekit.db")
	}
	var err error
	d.db, err = bstore.Open(ctx, d.dbPath, &bstore.Options{Timeout: time.Second, Perm: 0o600}, queue.DBTypes()...)
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	defer func() {
		if err := d.db.Close(); err != nil && rerr == nil {
			rerr = err
		}
	}()

	if d.remote, err = startRemote(); err != nil {
		return nil, err
	}
	defer d.remote.Close()
	if d.app, err = startReceiver(secret); err != nil {
		return nil, err
	}
	defer d.app.Close()
	d.maildir = &maildir{dir: filepath.Join(cfg.Dir, "Maildir")}

	if err := d.setup(); err != nil {
		return nil, err
	}
	hooksDone := make(chan error, 1)
	go func() { hooksDone <- d.hooks.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-hooksDone; err != nil && !errors.Is(err, context.Canceled) && rerr == nil {
			rerr = err
		}
	}()

	if err := d.enqueue(ctx); err != nil {
		return nil, err
	}
	if err := d.loop(ctx); err != nil {
		return nil, err
	}
	if err := d.asyncBounce(ctx); err != nil {
		return nil, err
	}
	if err := d.sendAgain(ctx); err != nil {
		return nil, err
	}
	if err := d.loop(ctx); err != nil {
		return nil, err
	}
	return d.summary(ctx)
}

func (d *demo) setup() error {
	policy := queue.DefaultPolicy()
	switch d.cfg.Policy {
	case "", "default":
	case "mox":
		policy = queue.MoxPolicy()
	default:
		return fmt.Errorf("unknown policy %q (default, mox)", d.cfg.Policy)
	}
	policy.Jitter = -1 // No jitter: exact, repeatable times for the summary.

	var qm *queue.Metrics
	var wm *hookqueue.Metrics
	if d.cfg.Registry != nil {
		var err error
		if qm, err = queue.NewMetrics(d.cfg.Registry); err != nil {
			return err
		}
		if wm, err = hookqueue.NewMetrics(d.cfg.Registry); err != nil {
			return err
		}
	}

	d.supp = &suppression.Store{DB: d.db, Now: d.clock.Now}
	d.hooks = &hookqueue.Queue{
		DB:            d.db,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		// One request at a time, so the summary lists events in a stable order.
		Concurrency:    1,
		MaxConcurrency: 1,
		Now:            d.clock.Now,
		After:          d.clock.After,
		Rand:           rand.NewChaCha8([32]byte{'h', 'o', 'o', 'k', 's'}), // Seeded: repeatable retry times.
		Metrics:        wm,
		OnResult: func(hookqueue.Hook, bool) {
			d.results <- struct{}{}
		},
	}
	accounts := map[string]queue.AccountSettings{
		"alice": {
			WebhookURL:     d.app.url,
			WebhookSecrets: []string{secret},
			KeepRetired:    30 * 24 * time.Hour,
			KeepHooks:      30 * 24 * time.Hour,
		},
		"postmaster": {KeepRetired: 30 * 24 * time.Hour},
	}
	d.handler = &queue.Handler{
		DB:                d.db,
		RetryPolicy:       policy,
		DSNDeliverer:      d.maildir,
		Suppressions:      d.supp,
		Hooks:             d.hooks,
		Accounts:          queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) { s, ok := accounts[name]; return s, ok }),
		MessageOpener:     queue.MessageOpenerFunc(openMessage),
		Hostname:          hostname,
		GenerateFromIDs:   true,
		CatchallSeparator: separator,
		Metrics:           qm,
		Now:               d.clock.Now,
		After:             d.clock.After,
		Rand:              rand.NewChaCha8([32]byte{'b', 'o', 'u', 'n', 'c', 'e'}),
	}
	_, port, err := net.SplitHostPort(d.remote.addr)
	if err != nil {
		return err
	}
	portNum, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	d.client = &delivery.Client{
		Hostname: hostname,
		Opener: delivery.OpenerFunc(func(_ context.Context, m queue.Msg) (io.ReadCloser, error) {
			return openMessage(nil, m)
		}),
		Resolver: demoResolver{},
		Port:     portNum,
		// One transaction per submission, with the first recipient's FromID
		// as MAIL FROM: a DSN that comes back to it names the submission,
		// and ProcessIncoming finds the recipient among its messages.
		SubmissionMailFrom: true,
		Separator:          separator,
		Now:                d.clock.Now,
	}
	return nil
}

// demoResolver is the demo's DNS: remote.example has one MX host,
// mx.remote.example, which is the demo's remote server on 127.0.0.1.
// Nothing leaves the machine.
type demoResolver struct{}

func (demoResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if strings.TrimSuffix(name, ".") == remoteDomain {
		return []*net.MX{{Host: "mx.remote.example.", Pref: 10}}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (demoResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	if strings.TrimSuffix(host, ".") == "mx.remote.example" {
		return []net.IPAddr{{IP: net.IPv4(127, 0, 0, 1)}}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// openMessage returns the message text. The demo makes it from the queue
// record; a real host reads its message store.
func openMessage(_ *bstore.Tx, m queue.Msg) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(messageText(m))), nil
}

func messageText(m queue.Msg) string {
	return "From: " + m.SenderAddress + "\r\n" +
		"To: " + m.RecipientAddress + "\r\n" +
		"Subject: " + m.Subject + "\r\n" +
		"Message-ID: <" + m.MessageID + ">\r\n" +
		"Date: Wed, 25 Nov 2026 09:00:00 +0000\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Hello from the bouncekit demo.\r\n"
}

// enqueue adds the demo's messages.
func (d *demo) enqueue(ctx context.Context) error {
	msg := func(account, from, subject, id string, rcpt string) *queue.Msg {
		return &queue.Msg{SenderAccount: account, SenderAddress: from, RecipientAddress: rcpt, Subject: subject, MessageID: id + "@demo.example"}
	}
	return d.db.Write(ctx, func(tx *bstore.Tx) error {
		add := func(msgs ...*queue.Msg) error {
			_, err := d.handler.Add(tx, msgs...)
			return err
		}
		if err := add(msg("alice", "alice@demo.example", "Welcome", "welcome", rcptOK)); err != nil {
			return err
		}
		// One submission to three recipients: one SMTP transaction, three outcomes.
		var multi []*queue.Msg
		for _, r := range []string{rcptUnknown, rcptFull, rcptGrey} {
			multi = append(multi, msg("alice", "alice@demo.example", "Team update", "team", r))
		}
		if err := add(multi...); err != nil {
			return err
		}
		never := msg("alice", "alice@demo.example", "Newsletter", "news", rcptListed)
		never.Notify = dsn.NotifyNever
		if err := add(never); err != nil {
			return err
		}
		for _, x := range []struct{ rcpt, subject, id string }{
			{rcptDMARC, "Invoice", "invoice"},
			{rcptDrop, "Reminder", "reminder"},
			{rcptPlain, "Receipt", "receipt"},
			{rcptLater, "Order shipped", "shipped"},
		} {
			m := msg("alice", "alice@demo.example", x.subject, x.id, x.rcpt)
			m.EnvID = "env-" + x.id
			if err := add(m); err != nil {
				return err
			}
		}
		report := msg("postmaster", "dmarc-reports@demo.example", "Report Domain: demo.example", "dmarc-report", rcptReports)
		report.IsDMARCReport = true
		return add(report)
	})
}

// loop delivers due messages, DSNs and webhooks, moving the simulated clock
// to the next due time until nothing is left.
func (d *demo) loop(ctx context.Context) error {
	for {
		var batches []queue.Batch
		err := d.db.Write(ctx, func(tx *bstore.Tx) (err error) {
			batches, err = d.handler.Due(tx, d.clock.Now(), 100)
			return err
		})
		if err != nil {
			return err
		}
		for _, b := range batches {
			if err := d.deliver(ctx, b); err != nil {
				return err
			}
		}
		_, nextDSN, err := d.handler.DeliverOutbox(ctx)
		if err != nil {
			return err
		}
		if err := d.flushHooks(ctx); err != nil {
			return err
		}
		if len(batches) > 0 {
			continue
		}
		next, err := d.nextDue(ctx, nextDSN)
		if err != nil {
			return err
		}
		if next.IsZero() {
			return nil
		}
		d.clock.Set(next)
	}
}

// nextDue returns the earliest time at which a message, DSN or webhook is
// due, or zero when nothing is pending.
func (d *demo) nextDue(ctx context.Context, next time.Time) (time.Time, error) {
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	err := d.db.Read(ctx, func(tx *bstore.Tx) error {
		t, ok, err := queue.NextDue(tx)
		if err != nil {
			return err
		}
		if ok {
			earliest(t)
		}
		h, err := bstore.QueryTx[hookqueue.Hook](tx).SortAsc("NextAttempt").Limit(1).Get()
		if err == nil {
			earliest(h.NextAttempt)
		} else if err != bstore.ErrAbsent {
			return err
		}
		return nil
	})
	return next, err
}

// flushHooks waits until the webhook worker has attempted every hook due
// now. Each attempt reports through OnResult.
func (d *demo) flushHooks(ctx context.Context) error {
	for {
		var n int
		err := d.db.Read(ctx, func(tx *bstore.Tx) (err error) {
			n, err = bstore.QueryTx[hookqueue.Hook](tx).FilterLessEqual("NextAttempt", d.clock.Now()).Count()
			return err
		})
		if err != nil || n == 0 {
			return err
		}
		d.hooks.Kick()
		select {
		case <-d.results:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Second): // Real time: a safety net, never reached when things work.
			return errors.New("webhook worker did not deliver due hooks")
		}
	}
}

// deliver hands a batch to the reference delivery client, which makes the
// SMTP transaction (MX lookup through the demo's scripted resolver, one
// MAIL FROM per submission, a reply per RCPT TO, DATA for the accepted
// ones), and applies its per-message results with one Handler call: the
// failed recipients of one submission share one DSN.
func (d *demo) deliver(ctx context.Context, b queue.Batch) error {
	results, err := d.client.Deliver(ctx, b.Msgs)
	if err != nil {
		return err
	}
	return d.db.Write(ctx, func(tx *bstore.Tx) error {
		outs, err := d.handler.Attempted(tx, results)
		if err != nil {
			return err
		}
		for i, o := range outs {
			m := results[i].Msg
			if o.Result == queue.ResultDelivered {
				fmt.Fprintf(d.progress, "  %-9s %-24s delivered\n", since(m.Attempt.Start), m.RecipientAddress)
				continue
			}
			line := fmt.Sprintf("  %-9s %-24s %s %s", since(m.Attempt.Start), m.RecipientAddress, o.Result, o.Failure.Reason)
			if o.Result == queue.ResultRetry {
				line += ", next " + since(o.NextAttempt)
			}
			if o.DSN != "" {
				line += ", " + string(o.DSN) + " DSN"
			}
			if o.Suppressing {
				line += ", suppressed"
			}
			fmt.Fprintln(d.progress, line)
		}
		return nil
	})
}

// since formats a simulated time as the offset from the start.
func since(t time.Time) string {
	s := t.Sub(start).Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return "+" + s
}

// asyncBounce plays the remote MTA that accepted later@ and then found it
// cannot deliver: it sends a DSN to the message's MAIL FROM, which the
// host hands to ProcessIncoming.
func (d *demo) asyncBounce(ctx context.Context) error {
	d.clock.Set(d.clock.Now().Add(10 * time.Minute))
	var m queue.MsgRetired
	err := d.db.Read(ctx, func(tx *bstore.Tx) (err error) {
		m, err = bstore.QueryTx[queue.MsgRetired](tx).FilterNonzero(queue.MsgRetired{RecipientAddress: rcptLater}).Get()
		return err
	})
	if err != nil {
		return fmt.Errorf("finding the message to %s: %w", rcptLater, err)
	}
	rcptTo := queue.Msg{SenderAddress: m.SenderAddress, FromID: m.FromID}.MailFrom(separator)
	report := &dsn.Message{
		From:         "MAILER-DAEMON@remote.example",
		To:           rcptTo,
		Subject:      "Undelivered Mail Returned to Sender",
		MessageID:    "bounce-1@mx.remote.example",
		Date:         d.clock.Now(),
		TextBody:     "Your message could not be delivered to the mailbox after it was accepted.\n",
		ReportingMTA: "mx.remote.example",
		Recipients: []dsn.Recipient{{
			FinalRecipient: rcptLater,
			Action:         dsn.ActionFailed,
			Status:         "5.1.1",
			DiagnosticType: "smtp",
			DiagnosticCode: "550 5.1.1 <later@remote.example>: mailbox does not exist",
		}},
		Original: []byte(messageText(queue.Msg{SenderAddress: m.SenderAddress, RecipientAddress: m.RecipientAddress, Subject: m.Subject, MessageID: m.MessageID})),
		Ret:      dsn.RetHeaders,
	}
	var buf bytes.Buffer
	if err := report.Compose(&buf); err != nil {
		return err
	}
	fmt.Fprintf(d.progress, "  %-9s incoming DSN to %s\n", since(d.clock.Now()), rcptTo)
	return d.db.Write(ctx, func(tx *bstore.Tx) (err error) {
		d.incoming, err = d.handler.ProcessIncoming(tx, "alice", rcptTo, buf.Bytes())
		for _, o := range d.incoming.Recipients {
			fmt.Fprintf(d.progress, "  %-9s %-24s %s via %s, %s\n", since(d.clock.Now()), o.Recipient, o.Event, o.Match, o.Failure.Reason)
		}
		return err
	})
}

// sendAgain queues a new message to a recipient that hard-bounced: the
// suppression list stops it at Add, without a delivery attempt.
func (d *demo) sendAgain(ctx context.Context) error {
	return d.db.Write(ctx, func(tx *bstore.Tx) error {
		outs, err := d.handler.Add(tx, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@demo.example", RecipientAddress: rcptUnknown, Subject: "Second try", MessageID: "again@demo.example"})
		if err == nil {
			fmt.Fprintf(d.progress, "  %-9s %-24s %s at Add\n", since(d.clock.Now()), rcptUnknown, outs[0].Result)
		}
		return err
	})
}

// tempDir makes the demo's working directory when -dir is not given.
func tempDir() (string, error) {
	return os.MkdirTemp("", "bouncekit-demo-")
}
