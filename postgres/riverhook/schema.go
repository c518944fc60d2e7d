package riverhook

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/bouncekit/bouncekit/postgres/migrate"
)

// component names this package's migrations in bouncekit_migrations.
const component = "riverhook"

// migrations of our tables, by version (index + 1), applied after River's.
// Never change one that has been released: add a new one at the end.
var migrations = []string{
	// 1: attempt records, one per request an endpoint saw, and the index
	// that pages an account's webhooks in River's table by ID. The index
	// is on River's table because the filter is on our part of it (args);
	// it is partial, so other kinds of jobs do not pay for it. Records go
	// with their job when River's cleaner removes it (ON DELETE CASCADE).
	`CREATE TABLE bouncekit_hook_attempt (
		id bigserial PRIMARY KEY,
		job_id bigint NOT NULL REFERENCES river_job (id) ON DELETE CASCADE,
		node text NOT NULL,
		outcome text NOT NULL,
		result jsonb NOT NULL
	);
	CREATE INDEX bouncekit_hook_attempt_job ON bouncekit_hook_attempt (job_id, id);
	CREATE INDEX bouncekit_hook_account ON river_job ((args->>'account'), id) WHERE kind = 'bouncekit_webhook';`,
}

// migrateSchema brings River's tables and ours to the current version.
// River's migrations cannot all run in one transaction (one adds an enum
// value and uses it), and River's migrator takes no lock: so it runs
// under a session advisory lock held on a connection of its own, and
// nodes that start together wait for each other there. Ours then run with
// package migrate, in one transaction under its lock.
func migrateSchema(ctx context.Context, pool *pgxpool.Pool) error {
	if err := migrateRiver(ctx, pool); err != nil {
		return err
	}
	if _, err := migrate.Apply(ctx, pool, component, migrations); err != nil {
		return fmt.Errorf("riverhook: %w", err)
	}
	return nil
}

func migrateRiver(ctx context.Context, pool *pgxpool.Pool) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("riverhook: acquiring a connection: %w", err)
	}
	defer conn.Release()
	const key = `hashtext('bouncekit river migrate ' || current_schema())`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return fmt.Errorf("riverhook: taking the advisory lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`); uerr != nil && err == nil {
			err = fmt.Errorf("riverhook: releasing the advisory lock: %w", uerr)
		}
	}()
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("riverhook: river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("riverhook: migrating river's tables: %w", err)
	}
	return nil
}
