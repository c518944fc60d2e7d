package relay

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bouncekit/bouncekit/postgres/migrate"
)

// component names this package's migrations in bouncekit_migrations.
const component = "relay"

// migrations of the relay's table, by version (index + 1). Never change
// one that has been released: add a new one at the end.
var migrations = []string{
	// 1: per node and outbox (Outbox.Token), the ID of the last
	// suppression intent applied, written in the transaction that applies
	// it, so a replayed intent is skipped.
	`CREATE TABLE bouncekit_relay (
		node text NOT NULL,
		token text NOT NULL,
		suppression_applied bigint NOT NULL,
		PRIMARY KEY (node, token)
	);`,
}

// migrateSchema creates or upgrades the relay's table.
func migrateSchema(ctx context.Context, db migrate.Beginner) error {
	if _, err := migrate.Apply(ctx, db, component, migrations); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	return nil
}

// lockApplied locks the row of node's outbox with token in tx, creating
// it, and returns the ID of the last suppression intent applied.
func lockApplied(ctx context.Context, tx pgx.Tx, node, token string) (int64, error) {
	var applied int64
	q := `INSERT INTO bouncekit_relay (node, token, suppression_applied) VALUES ($1, $2, 0)
		ON CONFLICT (node, token) DO UPDATE SET node = EXCLUDED.node RETURNING suppression_applied`
	if err := tx.QueryRow(ctx, q, node, token).Scan(&applied); err != nil {
		return 0, fmt.Errorf("relay: locking the applied mark: %w", err)
	}
	return applied, nil
}

// setApplied records id as the last suppression intent applied of node's
// outbox with token.
func setApplied(ctx context.Context, tx pgx.Tx, node, token string, id int64) error {
	if _, err := tx.Exec(ctx, `UPDATE bouncekit_relay SET suppression_applied = $3 WHERE node = $1 AND token = $2`, node, token, id); err != nil {
		return fmt.Errorf("relay: setting the applied mark: %w", err)
	}
	return nil
}
