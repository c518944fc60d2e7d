package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/delivery"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
)

// Defaults of Config.
const (
	DefaultAccount  = "sandbox"
	DefaultHostname = "sandbox.localhost"
	dueLimit        = 100                 // Messages per Due call.
	errorRetry      = time.Minute         // Wait on the clock after a failed round of the delivery loop.
	keepHistory     = 30 * 24 * time.Hour // Retired messages and webhooks, for matching late reports and for looking.
)

// ErrNoDir is returned by New without Config.Dir.
var ErrNoDir = errors.New("sandbox: no directory")

// Config configures a Sandbox. Every field but Dir may be zero.
type Config struct {
	// Dir holds the database (bouncekit.db) and the DSNs sent to senders
	// (dsn/). Required; it is created if needed.
	Dir string

	// SubmissionAddr is the address of the submission listener (SMTP, no
	// authentication). Empty: "127.0.0.1:0", a free port.
	SubmissionAddr string

	// HTTPAddr, when set, serves Sandbox.Mux on this address: the
	// conventions at "/", and whatever the host mounts (the HTTP API).
	// Empty: no HTTP listener.
	HTTPAddr string

	// WebhookURL receives the webhooks of every event. Loopback addresses
	// are allowed, in the sandbox only (other private networks stay
	// refused, as by hookqueue's guard). Empty: no webhooks are sent.
	WebhookURL string

	// WebhookSecret signs webhooks (Standard Webhooks, "whsec_" and
	// base64). Empty: unsigned.
	WebhookSecret string

	// Account is the account every submission belongs to. Empty:
	// DefaultAccount.
	Account string

	// Hostname is the sandbox MTA's name (EHLO, DSNs). Empty:
	// DefaultHostname.
	Hostname string

	// Clock is the sandbox's time. Nil: real time (NewScaledClock with
	// speed 1).
	Clock Clock

	// RetryPolicy is the queue's. Zero: queue.DefaultPolicy.
	RetryPolicy queue.RetryPolicy

	// Timeouts are the delivery client's, on Clock. Zero fields: the
	// client's defaults (RFC 5321 section 4.5.3.2).
	Timeouts delivery.Timeouts

	// LaterDelay and MaxStall are the Simulator's (on Clock). Zero:
	// DefaultLaterDelay and DefaultMaxStall.
	LaterDelay time.Duration
	MaxStall   time.Duration

	// OnEvent receives each Event, from several goroutines at once. Nil:
	// none.
	OnEvent func(Event)

	// Logger receives the library's logs. Nil: discard.
	Logger *slog.Logger
}

// Sandbox is the whole stack for an application developer: a submission
// listener, the queue's Handler with the reference delivery client pointed
// at the Simulator, the webhook queue posting to the developer's URL, and
// a clock that can run fast. Make it with New, run it with Run, then
// Close it.
type Sandbox struct {
	// The parts New wired, for the host to read and to build on (the HTTP
	// API needs the database, the Handler, the suppression store and the
	// webhook queue). They must not be replaced after New.
	DB           *bstore.DB         // Dir/bouncekit.db, with DBTypes.
	Handler      *queue.Handler     // The queue's lifecycle, on the clock.
	Hooks        *hookqueue.Queue   // Webhooks to Config.WebhookURL.
	Suppressions *suppression.Store // The account's suppression list.
	Client       *delivery.Client   // Delivers to the Simulator.
	Simulator    *Simulator         // The simulated remote server.

	// Mux is served on Config.HTTPAddr. The host may mount more handlers
	// on it (the HTTP API's methods that send nothing) at any time.
	Mux *http.ServeMux

	cfg      Config
	clock    Clock
	account  string
	hostname string
	dialer   *clockDialer
	sub      *submission
	subAddr  net.Addr
	httpSrv  *http.Server
	httpAddr net.Addr
	httpDone chan struct{} // Closed when the HTTP server's Serve returned.
	kick     chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// New opens the database in cfg.Dir and starts the listeners (submission,
// simulator, HTTP). Nothing is delivered until Run.
func New(cfg Config) (_ *Sandbox, rerr error) {
	if cfg.Dir == "" {
		return nil, ErrNoDir
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "dsn"), 0o700); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	sb := &Sandbox{cfg: cfg, clock: cfg.Clock, account: cfg.Account, hostname: cfg.Hostname, kick: make(chan struct{}, 1), Mux: http.NewServeMux()}
	if sb.clock == nil {
		sb.clock = NewScaledClock(time.Time{}, 1)
	}
	if sb.account == "" {
		sb.account = DefaultAccount
	}
	if sb.hostname == "" {
		sb.hostname = DefaultHostname
	}
	db, err := bstore.Open(context.Background(), filepath.Join(cfg.Dir, "bouncekit.db"), &bstore.Options{Timeout: 5 * time.Second, Perm: 0o600}, DBTypes()...)
	if err != nil {
		return nil, fmt.Errorf("sandbox: opening database: %w", err)
	}
	sb.DB = db
	defer func() {
		if rerr != nil {
			sb.Close()
		}
	}()
	if err := sb.setup(); err != nil {
		return nil, err
	}
	if err := sb.listen(); err != nil {
		return nil, err
	}
	return sb, nil
}

// setup makes the library's parts.
func (sb *Sandbox) setup() error {
	cfg := sb.cfg
	sb.Suppressions = &suppression.Store{DB: sb.DB, Now: sb.clock.Now}
	// A directory kept from an earlier version: finish the list's
	// migration now rather than a step per cleanup.
	if _, err := sb.Suppressions.Upgrade(context.Background()); err != nil {
		return fmt.Errorf("sandbox: upgrading the suppression list: %w", err)
	}
	sb.Hooks = &hookqueue.Queue{
		DB: sb.DB,
		// The developer's application runs on this machine: loopback is
		// allowed here, and only here.
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		// One request at a time: the application sees events in order.
		Concurrency:    1,
		MaxConcurrency: 1,
		Now:            sb.clock.Now,
		After:          sb.clock.After,
		Logger:         cfg.Logger,
		OnResult:       sb.hookResult,
	}
	settings := queue.AccountSettings{WebhookURL: cfg.WebhookURL, KeepRetired: keepHistory, KeepHooks: keepHistory}
	if cfg.WebhookSecret != "" {
		settings.WebhookSecrets = []string{cfg.WebhookSecret}
	}
	if err := settings.Validate(); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	sb.Handler = &queue.Handler{
		DB:                sb.DB,
		RetryPolicy:       cfg.RetryPolicy,
		DSNDeliverer:      queue.DSNDelivererFunc(sb.deliverDSN),
		Suppressions:      sb.Suppressions,
		Hooks:             sb.Hooks,
		Accounts:          queue.AccountsFunc(func(string) (queue.AccountSettings, bool) { return settings, true }),
		MessageOpener:     queue.MessageOpenerFunc(openStored),
		Hostname:          sb.hostname,
		GenerateFromIDs:   true,
		CatchallSeparator: "+",
		Logger:            cfg.Logger,
		Now:               sb.clock.Now,
		After:             sb.clock.After,
	}
	sb.dialer = newClockDialer(sb.clock)
	sb.Simulator = &Simulator{
		Clock:      sb.clock,
		Separator:  "+",
		MaxStall:   cfg.MaxStall,
		LaterDelay: cfg.LaterDelay,
		Incoming:   sb.incoming,
		Stalling:   sb.stalling,
		Logger:     cfg.Logger,
	}
	sb.Client = &delivery.Client{
		Hostname: sb.hostname,
		Opener:   delivery.OpenerFunc(sb.openMessage),
		Dialer:   sb.dialer,
		// One transaction per submission, as a DSN that comes back to its
		// MAIL FROM names the submission.
		SubmissionMailFrom: true,
		Separator:          "+",
		Timeouts:           cfg.Timeouts,
		Logger:             cfg.Logger,
		Now:                sb.clock.Now,
	}
	return nil
}

// listen starts the simulator, the submission listener and the HTTP
// listener.
func (sb *Sandbox) listen() error {
	if err := sb.Simulator.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	ap, err := netip.ParseAddrPort(sb.Simulator.Addr().String())
	if err != nil {
		return fmt.Errorf("sandbox: simulator address: %w", err)
	}
	sb.Client.Resolver = loopbackResolver{mx: sb.Simulator.hostname(), ip: ap.Addr()}
	sb.Client.Port = int(ap.Port())

	addr := sb.cfg.SubmissionAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: submission listener: %w", err)
	}
	sb.subAddr = l.Addr()
	sb.sub = &submission{sb: sb, l: l}
	srv := smtp.NewServer(sb.sub)
	srv.Domain = sb.hostname
	srv.MaxMessageBytes = maxSubmission
	srv.MaxRecipients = maxRecipients
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	srv.ErrorLog = discardLogger{}
	sb.sub.srv = srv
	sb.sub.wg.Add(1)
	go func() {
		defer sb.sub.wg.Done()
		srv.Serve(l)
	}()

	if sb.cfg.HTTPAddr != "" {
		hl, err := net.Listen("tcp", sb.cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("sandbox: http listener: %w", err)
		}
		sb.httpAddr = hl.Addr()
		sb.Mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, Conventions)
		})
		sb.httpSrv = &http.Server{Handler: sb.Mux, ReadHeaderTimeout: 10 * time.Second}
		sb.httpDone = make(chan struct{})
		go func() {
			defer close(sb.httpDone)
			sb.httpSrv.Serve(hl)
		}()
	}
	return nil
}

// SubmissionAddr returns the address of the submission listener.
func (sb *Sandbox) SubmissionAddr() net.Addr { return sb.subAddr }

// HTTPAddr returns the address of the HTTP listener, nil without one.
func (sb *Sandbox) HTTPAddr() net.Addr { return sb.httpAddr }

// Account returns the account submissions belong to.
func (sb *Sandbox) Account() string { return sb.account }

// Now returns the time on the sandbox's clock.
func (sb *Sandbox) Now() time.Time { return sb.clock.Now() }

// Kick wakes the delivery loop, the Handler's background work and the
// webhook queue, e.g. after a test moved a manual clock. It never blocks.
func (sb *Sandbox) Kick() {
	select {
	case sb.kick <- struct{}{}:
	default:
	}
	sb.Handler.Kick()
}

// Run delivers until ctx is done: the delivery loop, the Handler's
// background work (DSNs to senders) and the webhook queue. It returns nil
// when ctx is canceled.
func (sb *Sandbox) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 3)
	go func() { errc <- sb.Handler.Run(ctx) }()
	go func() { errc <- sb.Hooks.Run(ctx) }()
	go func() { errc <- sb.loop(ctx) }()
	var err error
	for range 3 {
		if e := <-errc; e != nil && !errors.Is(e, context.Canceled) && err == nil {
			err = e
			cancel()
		}
	}
	return err
}

// Close stops the listeners and the simulator and closes the database.
// Call it after Run returned.
func (sb *Sandbox) Close() error {
	sb.closeOnce.Do(func() {
		var errs []error
		if sb.sub != nil {
			errs = append(errs, sb.sub.close())
		}
		if sb.Simulator != nil {
			errs = append(errs, sb.Simulator.Close())
		}
		if sb.httpSrv != nil {
			errs = append(errs, sb.httpSrv.Close())
			<-sb.httpDone
		}
		errs = append(errs, sb.DB.Close())
		sb.closeErr = errors.Join(errs...)
	})
	return sb.closeErr
}

// loop is the delivery loop: due submissions go to the delivery client,
// up to maxParallel at once, and its results to Handler.Attempted, one
// transaction per submission; then it waits on the clock for the next due
// message, a finished delivery, or a Kick. A submission is not started
// again while an attempt for it is under way, so one that stalls does not
// hold up the others.
func (sb *Sandbox) loop(ctx context.Context) error {
	inflight := map[int64]bool{} // Message IDs with an attempt under way.
	active := 0                  // Deliveries under way.
	finished := make(chan []int64)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		var batches []queue.Batch
		err := sb.DB.Write(ctx, func(tx *bstore.Tx) (err error) {
			batches, err = sb.Handler.Due(tx, sb.clock.Now(), dueLimit+len(inflight))
			return err
		})
		for _, b := range batches {
			if active >= maxParallel {
				break
			}
			if busy(inflight, b) {
				continue
			}
			ids := make([]int64, len(b.Msgs))
			for i, m := range b.Msgs {
				ids[i] = m.ID
				inflight[m.ID] = true
			}
			active++
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := sb.deliver(ctx, b); err != nil && ctx.Err() == nil {
					sb.event(Event{Kind: EventError, Text: "delivery: " + err.Error()})
				}
				select {
				case finished <- ids:
				case <-ctx.Done():
				}
			}()
		}
		var wait <-chan time.Time
		if err == nil {
			var next time.Time
			var ok bool
			err = sb.DB.Read(ctx, func(tx *bstore.Tx) (err error) {
				next, ok, err = nextDue(tx, inflight)
				return err
			})
			if ok {
				wait = sb.clock.After(max(next.Sub(sb.clock.Now()), 0))
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			sb.event(Event{Kind: EventError, Text: "delivery loop: " + err.Error()})
			wait = sb.clock.After(errorRetry)
		}
		select {
		case <-ctx.Done():
			return nil
		case ids := <-finished:
			active--
			for _, id := range ids {
				delete(inflight, id)
			}
		case <-sb.kick:
		case <-wait:
		}
	}
}

// maxParallel is how many submissions the delivery loop attempts at once.
const maxParallel = 8

// Field names of queue.Msg for bstore queries.
const (
	fieldHold        = "Hold"
	fieldNextAttempt = "NextAttempt"
)

// busy reports whether a message of b has an attempt under way.
func busy(inflight map[int64]bool, b queue.Batch) bool {
	for _, m := range b.Msgs {
		if inflight[m.ID] {
			return true
		}
	}
	return false
}

// nextDue returns when the first message that is not in flight is due.
func nextDue(tx *bstore.Tx, inflight map[int64]bool) (time.Time, bool, error) {
	q := bstore.QueryTx[queue.Msg](tx)
	q.FilterEqual(fieldHold, false)
	q.SortAsc(fieldNextAttempt)
	var next time.Time
	err := q.ForEach(func(m queue.Msg) error {
		if inflight[m.ID] {
			return nil
		}
		next = m.NextAttempt
		return bstore.StopForEach
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sandbox: finding the next due message: %w", err)
	}
	return next, !next.IsZero(), nil
}

// deliver makes one attempt for a batch and records its results.
func (sb *Sandbox) deliver(ctx context.Context, b queue.Batch) error {
	results, err := sb.Client.Deliver(ctx, b.Msgs)
	if err != nil {
		return err
	}
	var outs []queue.Outcome
	err = sb.DB.Write(ctx, func(tx *bstore.Tx) (err error) {
		outs, err = sb.Handler.Attempted(tx, results)
		return err
	})
	if err != nil {
		return err
	}
	sb.Handler.Kick()
	for i, o := range outs {
		sb.event(Event{Kind: EventAttempt, Recipient: o.Recipient, Text: attemptText(o, results[i].Msg.Attempt.Duration)})
	}
	return nil
}

// attemptText describes an attempt's outcome.
func attemptText(o queue.Outcome, took time.Duration) string {
	var b strings.Builder
	b.WriteString(string(o.Result))
	if f := o.Failure; o.Result != queue.ResultDelivered {
		var words []string
		if f.Code != 0 {
			words = append(words, strconv.Itoa(f.Code))
		}
		if !f.EnhancedCode.IsZero() {
			words = append(words, f.EnhancedCode.String())
		}
		if f.Reason != "" {
			words = append(words, string(f.Reason))
		}
		if len(words) > 0 {
			b.WriteString(": " + strings.Join(words, " "))
		}
	}
	if took >= time.Second {
		fmt.Fprintf(&b, " after %v", took.Round(time.Second))
	}
	if o.Result == queue.ResultRetry {
		b.WriteString(", next attempt " + o.NextAttempt.UTC().Format("2006-01-02 15:04:05"))
	}
	if o.GiveUp != "" {
		b.WriteString(", given up: " + string(o.GiveUp))
	}
	if o.DSN != "" {
		b.WriteString(", " + string(o.DSN) + " DSN to the sender")
	}
	if o.Suppressing {
		b.WriteString(", recipient suppressed")
	}
	if o.Hook != "" {
		b.WriteString(", webhook " + string(o.Hook))
	}
	return b.String()
}

// incoming hands a later report of the simulator to ProcessIncoming, in a
// transaction of its own, as a host does with mail for its bounce address.
func (sb *Sandbox) incoming(ctx context.Context, rcptTo string, msg []byte) error {
	sb.event(Event{Kind: EventReport, Recipient: rcptTo, Text: fmt.Sprintf("the simulator sends a report (%d bytes)", len(msg))})
	var res queue.IncomingResult
	err := sb.DB.Write(ctx, func(tx *bstore.Tx) (err error) {
		res, err = sb.Handler.ProcessIncoming(tx, sb.account, rcptTo, msg)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			sb.event(Event{Kind: EventError, Recipient: rcptTo, Text: "processing the report: " + err.Error()})
		}
		return err
	}
	sb.Handler.Kick()
	if len(res.Recipients) == 0 {
		sb.event(Event{Kind: EventIncoming, Recipient: rcptTo, Text: fmt.Sprintf("%s %s, matched nothing", res.Kind, res.Format)})
	}
	for _, o := range res.Recipients {
		text := fmt.Sprintf("%s %s: %s via %s", res.Kind, res.Format, o.Event, o.Match)
		if o.Failure.Reason != "" {
			text += ", " + string(o.Failure.Reason)
		}
		if o.Suppressing {
			text += ", recipient suppressed"
		}
		if o.Hook != "" {
			text += ", webhook " + string(o.Hook)
		}
		sb.event(Event{Kind: EventIncoming, Recipient: o.Recipient, Text: text})
	}
	return nil
}

// stalling logs a stall once the client has armed its timeout, so the line
// says when it gives up.
func (sb *Sandbox) stalling(ctx context.Context, client net.Addr, address string) {
	text := "no answer from the simulator"
	if c := sb.dialer.lookup(client.String()); c != nil {
		if at := c.readDeadline(ctx); !at.IsZero() {
			text += "; the client gives up at " + at.UTC().Format("2006-01-02 15:04:05")
		}
	}
	sb.event(Event{Kind: EventStall, Recipient: address, Text: text})
}

// deliverDSN saves a DSN to the sender in Dir/dsn: the sandbox has no
// mailboxes.
func (sb *Sandbox) deliverDSN(_ context.Context, d queue.OutboxDSN) error {
	name := strings.Map(func(r rune) rune {
		if r < 128 && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '.') {
			return r
		}
		return '_'
	}, d.MessageID)
	p := filepath.Join(sb.cfg.Dir, "dsn", name+".eml")
	if err := os.WriteFile(p, d.Data, 0o600); err != nil {
		return fmt.Errorf("sandbox: saving dsn: %w", err)
	}
	sb.event(Event{Kind: EventDSN, Recipient: d.To, Text: fmt.Sprintf("%s DSN to the sender, saved as %s", d.Kind, p)})
	return nil
}

// hookResult logs a webhook request.
func (sb *Sandbox) hookResult(h hookqueue.Hook, retired bool) {
	if len(h.Results) == 0 {
		return
	}
	r := h.Results[len(h.Results)-1]
	text := fmt.Sprintf("%s to %s: ", h.Event, r.URL)
	switch {
	case r.Success:
		text += "HTTP " + strconv.FormatInt(r.Code, 10)
	case r.Code != 0:
		text += "HTTP " + strconv.FormatInt(r.Code, 10) + " " + r.Error
	default:
		text += r.Error
	}
	if !r.Success && !retired {
		text += ", retry at " + h.NextAttempt.UTC().Format("2006-01-02 15:04:05")
	} else if !r.Success {
		text += ", given up"
	}
	sb.event(Event{Kind: EventWebhook, Recipient: h.Payload.Recipient, Text: text})
}

// event passes e to Config.OnEvent, with the time set.
func (sb *Sandbox) event(e Event) {
	if sb.cfg.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = sb.clock.Now()
	}
	sb.cfg.OnEvent(e)
}

// loopbackResolver is the sandbox's DNS: every domain has one MX host, the
// simulator. Nothing is looked up on the network.
type loopbackResolver struct {
	mx string
	ip netip.Addr
}

func (r loopbackResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return []*net.MX{{Host: r.mx + ".", Pref: 10}}, nil
}

func (r loopbackResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	if strings.EqualFold(strings.TrimSuffix(host, "."), r.mx) {
		return []net.IPAddr{{IP: r.ip.AsSlice()}}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

var _ delivery.Resolver = loopbackResolver{}
