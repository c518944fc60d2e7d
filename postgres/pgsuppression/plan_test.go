package pgsuppression_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/suppression"
)

// TestQueryPlans checks that a lookup and Cleanup use their indexes in
// the generic plan of a prepared statement (pgx prepares them, and
// PostgreSQL may switch to the generic plan after a few executions), and
// that a page of a small account is read from an index on account in the
// plan of List's unnamed statement, not along the primary key,
// which would step over every other account's entries. Sequential scans
// are turned off, so an index is chosen whenever one is usable.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, nil)
	tests := []struct {
		name, query string
		args        string // SQL literals.
		index       string
	}{
		{"lookup", pgsuppression.GetQuery, "'acc1', 'u1@example.com'", "bouncekit_suppression_account_base_address_key"},
		{"cleanup", pgsuppression.CleanupQuery, "'2025-03-01T12:00:00Z'", "bouncekit_suppression_expires"},
	}
	pages := []struct {
		name string
		p    paging.Page
	}{
		{"first page", paging.Page{}},
		{"later page", paging.Page{After: 5}},
		{"newest page", paging.Page{After: 5000, Newest: true}},
	}
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		// Statistics of a list: 20 large accounts and a small one, a
		// tenth of the entries expiring.
		fill := `INSERT INTO bouncekit_suppression (account, base_address, original_address, original_lower, reason, category, source, code, enhanced_code, created, last_seen, hits, expires_at)
			SELECT CASE WHEN i % 1000 = 0 THEN 'small' ELSE 'acc' || (i % 20) END, 'u' || i || '@example.com', 'u' || i || '@example.com', 'u' || i || '@example.com', '', 'manual', 'api', 0, '', now(), now(), 0,
				CASE WHEN i % 10 = 0 THEN now() + interval '1 day' END
			FROM generate_series(1, 5000) AS i`
		for _, q := range []string{fill, "ANALYZE bouncekit_suppression"} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		for _, tc := range tests {
			// GenericPlan also turns sequential scans off for the
			// page plans below.
			plan, err := pgtest.GenericPlan(ctx, tx, tc.query, tc.args)
			if err != nil {
				return err
			}
			if !slices.Contains(strings.Fields(plan), tc.index) {
				t.Errorf("%s: plan does not use %s:\n%s", tc.name, tc.index, plan)
			}
		}
		for _, pc := range pages {
			q, args := pgsuppression.ListQuery(suppression.Filter{Account: "small"}, pc.p)
			rows, err := tx.Query(ctx, "EXPLAIN "+q, append([]any{pgx.QueryExecModeExec}, args...)...)
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			plan := strings.Join(lines, "\n")
			fields := strings.Fields(plan)
			if slices.Contains(fields, "bouncekit_suppression_pkey") || !slices.Contains(fields, "(account") {
				t.Errorf("%s of a small account: plan does not read the account's entries by an index on account:\n%s", pc.name, plan)
			}
		}
		return nil
	})
	tcheck(t, err, "explain")
}
