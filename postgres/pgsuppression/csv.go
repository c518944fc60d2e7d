package pgsuppression

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/bouncekit/bouncekit/suppression"
)

// Export writes all entries matching f, oldest first, as CSV in the format
// of suppression.Store.ExportTx (suppression.WriteCSV), and returns the
// number of entries written. The entries are those of one snapshot: one
// query.
func (s *Store) Export(ctx context.Context, w io.Writer, f suppression.Filter) (int, error) {
	cond, args := where(f)
	rows, err := s.DB.Query(ctx, `SELECT `+columns+` FROM bouncekit_suppression`+cond+` ORDER BY id`, args...)
	if err != nil {
		return 0, fmt.Errorf("pgsuppression: export: %w", err)
	}
	defer rows.Close()
	return suppression.WriteCSV(w, func(fn func(suppression.Entry) error) error {
		for rows.Next() {
			e, err := scan(rows)
			if err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// Import reads a CSV list (the format of suppression.Store.ImportTx,
// suppression.ReadCSV) and adds every row as Add does, in one transaction:
// all rows or none. A bad row gives a *suppression.ImportError with its
// line number before anything is written.
func (s *Store) Import(ctx context.Context, r io.Reader) (res suppression.ImportResult, err error) {
	now := s.now()
	rows, err := suppression.ReadCSV(r, s.Normalizer, now)
	if err != nil {
		return suppression.ImportResult{}, err
	}
	err = pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		res = suppression.ImportResult{Rows: len(rows)}
		for _, row := range rows {
			_, added, err := s.add(ctx, tx, row.Entry, now)
			if err != nil {
				return &suppression.ImportError{Line: row.Line, Err: err}
			}
			if added {
				res.Added++
			} else {
				res.Updated++
			}
		}
		return nil
	})
	if err != nil {
		return suppression.ImportResult{}, err
	}
	return res, nil
}
