package migrate_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/migrate"
)

// Each migration fails when run twice: CREATE TABLE without IF NOT EXISTS.
var migrations = []string{
	`CREATE TABLE a (id bigint PRIMARY KEY)`,
	`CREATE TABLE b (id bigint PRIMARY KEY); ALTER TABLE a ADD COLUMN name text NOT NULL DEFAULT ''`,
	`CREATE INDEX a_name ON a (name)`,
}

func version(t *testing.T, db migrate.Beginner, component string) int64 {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback(ctx)
	var v int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM bouncekit_migrations WHERE component = $1`, component).Scan(&v); err != nil {
		t.Fatalf("reading version: %v", err)
	}
	return v
}

func TestApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.Pool(t)

	tests := []struct {
		name       string
		component  string
		migrations []string
		applied    []int64
		err        error
		version    int64
	}{
		{"empty database", "x", migrations[:2], []int64{1, 2}, nil, 2},
		{"current", "x", migrations[:2], nil, nil, 2},
		{"one more", "x", migrations, []int64{3}, nil, 3},
		{"other component", "y", []string{`CREATE TABLE y (id bigint)`}, []int64{1}, nil, 1},
		{"older code", "x", migrations[:2], nil, migrate.ErrNewer, 3},
		{"failing migration", "x", append(slices.Clone(migrations), `CREATE TABLE c (id bigint)`, `SELECT no_such_function()`), nil, nil, 3},
		{"after the failure", "x", append(slices.Clone(migrations), `CREATE TABLE c (id bigint)`), []int64{4}, nil, 4},
	}
	for _, tc := range tests {
		applied, err := migrate.Apply(ctx, db, tc.component, tc.migrations)
		if tc.name == "failing migration" {
			if err == nil {
				t.Fatalf("%s: no error", tc.name)
			}
		} else if !errors.Is(err, tc.err) {
			t.Fatalf("%s: error %v, want %v", tc.name, err, tc.err)
		}
		if !slices.Equal(applied, tc.applied) {
			t.Fatalf("%s: applied %v, want %v", tc.name, applied, tc.applied)
		}
		if v := version(t, db, tc.component); v != tc.version {
			t.Fatalf("%s: version %d, want %d", tc.name, v, tc.version)
		}
	}
	if _, err := migrate.Apply(ctx, db, "", migrations); err == nil {
		t.Fatalf("empty component name: no error")
	}
}

// TestApplyConcurrent starts several nodes, each with its own pool, against
// one empty schema at the same moment: every migration is applied once,
// and no node fails.
func TestApplyConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	config := pgtest.Config(t)
	const nodes = 6
	start := make(chan struct{})
	var wg sync.WaitGroup
	applied := make([][]int64, nodes)
	errs := make([]error, nodes)
	for i := 0; i < nodes; i++ {
		db := pgtest.Open(t, config.Copy())
		// A connection ready before the start, so that the nodes meet at
		// the lock rather than at connecting.
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			applied[i], errs[i] = migrate.Apply(ctx, db, "x", migrations)
		}()
	}
	close(start)
	wg.Wait()
	var all []int64
	for i := range applied {
		if errs[i] != nil {
			t.Errorf("node %d: %v", i, errs[i])
		}
		all = append(all, applied[i]...)
	}
	slices.Sort(all)
	if !slices.Equal(all, []int64{1, 2, 3}) {
		t.Fatalf("versions applied by all nodes together: %v, want each once", all)
	}
	if v := version(t, pgtest.Open(t, config.Copy()), "x"); v != 3 {
		t.Fatalf("version %d, want 3", v)
	}
}
