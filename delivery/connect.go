package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/internal/inject"
	"github.com/bouncekit/bouncekit/queue"
)

// session is an open SMTP connection, greeted, after EHLO (and STARTTLS
// when done).
type session struct {
	c        *Client
	ctx      context.Context
	client   *smtp.Client
	conn     *countingConn     // The connection go-smtp reads and writes.
	tr       *textproto.Reader // Replies to pipelined commands, made on first use.
	raw      net.Conn          // The TCP connection, for deadlines.
	stop     func() bool       // Stops closing the connection when ctx is done.
	timeouts Timeouts

	host        string     // The host name dialed.
	ip          netip.Addr // Its address, when known.
	tls         bool       // TLS is on.
	tlsVerified bool       // The certificate is valid for host.
	tlsTried    bool       // STARTTLS was to be used if offered (not the plain-text retry).
}

// countingConn counts the bytes written, so an error from go-smtp can be
// told apart: before anything was written (a refused argument, or the
// greeting) or after (a reply or I/O). It can also hand go-smtp a greeting
// read earlier: after STARTTLS done by this package, a new go-smtp client
// on the TLS connection expects one (see tls.go).
type countingConn struct {
	net.Conn
	pending *strings.Reader // Read first, when not nil.
	written int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	if c.pending != nil {
		if c.pending.Len() > 0 {
			return c.pending.Read(p)
		}
		c.pending = nil
	}
	return c.Conn.Read(p)
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written += int64(n)
	return n, err
}

// remote is a server that answered, for the failure it gave.
type remote struct {
	host string
	ip   netip.Addr
}

// connect opens a session to the first host and address that greets and
// answers EHLO, trying the next one when a connection cannot be made, the
// greeting or EHLO is answered with a 4xx reply, or the connection breaks
// (RFC 5321 section 5.1). A 5xx reply ends the search: it is the answer
// of the domain's mail system. The addresses dialed are added to the
// DialedIPs of the messages idx. The error is the last failure, and
// answered the server that gave it when a connection was made.
//
// With requireTLS (RFC 8689 section 4.2.1) a host qualifies only with
// verified TLS and REQUIRETLS offered after STARTTLS: a failed STARTTLS is
// not tried again in plain text, and a host that answers without
// qualifying is left (QUIT) for the next host. When every host answered
// without qualifying the error is the permanent 5.7.30; when some host
// could not be reached it is that host's temporary failure. lacks, if
// set, is a host already seen without qualifying, not dialed again.
func (c *Client) connect(ctx context.Context, hosts []host, results []queue.AttemptResult, idx []int, requireTLS bool, lacks remote) (_ *session, answered remote, _ error) {
	log := inject.Logger(c.Logger)
	var last error
	var lacking int        // Hosts that answered without qualifying for REQUIRETLS.
	var lackingLast remote // The last of them.
hosts:
	for _, h := range hosts {
		if requireTLS && h.name == lacks.host {
			if lacks.ip.IsValid() {
				recordDialed(results, idx, h.name, lacks.ip)
			}
			lacking++
			lackingLast = lacks
			continue
		}
		var addrs []netip.Addr
		if c.Smarthost != nil {
			addrs = []netip.Addr{{}} // Dialed by name.
		} else {
			var err error
			addrs, err = c.addresses(ctx, h, results[idx[0]].Msg.DialedIPs[h.name])
			if err != nil {
				last, answered = err, remote{}
				log.Debug("delivery: host without address", slog.String("host", h.name), slog.Any("err", err))
				continue
			}
		}
		for _, ip := range addrs {
			if ip.IsValid() {
				recordDialed(results, idx, h.name, ip)
			}
			s, err := c.open(ctx, h, ip, true)
			if err != nil && tlsFailed(err) && !c.smarthostTLS() && !requireTLS {
				// Opportunistic TLS: the same address again in plain text.
				log.Debug("delivery: starttls failed, again without tls", slog.String("host", h.name), slog.Any("err", err))
				c.Metrics.countConnection("tls-failed")
				s, err = c.open(ctx, h, ip, false)
			}
			if err == nil && requireTLS && !s.offersRequireTLS() {
				// The host itself lacks it: its other addresses would too.
				log.Debug("delivery: host does not qualify for requiretls", slog.String("host", h.name),
					slog.Bool("tls", s.tls), slog.Bool("verified", s.tlsVerified))
				c.Metrics.countConnection("no-requiretls")
				s.quit()
				lacking++
				lackingLast = remote{h.name, ip}
				continue hosts
			}
			if err == nil {
				c.Metrics.countConnection("ok")
				return s, remote{}, nil
			}
			c.Metrics.countConnection("failed")
			log.Debug("delivery: connecting", slog.String("host", h.name), slog.String("ip", ip.String()), slog.Any("err", err))
			last, answered = err, remote{}
			var se *bounce.SMTPError
			if errors.As(err, &se) && se.Stage != bounce.StageDial && se.Stage != bounce.StageDNS {
				answered = remote{h.name, ip}
			}
			if ctx.Err() != nil || se != nil && se.Code/100 == 5 {
				return nil, answered, err
			}
		}
	}
	if lacking > 0 && lacking == len(hosts) {
		// RFC 8689 section 4.2.1: no MX host can take the message. As
		// mox, permanent: a domain is unlikely to add REQUIRETLS within
		// the retry period, and the sender learns it now.
		return nil, lackingLast, localError(bounce.StageMail, enhRequireTLS, textNoRequireTLSHost)
	}
	return nil, answered, last
}

// tlsFailed reports whether err is a failed STARTTLS (refused or a failed
// handshake), not a failure to connect.
func tlsFailed(err error) bool {
	var se *bounce.SMTPError
	return errors.As(err, &se) && se.Stage == bounce.StageTLS
}

// recordDialed adds ip to the DialedIPs of the messages idx under name,
// on copies: the maps and slices are shared with the caller's messages.
func recordDialed(results []queue.AttemptResult, idx []int, name string, ip netip.Addr) {
	nip := net.IP(ip.AsSlice())
	for _, i := range idx {
		m := &results[i].Msg
		old := m.DialedIPs
		n := make(map[string][]net.IP, len(old)+1)
		for k, v := range old {
			n[k] = v
		}
		if slices.ContainsFunc(n[name], nip.Equal) {
			m.DialedIPs = n
			continue
		}
		n[name] = append(slices.Clip(n[name]), nip)
		m.DialedIPs = n
	}
}

// open dials ip (or in smarthost mode the host's name), reads the
// greeting, says EHLO (HELO when EHLO is not known), and starts TLS when
// the server offers it and tryTLS is set, or when the smarthost wants it.
func (c *Client) open(ctx context.Context, h host, ip netip.Addr, tryTLS bool) (*session, error) {
	to := c.Timeouts.withDefaults()
	addr := net.JoinHostPort(h.name, h.port)
	if ip.IsValid() {
		addr = net.JoinHostPort(ip.String(), h.port)
	}
	dctx, cancel := context.WithTimeout(ctx, to.Dial)
	raw, err := c.dialer().DialContext(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return nil, stageError(contextErr(ctx, err), bounce.StageDial)
	}
	s := &session{c: c, ctx: ctx, raw: raw, timeouts: to, host: h.name, ip: ip}
	s.stop = context.AfterFunc(ctx, func() { raw.Close() })
	if !s.ip.IsValid() {
		if ap, err := netip.ParseAddrPort(raw.RemoteAddr().String()); err == nil {
			s.ip = ap.Addr().Unmap()
		}
	}
	var nc net.Conn = raw
	if c.Smarthost != nil && c.Smarthost.ImplicitTLS {
		tc, verified, err := c.handshake(ctx, raw, h.name)
		if err != nil {
			s.close()
			return nil, err
		}
		nc, s.tls, s.tlsVerified = tc, true, verified
	}
	if err := s.hello(nc, nil); err != nil {
		s.close()
		return nil, err
	}
	wantTLS := tryTLS || c.smarthostTLS()
	s.tlsTried = wantTLS
	if ok, _ := s.client.Extension("STARTTLS"); ok && wantTLS && !s.tls {
		if err := s.starttls(); err != nil {
			s.close()
			return nil, err
		}
	}
	if c.Smarthost != nil {
		if err := s.auth(); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// hello makes the go-smtp client on nc: it reads the greeting (or takes
// greeting, already read) and says EHLO, or HELO if the server does not
// know EHLO.
func (s *session) hello(nc net.Conn, greeting *strings.Reader) error {
	s.conn = &countingConn{Conn: nc, pending: greeting}
	s.tr = nil
	s.client = smtp.NewClient(s.conn)
	s.client.CommandTimeout = s.timeouts.Command
	s.client.SubmissionTimeout = s.timeouts.DataEnd
	if err := s.client.Hello(s.c.Hostname); err != nil {
		// Nothing written yet: the greeting failed (RFC 5321 section 4.3.1).
		stage := bounce.StageEHLO
		if s.conn.written == 0 {
			stage = bounce.StageConnect
		}
		return s.error(err, stage)
	}
	return nil
}

// error returns err at stage, or the context's error if ctx is done: a
// canceled attempt shows as such, not as the closed connection it leaves.
func (s *session) error(err error, stage bounce.Stage) *bounce.SMTPError {
	return stageError(contextErr(s.ctx, err), stage)
}

// contextErr returns ctx's error if ctx is done and err is not a reply.
func contextErr(ctx context.Context, err error) error {
	var ge *smtp.SMTPError
	if ctx.Err() != nil && !errors.As(err, &ge) {
		return ctx.Err()
	}
	return err
}

// quit ends the session politely: QUIT, then close.
func (s *session) quit() {
	if s.client != nil {
		_ = s.client.Quit()
	}
	s.close()
}

// close closes the connection.
func (s *session) close() {
	if s.client != nil {
		s.client.Close()
	} else {
		s.raw.Close()
	}
	s.stop()
}

func (c *Client) dialer() Dialer {
	if c.Dialer != nil {
		return c.Dialer
	}
	return &net.Dialer{}
}

// deadlineWriter sets a write deadline before each write of message data:
// go-smtp sets none while data is written (RFC 5321 section 4.5.3.2.5).
type deadlineWriter struct {
	w       io.Writer
	conn    net.Conn
	timeout time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	if err := d.conn.SetWriteDeadline(time.Now().Add(d.timeout)); err != nil {
		return 0, err
	}
	return d.w.Write(p)
}
