package pgtest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// planSettings make the planner show which index a query can use: no
// sequential scan while another way exists (a test table is small enough
// for a scan to win), and the generic plan, the one a prepared statement
// with parameters gets, not one made for the arguments at hand.
var planSettings = []string{"SET LOCAL enable_seqscan = off", "SET LOCAL plan_cache_mode = force_generic_plan"}

// planSeq names the statements GenericPlan prepares.
var planSeq atomic.Int64

// GenericPlan returns the text of the plan PostgreSQL uses for query, a
// statement with parameters ($1, ...), executed with args, a
// comma-separated list of SQL literals, in tx. The statement is prepared
// in SQL and explained with the literals: EXPLAIN of a query with
// parameters would plan it for their values (a custom plan). It applies
// the plan settings to tx (SET LOCAL) first.
func GenericPlan(ctx context.Context, tx pgx.Tx, query, args string) (string, error) {
	for _, s := range planSettings {
		if _, err := tx.Exec(ctx, s); err != nil {
			return "", err
		}
	}
	name := fmt.Sprintf("bouncekit_plan%d", planSeq.Add(1))
	if _, err := tx.Exec(ctx, "PREPARE "+name+" AS "+query); err != nil {
		return "", err
	}
	rows, err := tx.Query(ctx, "EXPLAIN EXECUTE "+name+"("+args+")", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}
