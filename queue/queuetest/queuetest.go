// Package queuetest has recording fakes of the interfaces a queue.Handler
// calls, and a settable clock, so a host can unit-test its delivery loop
// without SMTP, a mailbox or HTTP (like net/http/httptest).
//
// The fakes keep their state in memory, not in the bstore transaction they
// are given: after a rolled-back transaction they still remember what they
// saw. They are safe for concurrent use.
//
// The Faulty wrappers (FaultyComposer, FaultyDeliverer, FaultySuppressions,
// FaultyHooks, FaultyOpener, FaultyAccounts, and FaultyTransport for a
// hookqueue.Queue) put a Fault in front of any implementation, fake or real,
// so a test can check what a failure at each boundary does: the error the
// caller gets, the rollback, the backoff of background loops. FillDisk
// fills a small test file system, for what a full disk does. SMTPServer
// is a go-smtp server on loopback that refuses the recipients it is told
// to, for a delivery loop that speaks SMTP.
package queuetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
)

// Clock is a settable clock. Pass Now and After to a queue.Handler.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	changed chan struct{} // Closed and replaced when waiters changes.
}

type waiter struct {
	at time.Time
	c  chan time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock {
	return &Clock{now: t}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set sets the clock to t and fires the timers that are due.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.c <- t
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
	c.notify()
}

// notify wakes WaitTimers. c.mu must be held.
func (c *Clock) notify() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// Timers returns the number of pending timers (After channels that have
// not fired).
func (c *Clock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// WaitTimers waits until at least n timers are pending, or ctx is done. A
// loop that sleeps on the clock is idle when its timer is pending: after
// moving the clock, a test waits for the loop to be idle again before it
// counts what the loop did, without sleeping. A loop that never sleeps
// (spins) makes WaitTimers return ctx's error.
func (c *Clock) WaitTimers(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.waiters) >= n {
			c.mu.Unlock()
			return nil
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("queuetest: waiting for %d timers: %w", n, ctx.Err())
		}
	}
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.Set(c.Now().Add(d))
}

// After returns a channel that receives the clock's time once the clock
// reaches now plus d, like time.After.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := c.now.Add(d)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at, ch})
	c.notify()
	return ch
}

// Composer is a DSNComposer that records requests and writes a small
// plain-text message naming the kind and recipients.
type Composer struct {
	mu       sync.Mutex
	Requests []queue.DSNRequest
	Err      error // Returned by ComposeDSN when set.
}

var _ queue.DSNComposer = (*Composer)(nil)

// ComposeDSN records req and returns a plain-text message.
func (c *Composer) ComposeDSN(req queue.DSNRequest) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return nil, c.Err
	}
	c.Requests = append(c.Requests, req)
	var rcpts []string
	for _, r := range req.Recipients {
		rcpts = append(rcpts, r.Msg.RecipientAddress)
	}
	s := fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nMessage-ID: <%s>\r\nSubject: %s dsn\r\n\r\n%s: %s\r\n",
		req.From, req.To, req.MessageID, req.Kind, req.Kind, strings.Join(rcpts, ", "))
	return []byte(s), nil
}

// Deliverer is a DSNDeliverer that records what it delivers. If C is not
// nil, each delivered DSN is also sent on it (tests wait on it instead of
// sleeping).
type Deliverer struct {
	mu        sync.Mutex
	Delivered []queue.OutboxDSN

	// Err, if set, decides the result of each delivery: a non-nil error
	// fails it (and it is not recorded).
	Err func(d queue.OutboxDSN) error

	C chan queue.OutboxDSN
}

var _ queue.DSNDeliverer = (*Deliverer)(nil)

// DeliverDSN records d, or fails with Err.
func (dl *Deliverer) DeliverDSN(ctx context.Context, d queue.OutboxDSN) error {
	dl.mu.Lock()
	var err error
	if dl.Err != nil {
		err = dl.Err(d)
	}
	if err == nil {
		dl.Delivered = append(dl.Delivered, d)
	}
	dl.mu.Unlock()
	if err == nil && dl.C != nil {
		select {
		case dl.C <- d:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

// List returns a copy of the delivered DSNs.
func (dl *Deliverer) List() []queue.OutboxDSN {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	return append([]queue.OutboxDSN(nil), dl.Delivered...)
}

// Suppressions is an in-memory SuppressionStore using a suppression.Policy
// and exact (lowercased) addresses. FailAfter makes a call fail, for fault
// injection.
type Suppressions struct {
	mu      sync.Mutex
	Policy  suppression.Policy
	Entries map[string]suppression.Entry // By account + "\x00" + lowercased address.
	Checks  []suppression.Check          // Every ProcessTx call.
	Calls   int                          // Calls of any method so far.

	// FailAfter, if > 0, makes the call with this number (counting from 1)
	// and all later ones return Err.
	FailAfter int
	Err       error
}

var _ queue.SuppressionStore = (*Suppressions)(nil)

func suppressionKey(account, address string) string {
	return account + "\x00" + strings.ToLower(address)
}

func (s *Suppressions) call() error {
	s.Calls++
	if s.FailAfter > 0 && s.Calls >= s.FailAfter {
		if s.Err != nil {
			return s.Err
		}
		return fmt.Errorf("queuetest: injected suppression failure at call %d", s.Calls)
	}
	return nil
}

// Add puts an entry on the list.
func (s *Suppressions) Add(e suppression.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Entries == nil {
		s.Entries = map[string]suppression.Entry{}
	}
	s.Entries[suppressionKey(e.Account, e.OriginalAddress)] = e
}

// StopTx implements queue.SuppressionStore.
func (s *Suppressions) StopTx(tx *bstore.Tx, account, address string, now time.Time) (suppression.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call(); err != nil {
		return suppression.Entry{}, false, err
	}
	k := suppressionKey(account, address)
	e, ok := s.Entries[k]
	if !ok || !e.Active(now) {
		return suppression.Entry{}, false, nil
	}
	e.Hits++
	e.LastHit = now
	s.Entries[k] = e
	return e, true, nil
}

// ProcessTx implements queue.SuppressionStore.
func (s *Suppressions) ProcessTx(tx *bstore.Tx, c suppression.Check) (suppression.Decision, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call(); err != nil {
		return suppression.Decision{}, false, err
	}
	s.Checks = append(s.Checks, c)
	d := s.Policy.Decide(c)
	if !d.Suppress {
		return d, false, nil
	}
	if s.Entries == nil {
		s.Entries = map[string]suppression.Entry{}
	}
	k := suppressionKey(c.Account, c.Recipient)
	old, exists := s.Entries[k]
	s.Entries[k] = suppression.Entry{
		Account: c.Account, BaseAddress: strings.ToLower(c.Recipient), OriginalAddress: c.Recipient,
		Reason: d.Reason, Category: d.Category, Source: c.Source, Code: int64(c.Failure.Code),
		EnhancedCode: c.Failure.EnhancedCode.String(), Created: c.Now, LastSeen: c.Now, ExpiresAt: d.ExpiresAt,
	}
	return d, !exists || !old.Active(c.Now), nil
}

// DeliveredTx implements queue.SuppressionStore: soft entries are removed.
func (s *Suppressions) DeliveredTx(tx *bstore.Tx, account, address string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call(); err != nil {
		return false, err
	}
	k := suppressionKey(account, address)
	if e, ok := s.Entries[k]; ok && e.Category == suppression.CategorySoftBounce {
		delete(s.Entries, k)
		return true, nil
	}
	return false, nil
}

// Hooks is a HookQueue that records the hooks it is given. FailAfter makes
// a call fail, for fault injection.
type Hooks struct {
	mu     sync.Mutex
	Queued []hookqueue.Hook
	Calls  int

	// FailAfter, if > 0, makes the call with this number (from 1) and all
	// later ones return an error.
	FailAfter int
}

var _ queue.HookQueue = (*Hooks)(nil)

// Enqueue records hooks.
func (h *Hooks) Enqueue(tx *bstore.Tx, hooks ...hookqueue.Hook) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Calls++
	if h.FailAfter > 0 && h.Calls >= h.FailAfter {
		return fmt.Errorf("queuetest: injected hook queue failure at call %d", h.Calls)
	}
	h.Queued = append(h.Queued, hooks...)
	return nil
}

// Events returns the queued hooks as "event:recipient" strings, in order.
func (h *Hooks) Events() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var l []string
	for _, k := range h.Queued {
		l = append(l, string(k.Payload.Event)+":"+k.Payload.Recipient)
	}
	return l
}

// Messages is a MessageOpener over messages kept in memory by ID.
type Messages struct {
	mu   sync.Mutex
	Data map[int64][]byte
	// Default is returned for IDs not in Data; nil means an error.
	Default []byte
}

var _ queue.MessageOpener = (*Messages)(nil)

// Set stores the data of message id.
func (ms *Messages) Set(id int64, data []byte) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.Data == nil {
		ms.Data = map[int64][]byte{}
	}
	ms.Data[id] = data
}

// OpenMessage returns a reader of the message data.
func (ms *Messages) OpenMessage(tx *bstore.Tx, m queue.Msg) (io.ReadCloser, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	data, ok := ms.Data[m.ID]
	if !ok {
		data = ms.Default
	}
	if data == nil {
		return nil, fmt.Errorf("queuetest: no data for message %d", m.ID)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}
