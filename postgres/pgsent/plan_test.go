package pgsent_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

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
		for _, s := range []string{"SET LOCAL enable_seqscan = off", "SET LOCAL plan_cache_mode = force_generic_plan"} {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		for i, tc := range tests {
			// A statement prepared in SQL and explained with literal
			// arguments: EXPLAIN of a query with parameters would plan
			// it with their values (a custom plan).
			name := fmt.Sprintf("plan%d", i)
			if _, err := tx.Exec(ctx, "PREPARE "+name+" AS "+tc.query); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "EXPLAIN EXECUTE "+name+"("+tc.args+")", pgx.QueryExecModeSimpleProtocol)
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			plan := strings.Join(lines, "\n")
			if !slices.Contains(strings.Fields(plan), tc.index) {
				t.Errorf("%s: plan does not use %s:\n%s", tc.name, tc.index, plan)
			}
		}
		return nil
	})
	tcheck(t, err, "explain")
}
