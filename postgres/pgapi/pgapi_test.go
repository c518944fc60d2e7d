package pgapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/pgapi"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/webapi"
	"github.com/bouncekit/bouncekit/webapi/webapitest"
)

// TestMain checks that no goroutine outlives the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

// open returns a Server over a suppression list and a River queue in a
// new schema, and no bstore database: the methods under test need none.
// Nothing delivers: the queue is not run, so hooks stay as the suite
// leaves them.
func open(t *testing.T, now func() time.Time) webapitest.Backend {
	t.Helper()
	return backend(t, now)
}

// backend is open for tests and benchmarks.
func backend(t testing.TB, now func() time.Time) webapitest.Backend {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	supp, err := pgsuppression.Open(ctx, pool)
	if err != nil {
		t.Fatalf("open suppression list: %v", err)
	}
	supp.Now = now
	q, err := riverhook.Open(ctx, pool, riverhook.Config{Now: now})
	if err != nil {
		t.Fatalf("open queue: %v", err)
	}
	n := 0
	return webapitest.Backend{
		Server: &webapi.Server{SuppressionList: supp, HookHistory: pgapi.Hooks{Queue: q}},
		AddHooks: func(ctx context.Context, hooks ...hookqueue.Hook) error {
			jobs := make([]riverhook.Job, len(hooks))
			for i, h := range hooks {
				n++
				jobs[i] = riverhook.Job{
					WebhookID:     fmt.Sprintf("test-%d", n),
					Account:       h.Account,
					URL:           h.URL,
					Authorization: h.Authorization,
					Secrets:       h.Secrets,
					Payload:       h.Payload,
				}
			}
			_, err := q.Insert(ctx, jobs...)
			return err
		},
	}
}

// TestConformance runs webapi's suite, which webapi runs against its
// bstore default, against the PostgreSQL stores.
func TestConformance(t *testing.T) {
	webapitest.Run(t, open)
}

// newServer serves srv and returns a client maker: username and
// username+"pw".
func newServer(t testing.TB, srv *webapi.Server) func(user string) webapi.Client {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return func(user string) webapi.Client {
		return webapi.Client{BaseURL: ts.URL, Username: user, Password: user + "pw", HTTPClient: ts.Client()}
	}
}
