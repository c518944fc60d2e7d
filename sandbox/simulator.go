package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/internal/inject"
)

// Defaults of the Simulator.
const (
	DefaultSimulatorHostname = "mx.sandbox.localhost"
	DefaultMaxStall          = time.Hour // As mox's localserve.
	DefaultLaterDelay        = 5 * time.Minute
	maxSimulatedMessage      = 30 << 20
)

// Simulator is a remote SMTP server on loopback whose answers are chosen by
// the addresses' localparts (AnswerFor; the table is in the package
// documentation). Set its fields, then call Listen; Close stops it.
type Simulator struct {
	// Hostname is the server's name in its greeting, DSNs and reports.
	// Empty: DefaultSimulatorHostname.
	Hostname string

	// Clock times stalls and later events. Nil: real time.
	Clock Clock

	// Separator is the catchall separator of the sender's MAIL FROM: the
	// sender's localpart is read up to it, so "mailfrom550+<fromid>" is
	// "mailfrom550". Empty: "+".
	Separator string

	// MaxStall bounds a stall on the clock: after it the simulator answers
	// 451 4.3.0, if the client is still there. Zero: DefaultMaxStall.
	MaxStall time.Duration

	// LaterDelay is how long after accepting a message the simulator sends
	// its later report, on the clock. Zero: DefaultLaterDelay.
	LaterDelay time.Duration

	// Incoming receives the later reports (a failed DSN, an ARF complaint,
	// an auto-reply), addressed to the message's MAIL FROM, as an MTA would
	// deliver them to the sender's domain. Nil: none are sent.
	Incoming func(ctx context.Context, rcptTo string, msg []byte) error

	// Stalling, if set, is called when a stall begins, with the client's
	// network address and the mail address whose answer stalls; it may
	// block (the stall waits for it) until ctx is done.
	Stalling func(ctx context.Context, client net.Addr, address string)

	// Logger receives errors of Incoming. Nil: discard.
	Logger *slog.Logger

	srv    *smtp.Server
	l      net.Listener
	addr   net.Addr
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup  // Serve, sessions and later events.
	grey   map[string]bool // Sender and recipient pairs greylisted once.
	seq    int64           // For Message-IDs of later reports.
}

// Listen starts serving on addr, e.g. "127.0.0.1:0".
func (s *Simulator) Listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: simulator: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.l, s.addr = l, l.Addr()
	s.grey = map[string]bool{}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = s.hostname()
	s.srv.MaxMessageBytes = maxSimulatedMessage
	s.srv.EnableSMTPUTF8 = true
	s.srv.EnableDSN = true
	s.srv.ErrorLog = discardLogger{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.srv.Serve(l)
		if err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			inject.Logger(s.Logger).Error("sandbox: simulator stopped", slog.Any("err", err))
		}
	}()
	return nil
}

// Addr returns the address the simulator listens on.
func (s *Simulator) Addr() net.Addr { return s.addr }

// Close stops the server, ends stalls, cancels pending later events and
// waits for its goroutines.
func (s *Simulator) Close() error {
	s.mu.Lock()
	if s.closed || s.srv == nil {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	err := s.srv.Close()
	// The server closes only the listeners Serve has begun with.
	s.l.Close()
	s.wg.Wait()
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *Simulator) hostname() string {
	if s.Hostname == "" {
		return DefaultSimulatorHostname
	}
	return s.Hostname
}

func (s *Simulator) now() time.Time { return inject.Now(s.clockNow()) }

func (s *Simulator) clockNow() func() time.Time {
	if s.Clock == nil {
		return nil
	}
	return s.Clock.Now
}

func (s *Simulator) after(d time.Duration) <-chan time.Time {
	if s.Clock == nil {
		return time.After(d)
	}
	return s.Clock.After(d)
}

// track counts a goroutine for Close to wait for; false once closed.
func (s *Simulator) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// NewSession implements smtp.Backend.
func (s *Simulator) NewSession(c *smtp.Conn) (smtp.Session, error) {
	if !s.track() {
		return nil, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down"}
	}
	return &simSession{s: s, raw: c.Conn()}, nil
}

// greylisted reports whether key is seen for the first time, and records it.
func (s *Simulator) greylisted(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grey[key] {
		return false
	}
	s.grey[key] = true
	return true
}

// simSession is one SMTP connection to the simulator.
type simSession struct {
	s      *Simulator
	raw    net.Conn
	from   string
	envID  string
	rcpts  []simRcpt
	logout sync.Once
}

type simRcpt struct {
	addr   string
	orcpt  string
	answer Answer
}

var _ smtp.Session = (*simSession)(nil)

func (ss *simSession) Reset() {
	ss.from, ss.envID, ss.rcpts = "", "", nil
}

func (ss *simSession) Logout() error {
	ss.logout.Do(ss.s.wg.Done)
	return nil
}

// Mail answers MAIL FROM: the sender's localpart (up to the separator)
// chooses, when it begins with "mailfrom".
func (ss *simSession) Mail(from string, opts *smtp.MailOptions) error {
	ss.Reset()
	a := AnswerFor(ss.senderLocalpart(from))
	if a.Stage == bounce.StageMail {
		if err := ss.apply(a, from, ""); err != nil {
			return err
		}
	}
	ss.from = from
	if opts != nil {
		ss.envID = opts.EnvelopeID
	}
	return nil
}

// senderLocalpart returns the localpart of from up to the separator.
func (ss *simSession) senderLocalpart(from string) string {
	sep := ss.s.Separator
	if sep == "" {
		sep = "+"
	}
	lp, _ := splitAddress(from)
	lp, _, _ = strings.Cut(lp, sep)
	return lp
}

// Rcpt answers RCPT TO for the answers at that stage.
func (ss *simSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	lp, _ := splitAddress(to)
	a := AnswerFor(lp)
	if a.Stage == bounce.StageMail {
		// "mailfrom" counts on the sender only; on a recipient the answer
		// comes at the default stage.
		a.Stage = bounce.StageDataEnd
	}
	if a.Stage == bounce.StageRcpt {
		if err := ss.apply(a, ss.from, to); err != nil {
			return err
		}
	}
	r := simRcpt{addr: to, answer: a}
	if opts != nil && opts.OriginalRecipient != "" {
		r.orcpt = string(opts.OriginalRecipientType) + ";" + opts.OriginalRecipient
	}
	ss.rcpts = append(ss.rcpts, r)
	return nil
}

// Data answers the message: the first recipient with an answer at the end
// of data refuses it for all, as in mox (one reply for the transaction);
// otherwise it is accepted and the later reports are scheduled.
func (ss *simSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, rc := range ss.rcpts {
		if rc.answer.Stage != bounce.StageDataEnd {
			continue
		}
		if err := ss.apply(rc.answer, ss.from, rc.addr); err != nil {
			return err
		}
	}
	arrival := ss.s.now()
	for _, rc := range ss.rcpts {
		if rc.answer.Later == "" || ss.s.Incoming == nil {
			continue
		}
		o := original{mailFrom: ss.from, rcpt: rc.addr, orcpt: rc.orcpt, envID: ss.envID, header: headerOf(data), arrival: arrival}
		ss.s.later(rc.answer, o)
	}
	return nil
}

// apply carries out an answer for sender and recipient: a stall, a
// greylisting refusal once, or a refusal.
func (ss *simSession) apply(a Answer, from, rcpt string) error {
	switch {
	case a.Stall:
		addr := rcpt
		if addr == "" {
			addr = from
		}
		return ss.stall(addr)
	case a.Greylist:
		key := strings.ToLower(ss.senderLocalpart(from) + "@" + domainOf(from) + " " + rcpt)
		if ss.s.greylisted(key) {
			return a.Reply
		}
		return nil
	case a.Reply != nil:
		return a.Reply
	}
	return nil
}

// stall gives no answer until the client closes the connection (it gave
// up), the simulator closes, or MaxStall passes on the clock.
func (ss *simSession) stall(address string) error {
	s := ss.s
	if s.Stalling != nil {
		s.Stalling(s.ctx, ss.raw.RemoteAddr(), address)
	}
	gone := make(chan struct{})
	go func() {
		// The client sends nothing while it waits for our reply: a read
		// returns only when it closes the connection.
		defer close(gone)
		buf := make([]byte, 512)
		for {
			if _, err := ss.raw.Read(buf); err != nil {
				return
			}
		}
	}()
	max := s.MaxStall
	if max <= 0 {
		max = DefaultMaxStall
	}
	select {
	case <-gone:
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "client gave up"}
	case <-s.after(max):
	case <-s.ctx.Done():
	}
	ss.raw.SetReadDeadline(time.Unix(1, 0))
	<-gone
	ss.raw.SetReadDeadline(time.Time{})
	// As mox after its stall: 451 with RFC 3463 4.3.0 (mail system).
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "timing out (sandbox: localpart ends in timeout)"}
}

// later sends the report a answers for o after LaterDelay.
func (s *Simulator) later(a Answer, o original) {
	if !s.track() {
		return
	}
	delay := s.LaterDelay
	if delay <= 0 {
		delay = DefaultLaterDelay
	}
	timer := s.after(delay)
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		select {
		case <-timer:
		case <-s.ctx.Done():
			return
		}
		now := s.now()
		id := fmt.Sprintf("%s-%d-%d@%s", a.Later, now.UnixNano(), seq, s.hostname())
		msg, err := composeLater(a.Later, o, s.hostname(), id, now)
		if err == nil {
			err = s.Incoming(s.ctx, o.mailFrom, msg)
		}
		if err != nil && s.ctx.Err() == nil {
			inject.Logger(s.Logger).Error("sandbox: sending later report", slog.String("kind", string(a.Later)), slog.String("recipient", o.rcpt), slog.Any("err", err))
		}
	}()
}

// headerOf returns the header of a message, up to and with the empty line.
func headerOf(msg []byte) []byte {
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		return msg[:i+4]
	}
	if i := bytes.Index(msg, []byte("\n\n")); i >= 0 {
		return msg[:i+2]
	}
	return msg
}

// splitAddress returns the localpart and domain of addr.
func splitAddress(addr string) (localpart, domain string) {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.Trim(addr[:i], `"`), addr[i+1:]
	}
	return addr, ""
}

func domainOf(addr string) string {
	_, d := splitAddress(addr)
	return d
}

// discardLogger drops go-smtp's server log lines (failed connections).
type discardLogger struct{}

func (discardLogger) Printf(string, ...interface{}) {}
func (discardLogger) Println(...interface{})        {}
