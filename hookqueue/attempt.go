package hookqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/webhook"
)

// attempt is the result of one request, passed from the request goroutine
// to the worker.
type attempt struct {
	hook    Hook
	result  HookResult
	verdict Verdict
}

// newSender returns the Sender used by Run: with the Queue's settings, and
// as many connections per host as Run lets requests in flight to it, so no
// request waits for a connection.
func (q *Queue) newSender() *Sender {
	rt := q.Transport
	if rt == nil {
		t := NewTransport(q.AllowNetworks, q.hostConcurrency())
		t.MaxIdleConns = orDefault(q.MaxConcurrency, DefaultMaxConcurrency)
		rt = t
	}
	return &Sender{
		Transport:     rt,
		UserAgent:     q.UserAgent,
		Timeout:       q.Timeout,
		MaxRetryAfter: q.MaxRetryAfter,
		Now:           q.Now,
	}
}

// deliver makes one attempt to deliver h. ctx is canceled only at shutdown.
func (q *Queue) deliver(ctx context.Context, s *Sender, h Hook) attempt {
	if h.incomingDeferred {
		start, realStart := q.now(), time.Now()
		in, err := q.readIncoming(ctx, h.ID)
		if err != nil {
			a := attempt{hook: h, verdict: VerdictRetry}
			a.result = HookResult{Start: start, URL: h.URL, Duration: time.Since(realStart), Error: err.Error()}
			if ctx.Err() != nil {
				a.verdict = VerdictAbandoned
				a.result.Interrupted = true
			}
			return a
		}
		send := h
		send.Incoming = in
		r, v := s.Send(ctx, send, webhookID(h.ID))
		return attempt{hook: h, result: r, verdict: v}
	}
	r, v := s.Send(ctx, h, webhookID(h.ID))
	return attempt{hook: h, result: r, verdict: v}
}

// webhookID is the webhook-id (and Idempotency-Key) of a hook: derived from
// its ID, so it is the same on every attempt.
func webhookID(id int64) string {
	return "bkh_" + strconv.FormatInt(id, 10)
}

// readIncoming reads the incoming payload Run's buffer left out of hook
// id, with the Text and HTML from its HookBody: the payload as enqueued.
func (q *Queue) readIncoming(ctx context.Context, id int64) (*webhook.Incoming, error) {
	var in *webhook.Incoming
	err := q.read(ctx, func(tx *bstore.Tx) error {
		h := Hook{ID: id}
		if err := tx.Get(&h); err != nil {
			return err
		}
		if h.Incoming == nil {
			return errors.New("no incoming payload")
		}
		in = h.Incoming
		body := HookBody{ID: id}
		if err := tx.Get(&body); errors.Is(err, bstore.ErrAbsent) {
			return nil // Neither Text nor HTML.
		} else if err != nil {
			return err
		}
		in.Text, in.HTML = body.Text, body.HTML
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hookqueue: reading incoming payload: %w", err)
	}
	return in, nil
}
