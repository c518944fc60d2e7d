package pgsent

import (
	"context"

	"github.com/bouncekit/bouncekit/postgres/migrate"
)

// component names this package's migrations in bouncekit_migrations.
const component = "sent"

// migrations of the table, by version (index + 1). Never change one that
// has been released: add a new one at the end.
var migrations = []string{
	// 1: the table. Empty keys are not indexed: most messages have no
	// ENVID, and a lookup never asks for an empty key.
	`CREATE TABLE bouncekit_sent (
		node text NOT NULL,
		msg_id bigint NOT NULL,
		base_id bigint NOT NULL,
		account text NOT NULL,
		sender_address text NOT NULL,
		recipient_address text NOT NULL,
		orcpt text NOT NULL,
		from_id text NOT NULL,
		env_id text NOT NULL,
		message_id text NOT NULL,
		subject text NOT NULL,
		queued timestamptz,
		keep_until timestamptz,
		PRIMARY KEY (node, msg_id)
	);
	CREATE INDEX bouncekit_sent_from_id ON bouncekit_sent (from_id) WHERE from_id <> '';
	CREATE INDEX bouncekit_sent_env_id ON bouncekit_sent (env_id) WHERE env_id <> '';
	CREATE INDEX bouncekit_sent_message_id ON bouncekit_sent (message_id) WHERE message_id <> '';
	CREATE INDEX bouncekit_sent_submission ON bouncekit_sent (node, base_id);
	CREATE INDEX bouncekit_sent_keep_until ON bouncekit_sent (keep_until) WHERE keep_until IS NOT NULL;`,
}

// migrateSchema brings the table to the current version; see Open.
func migrateSchema(ctx context.Context, db migrate.Beginner) error {
	_, err := migrate.Apply(ctx, db, component, migrations)
	return err
}
