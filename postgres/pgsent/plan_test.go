package pgsent_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/pgsent"
)

// TestQueryPlans checks that each lookup can use its index in the generic
// plan of a prepared statement (pgx prepares them, and PostgreSQL may
// switch to the generic plan after a few executions): the partial indexes are
// usable only when the query implies their condition (a key not empty). Sequential
// scans are turned off, so an index is chosen whenever one is usable.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := open(t)
	tests := []struct {
		name, query string
		args        string // SQL literals.
		index       string
	}{
		{"fromid", pgsent.ByQuery("from_id"), "'x', '', 10", "bouncekit_sent_from_id"},
		{"envid", pgsent.ByQuery("env_id"), "'x', 'a', 10", "bouncekit_sent_env_id"},
		{"message-id", pgsent.ByQuery("message_id"), "'x', '', 10", "bouncekit_sent_message_id"},
		{"submission", pgsent.SubmissionQuery, "'a', 1, 10", "bouncekit_sent_submission"},
		{"cleanup", pgsent.CleanupQuery, "'2025-03-01T12:00:00Z'", "bouncekit_sent_keep_until"},
	}
	err := pgx.BeginFunc(ctx, x.DB, func(tx pgx.Tx) error {
		for _, tc := range tests {
			plan, err := pgtest.GenericPlan(ctx, tx, tc.query, tc.args)
			if err != nil {
				return err
			}
			if !slices.Contains(strings.Fields(plan), tc.index) {
				t.Errorf("%s: plan does not use %s:\n%s", tc.name, tc.index, plan)
			}
		}
		return nil
	})
	tcheck(t, err, "explain")
}
