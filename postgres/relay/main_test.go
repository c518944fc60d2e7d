package relay_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mjl-/bstore"
	"go.uber.org/goleak"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/pgsent"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/postgres/relay"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/queue"
)

// No goroutine may outlive the tests: every pool, database and Run ends.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func tcheck(t testing.TB, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

// shared is the state on PostgreSQL all nodes of a test share.
type shared struct {
	pool  *pgxpool.Pool
	sup   *pgsuppression.Store
	sent  *pgsent.Index
	hooks *recorder
}

func newShared(t *testing.T) *shared {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	sup, err := pgsuppression.Open(ctx, pool)
	tcheck(t, err, "open suppression list")
	sup.Now = func() time.Time { return t0.Add(24 * time.Hour) }
	sent, err := pgsent.Open(ctx, pool)
	tcheck(t, err, "open sent index")
	return &shared{pool: pool, sup: sup, sent: sent, hooks: newRecorder()}
}

// recorder is the shared webhook delivery as River's unique jobs make it:
// a hook whose WebhookID it has is not inserted again.
type recorder struct {
	mu       sync.Mutex
	calls    int                      // Calls of InsertHooks that inserted.
	handed   map[string]int           // Times each WebhookID was handed over.
	hooks    map[string]riverhook.Job // Inserted, by WebhookID.
	order    []string                 // WebhookIDs in order of insertion.
	fail     []error                  // Errors for the next calls, in order.
	inserted chan int                 // Receives the number of new hooks of each call, if not nil.
}

func newRecorder() *recorder {
	return &recorder{handed: map[string]int{}, hooks: map[string]riverhook.Job{}}
}

func (rc *recorder) Insert(ctx context.Context, hooks ...riverhook.Job) (int, error) {
	rc.mu.Lock()
	if len(rc.fail) > 0 {
		err := rc.fail[0]
		rc.fail = rc.fail[1:]
		rc.mu.Unlock()
		return 0, err
	}
	rc.calls++
	var n int
	for _, h := range hooks {
		rc.handed[h.WebhookID]++
		if _, ok := rc.hooks[h.WebhookID]; !ok {
			rc.hooks[h.WebhookID] = h
			rc.order = append(rc.order, h.WebhookID)
			n++
		}
	}
	c := rc.inserted
	rc.mu.Unlock()
	if c != nil {
		c <- n
	}
	return n, nil
}

func (rc *recorder) ids() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.order...)
}

func (rc *recorder) hook(id string) (riverhook.Job, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	h, ok := rc.hooks[id]
	return h, ok
}

// node is one sending node: its own bstore database, Handler and Relay.
type node struct {
	db *bstore.DB
	r  *relay.Relay
	h  *queue.Handler
}

// newNode opens a node named name on the shared state s.
func newNode(t *testing.T, name string, s *shared) *node {
	t.Helper()
	db := openDB(t)
	r := &relay.Relay{
		Node:         name,
		DB:           db,
		Suppressions: &pgsuppression.Store{DB: s.pool},
		Sent:         &pgsent.Index{DB: s.pool},
		Hooks:        s.hooks,
		Now:          func() time.Time { return t0 },
	}
	return &node{db: db, r: r, h: handler(r)}
}

// handler returns a Handler whose suppression list and webhooks are r's.
func handler(r *relay.Relay) *queue.Handler {
	return &queue.Handler{
		Suppressions: r,
		Hooks:        r,
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{WebhookURL: "https://hooks.example.org/" + name}, true
		}),
		Hostname: "mx.example.org",
		Now:      func() time.Time { return t0 },
	}
}

func openDB(t testing.TB) *bstore.DB {
	t.Helper()
	db, err := bstore.Open(context.Background(), filepath.Join(t.TempDir(), "queue.db"), nil, append(queue.DBTypes(), relay.DBTypes()...)...)
	tcheck(t, err, "open bstore")
	t.Cleanup(func() { db.Close() })
	return db
}

// add queues a message of alice to rcpt and indexes it, in one
// transaction.
func (n *node) add(t *testing.T, rcpt string) (queue.Msg, queue.Outcome) {
	t.Helper()
	m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: rcpt, MessageID: "m-" + rcpt, Subject: "hello"}
	var o []queue.Outcome
	err := n.db.Write(context.Background(), func(tx *bstore.Tx) error {
		var err error
		if o, err = n.h.Add(tx, m); err != nil {
			return err
		}
		return n.r.IndexTx(tx, m)
	})
	tcheck(t, err, "add")
	return *m, o[0]
}

// fail calls FailMsgs for m with err and commits, unless rollback.
func (n *node) fail(t *testing.T, m queue.Msg, err error, rollback bool) queue.Outcome {
	t.Helper()
	errRollback := errors.New("rollback")
	var o []queue.Outcome
	werr := n.db.Write(context.Background(), func(tx *bstore.Tx) error {
		var err2 error
		if o, err2 = n.h.FailMsgs(tx, []queue.Msg{m}, err); err2 != nil {
			return err2
		}
		if rollback {
			return errRollback
		}
		return nil
	})
	if rollback && !errors.Is(werr, errRollback) || !rollback && werr != nil {
		t.Fatalf("failmsgs: %v", werr)
	}
	return o[0]
}

func (n *node) flush(t *testing.T) int {
	t.Helper()
	k, err := n.r.Flush(context.Background())
	tcheck(t, err, "flush")
	return k
}

// outbox returns the number of intents of each kind in n's outbox.
func (n *node) outbox(t *testing.T) [3]int {
	t.Helper()
	ctx := context.Background()
	hooks, err := bstore.QueryDB[relay.HookIntent](ctx, n.db).Count()
	tcheck(t, err, "count hook intents")
	sups, err := bstore.QueryDB[relay.SuppressionIntent](ctx, n.db).Count()
	tcheck(t, err, "count suppression intents")
	sent, err := bstore.QueryDB[relay.SentIntent](ctx, n.db).Count()
	tcheck(t, err, "count index intents")
	return [3]int{hooks, sups, sent}
}

// userUnknown is a hard bounce: the recipient's mailbox does not exist.
func userUnknown() error {
	return &bounce.SMTPError{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}
}

// webhookID returns the webhook-id of n's hook with outbox ID id.
func (n *node) webhookID(t *testing.T, id int64) string {
	t.Helper()
	o, err := bstore.QueryDB[relay.Outbox](context.Background(), n.db).Get()
	tcheck(t, err, "outbox token")
	return relay.WebhookID(n.r.Node, o.Token, id)
}
