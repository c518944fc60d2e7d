package pgsuppression_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/suppression/suppressiontest"
)

var (
	_ suppressiontest.Store   = (*pgsuppression.Store)(nil)
	_ suppressiontest.Stopper = (*pgsuppression.Store)(nil)
)

// open opens a store on a new schema of t's.
func open(t testing.TB, now func() time.Time) *pgsuppression.Store {
	t.Helper()
	s, err := pgsuppression.Open(context.Background(), pgtest.Pool(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	s.Now = now
	return s
}

func TestConformance(t *testing.T) {
	suppressiontest.Run(t, func(t *testing.T, now func() time.Time) suppressiontest.Store {
		return open(t, now)
	})
}

// TestOpenConcurrent opens stores from several nodes, each with its own
// pool, on one empty schema at the same moment: every open succeeds and
// the table is created once.
func TestOpenConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	config := pgtest.Config(t)
	const nodes = 5
	pools := make([]*pgxpool.Pool, nodes)
	for i := range pools {
		pools[i] = pgtest.Open(t, config.Copy())
		if err := pools[i].Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
	}
	start := make(chan struct{})
	errs := make(chan error, nodes)
	var wg sync.WaitGroup
	for _, pool := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := pgsuppression.Open(ctx, pool)
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("open: %v", err)
		}
	}
	var versions []int64
	rows, err := pools[0].Query(ctx, `SELECT version FROM bouncekit_migrations WHERE component = 'suppression' ORDER BY version`)
	tcheck(t, err, "query versions")
	versions, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	tcheck(t, err, "versions")
	if !slices.Equal(versions, []int64{1}) {
		t.Fatalf("versions applied: %v, want [1]", versions)
	}

	// Two nodes, one list: an address suppressed through one is
	// suppressed on the other.
	a, err := pgsuppression.Open(ctx, pools[1])
	tcheck(t, err, "open a")
	b, err := pgsuppression.Open(ctx, pools[2])
	tcheck(t, err, "open b")
	if _, _, err := a.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com"}); err != nil {
		t.Fatalf("add on a: %v", err)
	}
	if _, ok, err := b.Stop(ctx, "acc", "John+x@example.com"); err != nil || !ok {
		t.Fatalf("stop on b: ok %v, err %v", ok, err)
	}
}

func tcheck(t *testing.T, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

// TestTimes checks that times are kept to the microsecond, in UTC, and that
// Add returns them as stored.
func TestTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("x", 3600))
	s := open(t, func() time.Time { return now })
	e, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com", ExpiresAt: now.Add(time.Hour)})
	tcheck(t, err, "add")
	got, ok, err := s.Lookup(ctx, "acc", "john@example.com")
	if err != nil || !ok {
		t.Fatalf("lookup: ok %v, err %v", ok, err)
	}
	want := now.Truncate(time.Microsecond).UTC()
	for _, x := range []suppression.Entry{e, got} {
		if x.Created != want || x.LastSeen != want || x.ExpiresAt != want.Add(time.Hour) || !x.LastHit.IsZero() {
			t.Fatalf("times: created %v, last seen %v, expires %v, last hit %v; want %v", x.Created, x.LastSeen, x.ExpiresAt, x.LastHit, want)
		}
	}
}

// TestInCallersTransaction uses a pgx.Tx as the store's DB: the store's
// changes commit or roll back with the caller's, and a listed address is
// refreshed in a savepoint of it.
func TestInCallersTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, nil)
	for _, commit := range []bool{false, true} {
		tx, err := s.DB.Begin(ctx)
		tcheck(t, err, "begin")
		inTx := &pgsuppression.Store{DB: tx}
		for range 2 {
			if _, _, err := inTx.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com"}); err != nil {
				t.Fatalf("add in transaction: %v", err)
			}
		}
		// A refused import changes nothing and leaves the caller's
		// transaction usable.
		if _, err := inTx.Import(ctx, strings.NewReader("account,address\nacc,jane@example.com\nacc,bad@\n")); err == nil {
			t.Fatalf("import of a bad row: no error")
		}
		if _, ok, err := inTx.Lookup(ctx, "acc", "john@example.com"); err != nil || !ok {
			t.Fatalf("lookup in transaction: ok %v, err %v", ok, err)
		}
		if commit {
			tcheck(t, tx.Commit(ctx), "commit")
		} else {
			tcheck(t, tx.Rollback(ctx), "rollback")
		}
		_, ok, err := s.Lookup(ctx, "acc", "john@example.com")
		tcheck(t, err, "lookup")
		if ok != commit {
			t.Fatalf("after commit %v: found %v", commit, ok)
		}
	}
}

func TestOpenNoDB(t *testing.T) {
	if _, err := pgsuppression.Open(context.Background(), nil); err == nil {
		t.Fatalf("open without a database: no error")
	}
}

// TestText checks that entries with what PostgreSQL's text cannot hold are
// refused as invalid, not sent to the server.
func TestText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, nil)
	tests := []suppression.Entry{
		{Account: "a\xffb", OriginalAddress: "john@example.com"},
		{Account: "acc", OriginalAddress: "john@example.com", Reason: "a\x00b"},
		{Account: "acc", OriginalAddress: "john@example.com", Reason: "a\xffb"},
		{Account: "acc", OriginalAddress: "john@example.com", EnhancedCode: "5.1.1\x00"},
	}
	for _, e := range tests {
		if _, _, err := s.Add(ctx, e); !errors.Is(err, suppression.ErrInvalid) {
			t.Errorf("add %+v: %v, want ErrInvalid", e, err)
		}
	}
	// Lookups in accounts no entry can have find nothing (the conformance
	// suite checks the same of every store).
	if _, ok, err := s.Stop(ctx, "a\xffb", "john@example.com"); ok || err != nil {
		t.Errorf("stop in an account of invalid UTF-8: ok %v, err %v; want nothing", ok, err)
	}
	if n, err := s.Count(ctx, suppression.Filter{}); err != nil || n != 0 {
		t.Fatalf("count: %d, %v; want 0", n, err)
	}
}
