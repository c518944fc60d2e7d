package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/internal/inject"
	"github.com/bouncekit/bouncekit/queue"
)

// Client delivers batches of queue messages over SMTP. Its fields are its
// configuration; set them before the first Deliver and do not change them
// after. A Client may be used by several goroutines at once: each Deliver
// makes its own connections.
type Client struct {
	// Hostname is this host's name, sent in EHLO (RFC 5321 section 4.1.1.1).
	// Required.
	Hostname string

	// Opener opens a message's data. Required.
	Opener Opener

	// Resolver looks up MX and address records; one that implements
	// SecureResolver can make a route secure for REQUIRETLS. Nil:
	// net.DefaultResolver (no DNSSEC).
	Resolver Resolver

	// SecureRoute, when set, says whether the MX hosts of a recipient
	// domain are covered by a policy that makes them a secure route for
	// REQUIRETLS (RFC 8689 section 4.2.1), such as an MTA-STS policy in
	// enforce mode (RFC 8461) that lists them. It is asked only for a
	// domain with a REQUIRETLS message whose MX lookup was not
	// authenticated by DNSSEC (see SecureResolver); an error fails those
	// messages temporarily. Nil: only DNSSEC makes a route secure, and a
	// REQUIRETLS message to a domain without it fails permanently with
	// 5.7.30 without a connection.
	SecureRoute func(ctx context.Context, domain string) (bool, error)

	// Dialer makes TCP connections. Nil: a net.Dialer. Tests and hosts
	// that connect through a proxy set their own.
	Dialer Dialer

	// Port is the port dialed on MX hosts. Zero: 25.
	Port int

	// Smarthost, when set, sends every message to that one host instead of
	// looking up MX records.
	Smarthost *Smarthost

	// TLSConfig is the base of the TLS configuration for STARTTLS: its
	// RootCAs verify server certificates (nil: the system roots), its
	// client certificates and versions are used. ServerName is set to the
	// host dialed. Nil: the defaults.
	TLSConfig *tls.Config

	// Separator is the catchall separator between localpart and FromID in
	// MAIL FROM (queue.Msg.MailFrom); it must equal the Handler's
	// CatchallSeparator. Empty: MAIL FROM is the SenderAddress as is.
	Separator string

	// SubmissionMailFrom sends all recipients of one submission (BaseID)
	// in one transaction with the first message's MAIL FROM
	// (queue.Batch.MailFrom), even when their FromIDs differ. False: one
	// transaction per distinct MAIL FROM.
	SubmissionMailFrom bool

	// NoPipelining sends one command at a time even to servers that offer
	// PIPELINING (RFC 2920), for servers known to get it wrong. False: a
	// transaction's MAIL, RCPT and DATA commands go as one group.
	NoPipelining bool

	// Timeouts limit each step. Zero fields: RFC 5321 section 4.5.3.2.
	Timeouts Timeouts

	// Logger receives a debug record per transaction and per connection
	// failure. Nil: discard.
	Logger *slog.Logger

	// Metrics counts results and connections. Nil: nothing is counted.
	Metrics *Metrics

	// Now is the clock for Attempt.Start and Duration, and for certificate
	// verification. Nil: time.Now.
	Now func() time.Time
}

// Opener opens the data of a queued message: the complete message with
// CRLF line ends, as stored by the host. Deliver calls it once per
// transaction, for the transaction's first message (all messages of a
// transaction share a BaseID, so the same data).
type Opener interface {
	OpenMessage(ctx context.Context, m queue.Msg) (io.ReadCloser, error)
}

// OpenerFunc adapts a function to Opener.
type OpenerFunc func(ctx context.Context, m queue.Msg) (io.ReadCloser, error)

// OpenMessage calls f.
func (f OpenerFunc) OpenMessage(ctx context.Context, m queue.Msg) (io.ReadCloser, error) {
	return f(ctx, m)
}

// Dialer opens network connections; *net.Dialer implements it. Deliver
// calls it with network "tcp" and an "ip:port" address (in smarthost mode
// "host:port").
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// DialerFunc adapts a function to Dialer.
type DialerFunc func(ctx context.Context, network, address string) (net.Conn, error)

// DialContext calls f.
func (f DialerFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

var (
	_ Dialer   = (*net.Dialer)(nil)
	_ Resolver = (*net.Resolver)(nil)
)

// Timeouts bound each step of an attempt. A zero field is the default
// given, from RFC 5321 section 4.5.3.2 where it names one.
type Timeouts struct {
	Dial    time.Duration // Opening the TCP connection and the TLS handshake; default 30s.
	Command time.Duration // Greeting and each command's reply (section 4.5.3.2.1 to .5); default 5m.
	Data    time.Duration // Writing each block of message data (section 4.5.3.2.5); default 3m.
	DataEnd time.Duration // The reply to the final "." (section 4.5.3.2.6); default 10m.
}

// withDefaults returns t with zero fields set to their defaults.
func (t Timeouts) withDefaults() Timeouts {
	if t.Dial <= 0 {
		t.Dial = 30 * time.Second
	}
	if t.Command <= 0 {
		t.Command = 5 * time.Minute
	}
	if t.Data <= 0 {
		t.Data = 3 * time.Minute
	}
	if t.DataEnd <= 0 {
		t.DataEnd = 10 * time.Minute
	}
	return t
}

// Validate returns an error if the Client cannot deliver: a required field
// is missing or the smarthost is incomplete.
func (c *Client) Validate() error {
	if c.Hostname == "" {
		return ErrNoHostname
	}
	if c.Opener == nil {
		return ErrNoOpener
	}
	if c.Smarthost != nil {
		if err := c.Smarthost.validate(); err != nil {
			return err
		}
	}
	return nil
}

// Deliver attempts delivery of msgs and returns one result per message, in
// the order of msgs, for the Handler to apply. Messages may be to several
// domains and from several submissions; see the package doc for how they
// are split into transactions. Each result's Msg has Attempt (Start,
// Duration, RemoteMTA, RemoteIP of the host that answered) and DialedIPs
// set.
//
// Domains are delivered one after the other; a host that wants more in
// parallel calls Deliver from several goroutines, a batch each.
//
// The error is for bad input only (see Validate), and then nothing was
// attempted. A canceled ctx stops the attempt: transactions not begun are
// AttemptNotTried, a transaction under way fails with the context's error.
func (c *Client) Deliver(ctx context.Context, msgs []queue.Msg) ([]queue.AttemptResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	start := inject.Now(c.Now)
	results := make([]queue.AttemptResult, len(msgs))
	for i, m := range msgs {
		results[i] = queue.AttemptResult{Msg: m, Status: queue.AttemptNotTried}
	}
	for _, d := range splitDomains(msgs) {
		if ctx.Err() != nil {
			break
		}
		c.deliverDomain(ctx, d, results)
	}
	end := inject.Now(c.Now)
	for i := range results {
		if results[i].Status == queue.AttemptNotTried {
			continue
		}
		results[i].Msg.Attempt.Start = start
		results[i].Msg.Attempt.Duration = end.Sub(start)
	}
	c.Metrics.countResults(results)
	c.logFailures(ctx, results)
	return results, nil
}

// logFailures logs each failed message at debug level.
func (c *Client) logFailures(ctx context.Context, results []queue.AttemptResult) {
	log := inject.Logger(c.Logger)
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	for _, r := range results {
		if r.Status != queue.AttemptFailed {
			continue
		}
		attrs := []any{slog.Int64("msgid", r.Msg.ID), slog.String("recipient", r.Msg.RecipientAddress), slog.String("remote", r.Msg.Attempt.RemoteMTA)}
		var se *bounce.SMTPError
		if errors.As(r.Err, &se) {
			attrs = append(attrs, slog.String("stage", string(se.Stage)), slog.Int("code", se.Code), slog.String("enhanced", se.EnhancedCode.String()))
		}
		log.Debug("delivery: failed", append(attrs, slog.Any("err", r.Err))...)
	}
}

// deliverDomain delivers the transactions of one recipient domain, over
// one connection while the server keeps it open. Transactions with
// REQUIRETLS go after the others, only over a secure route (see
// deliverRequireTLS).
func (c *Client) deliverDomain(ctx context.Context, d domainBatch, results []queue.AttemptResult) {
	log := inject.Logger(c.Logger)
	hosts, authenticated, err := c.route(ctx, d.domain)
	if err != nil {
		for _, i := range d.idx {
			fail(&results[i], err)
		}
		log.Debug("delivery: no route", slog.String("domain", d.domain), slog.Any("err", err))
		return
	}
	var plain, secure []txn
	for _, t := range splitTransactions(results, d.idx, c.Separator, c.SubmissionMailFrom) {
		if t.requireTLS && c.Smarthost == nil {
			secure = append(secure, t)
		} else {
			// A smarthost is not found by MX: its REQUIRETLS rule is
			// verified TLS and the extension offered (prepare).
			plain = append(plain, t)
		}
	}
	sess := c.deliverTxns(ctx, hosts, plain, results, nil, remote{})
	if len(secure) > 0 && ctx.Err() == nil {
		sess = c.deliverRequireTLS(ctx, d.domain, hosts, authenticated, secure, results, sess)
	}
	if sess != nil {
		sess.quit()
	}
}

// deliverRequireTLS delivers the REQUIRETLS transactions of a domain per
// RFC 8689 section 4.2.1: the MX hosts must come from an authenticated
// lookup or a policy (SecureRoute), and the host must give verified TLS
// and offer REQUIRETLS. sess, the connection left by the other
// transactions, is used when it qualifies and closed otherwise. It
// returns the connection still open, if any.
func (c *Client) deliverRequireTLS(ctx context.Context, domain string, hosts []host, authenticated bool, txns []txn, results []queue.AttemptResult, sess *session) *session {
	secure := authenticated
	var routeErr error
	if !secure && c.SecureRoute != nil {
		secure, routeErr = c.SecureRoute(ctx, domain)
	}
	if !secure {
		e := localError(bounce.StageDNS, enhRequireTLS, textInsecureRoute)
		if routeErr != nil {
			// The policy could not be checked: perhaps next time.
			e = &bounce.SMTPError{EnhancedCode: bounce.EnhancedCode{4, 7, 30}, Stage: bounce.StageDNS, Line: textRouteUnknown, Err: fmt.Errorf("delivery: checking secure route for %s: %w", domain, routeErr)}
		}
		for _, t := range txns {
			failAll(results, t.idx, e)
		}
		inject.Logger(c.Logger).Debug("delivery: no secure route for requiretls", slog.String("domain", domain), slog.Any("err", routeErr))
		return sess
	}
	var lacks remote
	if sess != nil && !sess.offersRequireTLS() {
		if sess.lacksRequireTLS() {
			// Not asked again on a new connection.
			lacks = remote{sess.host, sess.ip}
		}
		sess.quit()
		sess = nil
	}
	return c.deliverTxns(ctx, hosts, txns, results, sess, lacks)
}

// deliverTxns runs txns over sess, or a connection to the first host
// that takes it (for REQUIRETLS transactions: that qualifies, lacks
// being a host known not to), and connects again when the server closes
// it. All txns have the same requireTLS. It returns the connection still
// open, if any.
func (c *Client) deliverTxns(ctx context.Context, hosts []host, txns []txn, results []queue.AttemptResult, sess *session, lacks remote) *session {
	for k, t := range txns {
		if ctx.Err() != nil {
			return sess
		}
		if sess == nil {
			// The messages this connection may carry: those of this and
			// the later transactions.
			var todo []int
			for _, t := range txns[k:] {
				todo = append(todo, t.idx...)
			}
			var err error
			var last remote
			sess, last, err = c.connect(ctx, hosts, results, todo, t.requireTLS && c.Smarthost == nil, lacks)
			if err != nil {
				// The route failed for this transaction; the later ones
				// would fail the same way.
				for _, i := range todo {
					fail(&results[i], err)
					if last.host != "" {
						results[i].Msg.Attempt.RemoteMTA = last.host
						results[i].Msg.Attempt.RemoteIP = last.ip
					}
				}
				return nil
			}
		}
		for _, i := range t.idx {
			results[i].Msg.Attempt.RemoteMTA = sess.host
			results[i].Msg.Attempt.RemoteIP = sess.ip
		}
		if !sess.transaction(t, results) {
			sess.close()
			sess = nil
		}
	}
	return sess
}

// fail sets r to failed with err.
func fail(r *queue.AttemptResult, err error) {
	r.Status = queue.AttemptFailed
	r.Err = err
}

// port returns the port to dial on MX hosts, as a string.
func (c *Client) port() string {
	if c.Port == 0 {
		return "25"
	}
	return fmt.Sprint(c.Port)
}
