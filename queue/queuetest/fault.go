package queuetest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
)

// ErrInjected is the error a Fault injects when its Err is nil.
var ErrInjected = errors.New("queuetest: injected fault")

// ErrNoNext is returned by a faulty wrapper without a Next to pass calls to.
var ErrNoNext = errors.New("queuetest: faulty wrapper without next")

// Fault decides which calls through a faulty wrapper fail, and counts them.
// Set its fields before the first call; Heal and the counters are safe for
// concurrent use. The zero value fails every call with ErrInjected; a nil
// *Fault fails none.
type Fault struct {
	// Err is the injected error. Nil: ErrInjected.
	Err error

	// Skip is how many calls pass before the first one fails.
	Skip int

	// Times is how many calls fail after Skip. Zero: all later calls.
	Times int

	// Late makes a failing call go to the wrapped implementation first and
	// fail after it returned: whatever it wrote in the caller's
	// transaction is there, and only the caller's rollback removes it.
	Late bool

	mu     sync.Mutex
	calls  int
	failed int
	healed bool
}

// Calls returns the number of calls so far, failed or not.
func (f *Fault) Calls() int {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Failed returns the number of calls that failed so far.
func (f *Fault) Failed() int {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// Heal makes all later calls pass, as when a full disk gets space again or a
// remote service comes back.
func (f *Fault) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.healed = true
}

// check counts a call and returns the injected error if it fails.
func (f *Fault) check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	n := f.calls - f.Skip
	if f.healed || n <= 0 || f.Times > 0 && n > f.Times {
		return nil
	}
	f.failed++
	if f.Err != nil {
		return f.Err
	}
	return ErrInjected
}

// before returns the injected error of a failing call that is not Late.
func (f *Fault) before() error {
	if f == nil || f.Late {
		return nil
	}
	return f.check()
}

// after returns the injected error of a failing call that is Late.
func (f *Fault) after() error {
	if f == nil || !f.Late {
		return nil
	}
	return f.check()
}

// FaultyComposer is a DSNComposer that fails the calls its Fault selects
// and passes the others to Next.
type FaultyComposer struct {
	Next  queue.DSNComposer
	Fault *Fault
}

var _ queue.DSNComposer = FaultyComposer{}

// ComposeDSN implements queue.DSNComposer.
func (c FaultyComposer) ComposeDSN(req queue.DSNRequest) ([]byte, error) {
	if c.Next == nil {
		return nil, ErrNoNext
	}
	if err := c.Fault.before(); err != nil {
		return nil, err
	}
	data, err := c.Next.ComposeDSN(req)
	if ferr := c.Fault.after(); ferr != nil {
		return nil, ferr
	}
	return data, err
}

// FaultyDeliverer is a DSNDeliverer that fails the deliveries its Fault
// selects and passes the others to Next. With Late, a failing delivery
// reached Next: the receiver got a DSN the Handler will send again.
type FaultyDeliverer struct {
	Next  queue.DSNDeliverer
	Fault *Fault
}

var _ queue.DSNDeliverer = FaultyDeliverer{}

// DeliverDSN implements queue.DSNDeliverer.
func (dl FaultyDeliverer) DeliverDSN(ctx context.Context, d queue.OutboxDSN) error {
	if dl.Next == nil {
		return ErrNoNext
	}
	if err := dl.Fault.before(); err != nil {
		return err
	}
	err := dl.Next.DeliverDSN(ctx, d)
	if ferr := dl.Fault.after(); ferr != nil {
		return ferr
	}
	return err
}

// FaultySuppressions is a SuppressionStore that fails the calls its faults
// select, one Fault per method (nil: that method never fails), and passes
// the others to Next.
type FaultySuppressions struct {
	Next queue.SuppressionStore

	Stop      *Fault // StopTx.
	Process   *Fault // ProcessTx.
	Delivered *Fault // DeliveredTx.
}

var _ queue.SuppressionStore = FaultySuppressions{}

// StopTx implements queue.SuppressionStore.
func (s FaultySuppressions) StopTx(tx *bstore.Tx, account, address string, now time.Time) (suppression.Entry, bool, error) {
	if s.Next == nil {
		return suppression.Entry{}, false, ErrNoNext
	}
	if err := s.Stop.before(); err != nil {
		return suppression.Entry{}, false, err
	}
	e, ok, err := s.Next.StopTx(tx, account, address, now)
	if ferr := s.Stop.after(); ferr != nil {
		return suppression.Entry{}, false, ferr
	}
	return e, ok, err
}

// ProcessTx implements queue.SuppressionStore.
func (s FaultySuppressions) ProcessTx(tx *bstore.Tx, c suppression.Check) (suppression.Decision, bool, error) {
	if s.Next == nil {
		return suppression.Decision{}, false, ErrNoNext
	}
	if err := s.Process.before(); err != nil {
		return suppression.Decision{}, false, err
	}
	d, added, err := s.Next.ProcessTx(tx, c)
	if ferr := s.Process.after(); ferr != nil {
		return suppression.Decision{}, false, ferr
	}
	return d, added, err
}

// DeliveredTx implements queue.SuppressionStore.
func (s FaultySuppressions) DeliveredTx(tx *bstore.Tx, account, address string) (bool, error) {
	if s.Next == nil {
		return false, ErrNoNext
	}
	if err := s.Delivered.before(); err != nil {
		return false, err
	}
	removed, err := s.Next.DeliveredTx(tx, account, address)
	if ferr := s.Delivered.after(); ferr != nil {
		return false, ferr
	}
	return removed, err
}

// FaultyHooks is a HookQueue that fails the calls its Fault selects and
// passes the others to Next. Kick is passed on when Next has it, so
// Handler.Kick still wakes a wrapped *hookqueue.Queue.
type FaultyHooks struct {
	Next  queue.HookQueue
	Fault *Fault
}

var _ queue.HookQueue = FaultyHooks{}

// Enqueue implements queue.HookQueue.
func (h FaultyHooks) Enqueue(tx *bstore.Tx, hooks ...hookqueue.Hook) error {
	if h.Next == nil {
		return ErrNoNext
	}
	if err := h.Fault.before(); err != nil {
		return err
	}
	err := h.Next.Enqueue(tx, hooks...)
	if ferr := h.Fault.after(); ferr != nil {
		return ferr
	}
	return err
}

// Kick wakes Next's worker, if it has one.
func (h FaultyHooks) Kick() {
	if k, ok := h.Next.(interface{ Kick() }); ok {
		k.Kick()
	}
}

// FaultyOpener is a MessageOpener whose OpenMessage fails the calls Fault
// selects, and whose readers fail after ReadAfter bytes for the opened
// messages ReadFault selects (counted per opened message). Other calls go
// to Next.
type FaultyOpener struct {
	Next  queue.MessageOpener
	Fault *Fault

	ReadFault *Fault
	ReadAfter int
}

var _ queue.MessageOpener = FaultyOpener{}

// OpenMessage implements queue.MessageOpener.
func (o FaultyOpener) OpenMessage(tx *bstore.Tx, m queue.Msg) (io.ReadCloser, error) {
	if o.Next == nil {
		return nil, ErrNoNext
	}
	if err := o.Fault.before(); err != nil {
		return nil, err
	}
	r, err := o.Next.OpenMessage(tx, m)
	if ferr := o.Fault.after(); ferr != nil {
		if err == nil {
			r.Close()
		}
		return nil, ferr
	}
	if err != nil || o.ReadFault == nil {
		return r, err
	}
	if rerr := o.ReadFault.check(); rerr != nil {
		return &failingReader{r: r, left: o.ReadAfter, err: rerr}, nil
	}
	return r, nil
}

// failingReader returns left bytes of r, then err.
type failingReader struct {
	r    io.ReadCloser
	left int
	err  error
}

func (fr *failingReader) Read(p []byte) (int, error) {
	if fr.left <= 0 {
		return 0, fr.err
	}
	if len(p) > fr.left {
		p = p[:fr.left]
	}
	n, err := fr.r.Read(p)
	fr.left -= n
	if err == io.EOF {
		// The message was shorter than the fault's offset.
		return n, fr.err
	}
	return n, err
}

func (fr *failingReader) Close() error { return fr.r.Close() }

// FaultyAccounts is an Accounts whose failing calls (selected by Fault)
// report the account as unknown: the one failure the interface can
// express, as when the host's account configuration cannot be read. Other
// calls go to Next; a nil Next knows every account, with zero settings (the
// Handler's default).
type FaultyAccounts struct {
	Next  queue.Accounts
	Fault *Fault
}

var _ queue.Accounts = FaultyAccounts{}

// Account implements queue.Accounts.
func (a FaultyAccounts) Account(name string) (queue.AccountSettings, bool) {
	if a.Fault != nil && a.Fault.check() != nil {
		return queue.AccountSettings{}, false
	}
	if a.Next == nil {
		return queue.AccountSettings{}, true
	}
	return a.Next.Account(name)
}

// FaultyTransport is an http.RoundTripper for a hookqueue.Queue that fails
// the requests its Fault selects, as a refused connection or a reset does,
// and passes the others to Next. A Late failure reached the endpoint: its
// response is discarded.
type FaultyTransport struct {
	Next  http.RoundTripper
	Fault *Fault
}

var _ http.RoundTripper = FaultyTransport{}

// RoundTrip implements http.RoundTripper.
func (t FaultyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Next == nil {
		closeBody(req)
		return nil, ErrNoNext
	}
	if err := t.Fault.before(); err != nil {
		// A RoundTripper closes the body, even on errors.
		closeBody(req)
		return nil, err
	}
	resp, err := t.Next.RoundTrip(req)
	if ferr := t.Fault.after(); ferr != nil {
		if err == nil {
			resp.Body.Close()
		}
		return nil, ferr
	}
	return resp, err
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// CloseIdleConnections closes Next's idle connections, if it keeps any, so
// a hookqueue.Queue's Run releases them when it returns.
func (t FaultyTransport) CloseIdleConnections() {
	if ci, ok := t.Next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
