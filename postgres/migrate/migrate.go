// Package migrate creates and upgrades the PostgreSQL tables of bouncekit's
// stores with versioned migrations, so that several nodes can start against
// one database at the same moment.
//
// A component (such as "suppression") has a list of migrations; migration i
// (0-based) is version i+1 and, once applied, never changes: a new schema
// is a new migration at the end of the list. The versions applied are rows
// of the table bouncekit_migrations in the connection's current schema
// (search_path), one per component and version.
//
// Apply runs in one transaction that first takes a transaction-level
// advisory lock (pg_advisory_xact_lock) on a key of the current schema.
// Nodes that start together wait for each other there: the first applies
// what is missing and commits, the others then find nothing to do. Creating
// the versions table happens under the same lock, since two concurrent
// CREATE TABLE IF NOT EXISTS can both try to create it. A failed migration
// rolls back every migration of the call with it, since PostgreSQL's DDL is
// transactional.
package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrNewer is returned when the database has a version of a component
// that this code does not know: a newer node migrated it. Running older
// code against a newer schema could write what the newer code does not
// expect, so Apply refuses.
var ErrNewer = errors.New("migrate: database schema is newer than this code")

// Beginner starts a transaction: a *pgxpool.Pool, a *pgx.Conn, or a pgx.Tx
// (a savepoint inside the caller's transaction).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Apply brings component's tables to the last version of migrations, in
// one transaction under an advisory lock; see the package doc. It returns
// the versions it applied, none when the schema was current.
func Apply(ctx context.Context, db Beginner, component string, migrations []string) (applied []int64, err error) {
	if component == "" {
		return nil, errors.New("migrate: empty component name")
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			// The error that matters is err; a failed rollback of a
			// failed transaction adds nothing.
			_ = tx.Rollback(ctx)
		}
	}()

	// One key per schema: tests (and hosts) that keep separate lists in
	// separate schemas of one database do not wait for each other.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('bouncekit migrate ' || current_schema()))`); err != nil {
		return nil, fmt.Errorf("migrate: taking the advisory lock: %w", err)
	}
	const create = `CREATE TABLE IF NOT EXISTS bouncekit_migrations (
		component text NOT NULL,
		version bigint NOT NULL,
		applied timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (component, version)
	)`
	if _, err := tx.Exec(ctx, create); err != nil {
		return nil, fmt.Errorf("migrate: creating the versions table: %w", err)
	}
	var current int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM bouncekit_migrations WHERE component = $1`, component).Scan(&current); err != nil {
		return nil, fmt.Errorf("migrate: reading the version of %s: %w", component, err)
	}
	if current > int64(len(migrations)) {
		return nil, fmt.Errorf("%w: %s is at version %d, this code knows %d", ErrNewer, component, current, len(migrations))
	}
	for v := current + 1; v <= int64(len(migrations)); v++ {
		if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
			return nil, fmt.Errorf("migrate: %s version %d: %w", component, v, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bouncekit_migrations (component, version) VALUES ($1, $2)`, component, v); err != nil {
			return nil, fmt.Errorf("migrate: recording %s version %d: %w", component, v, err)
		}
		applied = append(applied, v)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("migrate: commit: %w", err)
	}
	return applied, nil
}
