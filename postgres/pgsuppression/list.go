package pgsuppression

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/suppression"
)

// custom makes pgx run a statement unnamed, so that PostgreSQL plans it
// with its arguments each time. A cached (named) statement may get a
// generic plan that reads an account's page along the primary key,
// stepping over every other account's entries, because it cannot see
// that the account is a small one (plan_test.go). The filters vary the
// text of these statements anyway.
const custom = pgx.QueryExecModeExec

// where returns the WHERE clause of f, empty when f selects everything,
// and its arguments.
func where(f suppression.Filter) (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	// Text that no entry can hold (invalid UTF-8, NUL) matches nothing;
	// PostgreSQL would refuse it as an argument.
	for _, v := range []string{f.Account, string(f.Category), string(f.Source), f.Search} {
		if checkText("filter", v) != nil {
			return " WHERE FALSE", nil
		}
	}
	if f.Account != "" {
		conds = append(conds, "account = "+arg(f.Account))
	}
	if f.Category != "" {
		conds = append(conds, "category = "+arg(string(f.Category)))
	}
	if f.Source != "" {
		conds = append(conds, "source = "+arg(string(f.Source)))
	}
	if !f.CreatedAfter.IsZero() {
		conds = append(conds, "created >= "+arg(timestamp(f.CreatedAfter)))
	}
	if !f.CreatedBefore.IsZero() {
		conds = append(conds, "created < "+arg(timestamp(f.CreatedBefore)))
	}
	if f.Search != "" {
		// strpos, not LIKE: the search is literal text, "%" and "_"
		// included. Lowercased by Go, as original_lower is.
		p := arg(strings.ToLower(f.Search))
		conds = append(conds, "(strpos(base_address, "+p+") > 0 OR strpos(original_lower, "+p+") > 0)")
	}
	if !f.ActiveAt.IsZero() {
		conds = append(conds, "(expires_at IS NULL OR expires_at > "+arg(timestamp(f.ActiveAt))+")")
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// List returns a page of the entries matching f, ordered by ID, and the
// cursor of the next page (0 after the last), with the paging of
// suppression.Store.ListTx: IDs never change and new entries get higher
// ones, so no entry is listed twice or skipped. With an Account filter a
// page is read from the index on (account, id), from the cursor on.
func (s *Store) List(ctx context.Context, f suppression.Filter, p paging.Page) ([]suppression.Entry, int64, error) {
	size := p.Size()
	q, args := listQuery(f, p)
	rows, err := s.DB.Query(ctx, q, append([]any{custom}, args...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("pgsuppression: listing: %w", err)
	}
	defer rows.Close()
	var entries []suppression.Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("pgsuppression: listing: %w", err)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("pgsuppression: listing: %w", err)
	}
	var next int64
	if len(entries) > size {
		entries = entries[:size]
		next = entries[size-1].ID
	}
	return entries, next, nil
}

// Count returns the number of entries matching f.
func (s *Store) Count(ctx context.Context, f suppression.Filter) (int, error) {
	cond, args := where(f)
	var n int64
	if err := s.DB.QueryRow(ctx, `SELECT count(*) FROM bouncekit_suppression`+cond, append([]any{custom}, args...)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgsuppression: counting: %w", err)
	}
	return int(n), nil
}

// listQuery returns the query of a page of List and its arguments.
func listQuery(f suppression.Filter, p paging.Page) (string, []any) {
	cond, args := where(f)
	if p.After > 0 {
		op := ">"
		if p.Newest {
			op = "<"
		}
		args = append(args, p.After)
		c := fmt.Sprintf("id %s $%d", op, len(args))
		if cond == "" {
			cond = " WHERE " + c
		} else {
			cond += " AND " + c
		}
	}
	order := "ASC"
	if p.Newest {
		order = "DESC"
	}
	// One more than the page, to learn whether another page follows.
	args = append(args, p.Size()+1)
	return fmt.Sprintf(`SELECT %s FROM bouncekit_suppression%s ORDER BY id %s LIMIT $%d`, columns, cond, order, len(args)), args
}
