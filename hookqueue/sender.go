package hookqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bouncekit/bouncekit/internal/inject"
	"github.com/bouncekit/bouncekit/webhook"
)

// drainLimit is how much of a response body beyond responseKeep is read so
// the connection can be reused. A longer body closes the connection instead.
const drainLimit = 64 * 1024

// Verdict is what one delivery attempt means for the hook. Queue.Run acts
// on it with its own records; another queue (a River worker) maps it to
// its own retry, cancel and snooze.
type Verdict int

// Verdicts of Sender.Send.
const (
	VerdictRetry     Verdict = iota // Temporary failure: retry per schedule, or after HookResult.RetryAfter if set.
	VerdictDelivered                // 2xx.
	VerdictGone                     // 410 Gone: the endpoint asked us to stop.
	VerdictRefused                  // Invalid URL or forbidden address: retrying cannot help.
	VerdictAbandoned                // ctx was canceled (shutdown): the try does not count.

	// No connection before the timeout, because the Transport's were all
	// busy: the endpoint saw nothing, so the attempt does not count.
	VerdictNoConn
)

// Sender makes single delivery attempts: one signed POST, with a timeout,
// no redirects, a capped stored response and the SSRF guard. Queue.Run
// uses one, and so does any other queue that delivers Hooks (the River
// worker of the postgres module), so both send the same requests. The
// zero value is usable; fields must not change once Send was called.
type Sender struct {
	// Transport makes the requests. Nil: NewTransport(AllowNetworks,
	// DefaultHostConcurrency). A custom Transport bypasses the SSRF guard
	// unless it dials with NewDialer. Redirects are never followed.
	Transport     http.RoundTripper
	AllowNetworks []netip.Prefix // Exempt from the SSRF guard of the default Transport.

	UserAgent     string        // Default DefaultUserAgent.
	Timeout       time.Duration // Per request, including reading the capped body. Default DefaultTimeout.
	MaxRetryAfter time.Duration // Cap on a Retry-After delay. Default DefaultMaxRetryAfter.

	// Now is the clock for signatures and Retry-After dates. Nil:
	// time.Now. Durations and the Timeout use the real clock.
	Now func() time.Time

	once      sync.Once
	client    *http.Client
	closeIdle func()
}

// NewTransport returns the default Transport: no proxy (a proxy would
// connect for us, past the guard), dialing with NewDialer(allow), with
// perHost connections per host so that as many requests in flight do not
// wait for one.
func NewTransport(allow []netip.Prefix, perHost int) *http.Transport {
	perHost = orDefault(perHost, DefaultHostConcurrency)
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           NewDialer(allow).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(perHost, DefaultMaxConcurrency),
		MaxIdleConnsPerHost:   perHost,
		MaxConnsPerHost:       perHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

func (s *Sender) init() {
	s.once.Do(func() {
		rt := s.Transport
		if rt == nil {
			rt = NewTransport(s.AllowNetworks, 0)
		}
		s.closeIdle = func() {}
		if ci, ok := rt.(interface{ CloseIdleConnections() }); ok {
			s.closeIdle = ci.CloseIdleConnections
		}
		s.client = &http.Client{
			Transport: rt,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	})
}

// CloseIdleConnections closes the Transport's idle connections, if it can.
func (s *Sender) CloseIdleConnections() {
	s.init()
	s.closeIdle()
}

// Send makes one attempt to deliver h to h.URL and returns its record and
// what it means. The request carries webhookID as webhook-id and
// Idempotency-Key: the same on every attempt of the hook, and unique among
// all hooks the receiver gets (Queue.Run uses "bkh_<Hook.ID>"; a queue
// shared by several nodes needs its own). X-Mox-Webhook-ID is h.ID and the
// attempt number is h.Attempts+1. Send does not touch Metrics: a caller
// observes the attempts it records (Metrics.ObserveAttempt).
func (s *Sender) Send(ctx context.Context, h Hook, webhookID string) (HookResult, Verdict) {
	s.init()
	start := inject.Now(s.Now)
	realStart := time.Now()
	r := HookResult{Start: start, URL: h.URL}
	v := VerdictRetry
	var ct connTrace
	err := s.request(httptrace.WithClientTrace(ctx, ct.trace()), h, webhookID, &r, &v)
	r.Duration = time.Since(realStart)
	if err != nil {
		r.Error = err.Error()
		switch {
		case errors.Is(err, ErrForbiddenAddress), errors.Is(err, errBadURL):
			v = VerdictRefused
		case ctx.Err() != nil:
			v = VerdictAbandoned
			r.Interrupted = true
		case errors.Is(err, context.DeadlineExceeded) && ct.waitedOnly():
			v = VerdictNoConn
		}
	}
	return r, v
}

// connTrace follows how a request got its connection. A transport that
// does not report it (a RoundTripper other than http.Transport) leaves it
// zero, and its failures count as attempts.
type connTrace struct {
	asked  atomic.Bool // The transport looked for a connection.
	got    atomic.Bool // It got one, so the request may have been sent.
	dialed atomic.Bool // It resolved or dialed for this request: a real try to reach the endpoint.
}

func (c *connTrace) trace() *httptrace.ClientTrace {
	// DNSStart and ConnectStart run on the transport's dial goroutine.
	return &httptrace.ClientTrace{
		GetConn:      func(string) { c.asked.Store(true) },
		GotConn:      func(httptrace.GotConnInfo) { c.got.Store(true) },
		DNSStart:     func(httptrace.DNSStartInfo) { c.dialed.Store(true) },
		ConnectStart: func(string, string) { c.dialed.Store(true) },
	}
}

// waitedOnly says the request only waited for a connection another
// request held: nothing was sent and no dial of its own failed.
func (c *connTrace) waitedOnly() bool {
	return c.asked.Load() && !c.got.Load() && !c.dialed.Load()
}

var errBadURL = errors.New("hookqueue: bad url")

func (s *Sender) request(ctx context.Context, h Hook, id string, r *HookResult, v *Verdict) error {
	p := h.Payload
	p.Attempt = h.Attempts + 1
	if p.Extra == nil {
		p.Extra = map[string]string{} // mox sends {}, receivers may iterate it.
	}
	var body []byte
	var err error
	if h.Incoming != nil {
		body, err = json.Marshal(h.Incoming)
	} else {
		body, err = json.Marshal(p)
	}
	if err != nil {
		return fmt.Errorf("hookqueue: encoding payload: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, orDefault(s.Timeout, DefaultTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", errBadURL, err)
	}
	// Without GetBody net/http never re-sends the request itself. With it
	// and the Idempotency-Key header below, it would re-send on a new
	// connection when a kept-alive one dies after the endpoint may have
	// read the request: a try we would never record.
	req.GetBody = nil
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", orString(s.UserAgent, DefaultUserAgent))
	req.Header.Set("Idempotency-Key", id)
	req.Header.Set(webhook.HeaderID, id)
	// mox's headers, for receivers written for mox.
	req.Header.Set("X-Mox-Webhook-ID", strconv.FormatInt(h.ID, 10))
	req.Header.Set("X-Mox-Webhook-Attempt", strconv.FormatInt(p.Attempt, 10))
	if h.Authorization != "" {
		req.Header.Set("Authorization", h.Authorization)
	}
	if len(h.Secrets) > 0 {
		ts := inject.Now(s.Now)
		sig, err := webhook.Sign(h.Secrets, id, ts, body)
		if err != nil {
			return err
		}
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, sig)
	}

	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	r.Code = int64(resp.StatusCode)

	// Keep the start of the body; read a little more so the connection can
	// be reused, but never a whole large body.
	var keep [responseKeep]byte
	n, rerr := readFull(resp.Body, keep[:])
	r.Response = string(keep[:n])
	if rerr == nil {
		_, rerr = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	} else if rerr == io.EOF {
		rerr = nil // Short body, all read.
	}
	if rerr != nil {
		// The response was cut off: the receiver may not have finished.
		return fmt.Errorf("hookqueue: reading response: %w", rerr)
	}

	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		r.Success = true
		*v = VerdictDelivered
		return nil
	case code == http.StatusGone:
		*v = VerdictGone
		return fmt.Errorf("hookqueue: endpoint answered 410 gone, not retrying")
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		r.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), inject.Now(s.Now), orDefault(s.MaxRetryAfter, DefaultMaxRetryAfter))
		return fmt.Errorf("hookqueue: http status %d", code)
	case code >= 300 && code < 400:
		return fmt.Errorf("hookqueue: http status %d, redirect to %q not followed", code, resp.Header.Get("Location"))
	default:
		return fmt.Errorf("hookqueue: http status %d", code)
	}
}

// parseRetryAfter parses a Retry-After header (RFC 9110 section 10.2.3):
// delay-seconds or an HTTP-date. It returns 0 if absent or invalid, and at
// most max, also for a delay too large for any integer type.
func parseRetryAfter(s string, now time.Time, max time.Duration) time.Duration {
	if s == "" {
		return 0
	}
	var d time.Duration
	if isDigits(s) {
		// delay-seconds = 1*DIGIT: ParseInt fails only by range.
		secs, err := strconv.ParseInt(s, 10, 64)
		if err != nil || secs > int64(max/time.Second) {
			return max
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(s); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, max)
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func orString(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// readFull is io.ReadFull, but it returns io.EOF when the body ends early,
// so a truncated body (io.ErrUnexpectedEOF from net/http) is told apart.
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
