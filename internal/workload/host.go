package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/suppression"
)

// Separator is the catchall separator of the simulated hosts: FromID
// addresses are sender+fromid@domain.
const Separator = "+"

// OpenDB opens the bstore database at path, creating it, with the
// library's types (queue.DBTypes) and the program's own extra types. A
// second process that holds the file makes it fail after five seconds
// rather than wait forever.
func OpenDB(ctx context.Context, path string, extra ...any) (*bstore.DB, error) {
	types := append(queue.DBTypes(), extra...)
	db, err := bstore.Open(ctx, path, &bstore.Options{Timeout: 5 * time.Second}, types...)
	if err != nil {
		return nil, fmt.Errorf("workload: opening database: %w", err)
	}
	return db, nil
}

// Handler returns the Handler of a simulated host on db and clock: a
// suppression store on the same clock, the accounts in settings (others
// are unknown), FromIDs generated with Separator, and a MessageOpener
// that returns the message's Header followed by body. The caller sets the
// retry policy, the DSN deliverer, the webhook queue and the randomness.
func Handler(db *bstore.DB, clock *queuetest.Clock, hostname string, settings map[string]queue.AccountSettings, body string) *queue.Handler {
	return &queue.Handler{
		DB:           db,
		Suppressions: &suppression.Store{DB: db, Now: clock.Now},
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			s, ok := settings[name]
			return s, ok
		}),
		MessageOpener: queue.MessageOpenerFunc(func(_ *bstore.Tx, m queue.Msg) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(Header(m.SenderAddress, m.RecipientAddress, m.Subject, m.MessageID) + body)), nil
		}),
		Hostname:          hostname,
		GenerateFromIDs:   true,
		CatchallSeparator: Separator,
		Now:               clock.Now,
		After:             clock.After,
	}
}

// HookQueue returns the webhook queue of a simulated host on db and clock:
// it posts to receivers on 127.0.0.0/8 only, and its retries are not
// jittered, so a seeded run repeats. The caller sets timeouts and
// retention.
func HookQueue(db *bstore.DB, clock *queuetest.Clock) *hookqueue.Queue {
	return &hookqueue.Queue{
		DB:            db,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Now:           clock.Now,
		After:         clock.After,
		Rand:          noJitter{},
	}
}

// Workers runs a host's background loops (Handler.Run,
// hookqueue.Queue.Run) until Stop.
type Workers struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errc   chan error
	once   sync.Once
	err    error
}

// StartWorkers starts each run in its own goroutine with a context that
// Stop cancels.
func StartWorkers(ctx context.Context, runs ...func(context.Context) error) *Workers {
	ctx, cancel := context.WithCancel(ctx)
	w := &Workers{cancel: cancel, errc: make(chan error, len(runs))}
	for _, run := range runs {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				w.errc <- err
			}
		}()
	}
	return w
}

// Stop cancels the workers, waits for them to return and returns the
// first error one of them returned other than its context's cancellation.
// Calling it again returns the same.
func (w *Workers) Stop() error {
	w.once.Do(func() {
		w.cancel()
		w.wg.Wait()
		select {
		case w.err = <-w.errc:
		default:
		}
	})
	return w.err
}

// noJitter is a source of randomness whose reads fail, so jitter draws
// randsrc.Neutral: retries happen at exact times.
type noJitter struct{}

func (noJitter) Read([]byte) (int, error) { return 0, io.EOF }
