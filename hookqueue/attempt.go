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
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/webhook"
)

// drainLimit is how much of a response body beyond responseKeep is read so
// the connection can be reused. A longer body closes the connection instead.
const drainLimit = 64 * 1024

// verdict is what an attempt means for the hook.
type verdict int

const (
	verdictRetry     verdict = iota // Temporary failure: retry per schedule.
	verdictDelivered                // 2xx.
	verdictGone                     // 410: stop, report.
	verdictRefused                  // Bad URL or forbidden address: stop.
	verdictAbandoned                // Canceled at shutdown: leave due.

	// No connection before the timeout: the endpoint saw nothing, so the
	// attempt does not count and the hook stays due.
	verdictNoConn
)

// attempt is the result of one request, passed from the request goroutine
// to the worker.
type attempt struct {
	hook    Hook
	result  HookResult
	verdict verdict
}

// newClient returns the HTTP client used by Run, and a function to release
// its idle connections.
func (q *Queue) newClient() (*http.Client, func()) {
	rt := q.Transport
	var closeIdle func()
	if rt == nil {
		// As many connections per host as requests Run lets in flight to
		// it, so no request waits for a connection.
		perHost := q.hostConcurrency()
		t := &http.Transport{
			Proxy:                 nil, // A proxy would connect for us, past the guard.
			DialContext:           NewDialer(q.AllowNetworks).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          orDefault(q.MaxConcurrency, DefaultMaxConcurrency),
			MaxIdleConnsPerHost:   perHost,
			MaxConnsPerHost:       perHost,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
		rt = t
		closeIdle = t.CloseIdleConnections
	} else if ci, ok := rt.(interface{ CloseIdleConnections() }); ok {
		closeIdle = ci.CloseIdleConnections
	} else {
		closeIdle = func() {}
	}
	c := &http.Client{
		Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c, closeIdle
}

// deliver makes one attempt to deliver h. ctx is canceled only at shutdown.
func (q *Queue) deliver(ctx context.Context, client *http.Client, h Hook) attempt {
	start := q.now()
	realStart := time.Now()
	a := attempt{hook: h, verdict: verdictRetry}
	a.result = HookResult{Start: start, URL: h.URL}
	var ct connTrace
	err := q.request(httptrace.WithClientTrace(ctx, ct.trace()), client, h, &a)
	a.result.Duration = time.Since(realStart)
	if err != nil {
		a.result.Error = err.Error()
		switch {
		case errors.Is(err, ErrForbiddenAddress), errors.Is(err, errBadURL):
			a.verdict = verdictRefused
		case ctx.Err() != nil:
			a.verdict = verdictAbandoned
			a.result.Interrupted = true
		case errors.Is(err, context.DeadlineExceeded) && ct.waitedOnly():
			a.verdict = verdictNoConn
		}
	}
	return a
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

// webhookID is the webhook-id (and Idempotency-Key) of a hook: derived from
// its ID, so it is the same on every attempt.
func webhookID(id int64) string {
	return "bkh_" + strconv.FormatInt(id, 10)
}

func (q *Queue) request(ctx context.Context, client *http.Client, h Hook, a *attempt) error {
	if h.incomingDeferred {
		in, err := q.readIncoming(ctx, h.ID)
		if err != nil {
			return err
		}
		h.Incoming = in
	}
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

	ctx, cancel := context.WithTimeout(ctx, orDefault(q.Timeout, DefaultTimeout))
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
	id := webhookID(h.ID)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", orString(q.UserAgent, DefaultUserAgent))
	req.Header.Set("Idempotency-Key", id)
	req.Header.Set(webhook.HeaderID, id)
	// mox's headers, for receivers written for mox.
	req.Header.Set("X-Mox-Webhook-ID", strconv.FormatInt(h.ID, 10))
	req.Header.Set("X-Mox-Webhook-Attempt", strconv.FormatInt(p.Attempt, 10))
	if h.Authorization != "" {
		req.Header.Set("Authorization", h.Authorization)
	}
	if len(h.Secrets) > 0 {
		ts := q.now()
		sig, err := webhook.Sign(h.Secrets, id, ts, body)
		if err != nil {
			return err
		}
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, sig)
	}

	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	a.result.Code = int64(resp.StatusCode)

	// Keep the start of the body; read a little more so the connection can
	// be reused, but never a whole large body.
	var keep [responseKeep]byte
	n, rerr := readFull(resp.Body, keep[:])
	a.result.Response = string(keep[:n])
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
		a.result.Success = true
		a.verdict = verdictDelivered
		return nil
	case code == http.StatusGone:
		a.verdict = verdictGone
		return fmt.Errorf("hookqueue: endpoint answered 410 gone, not retrying")
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		a.result.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), q.now(), orDefault(q.MaxRetryAfter, DefaultMaxRetryAfter))
		return fmt.Errorf("hookqueue: http status %d", code)
	case code >= 300 && code < 400:
		return fmt.Errorf("hookqueue: http status %d, redirect to %q not followed", code, resp.Header.Get("Location"))
	default:
		return fmt.Errorf("hookqueue: http status %d", code)
	}
}

// readIncoming reads the incoming payload Run's buffer left out of hook id.
func (q *Queue) readIncoming(ctx context.Context, id int64) (*webhook.Incoming, error) {
	h := Hook{ID: id}
	err := q.read(ctx, func(tx *bstore.Tx) error { return tx.Get(&h) })
	if err == nil && h.Incoming == nil {
		err = errors.New("no incoming payload")
	}
	if err != nil {
		return nil, fmt.Errorf("hookqueue: reading incoming payload: %w", err)
	}
	return h.Incoming, nil
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
