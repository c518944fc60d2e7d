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
	rows, err := s.DB.Query(ctx, `SELECT `+columns+` FROM bouncekit_suppression`+cond+` ORDER BY id`, append([]any{custom}, args...)...)
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
// line number, and nothing is written. It is ImportCheck without a check.
func (s *Store) Import(ctx context.Context, r io.Reader) (suppression.ImportResult, error) {
	return s.ImportCheck(ctx, r, nil)
}

// ImportCheck is Import with a check of every entry, as
// suppression.Store.ImportCheckTx: after all rows were read and before
// anything is written, check is called with each row's entry (its base
// address computed); an error from it becomes a *suppression.ImportError
// with the row's line, and nothing is written. A caller importing for one
// account checks that every row names it (webapi's SuppressionImport). A
// nil check checks nothing.
//
// The rows are first inserted together (one pipelined batch of INSERT ...
// ON CONFLICT DO NOTHING); the rows whose address was taken, by an entry
// or by an earlier row, are then added one by one in file order. Rows of
// one address thus apply in the order of the file, as with the bstore
// store.
func (s *Store) ImportCheck(ctx context.Context, r io.Reader, check func(suppression.Entry) error) (res suppression.ImportResult, err error) {
	now := s.now()
	rows, err := suppression.ReadCSV(r, s.Normalizer, now)
	if err != nil {
		return suppression.ImportResult{}, err
	}
	if check != nil {
		for _, row := range rows {
			if err := check(row.Entry); err != nil {
				return suppression.ImportResult{}, &suppression.ImportError{Line: row.Line, Err: err}
			}
		}
	}
	entries := make([]suppression.Entry, len(rows))
	for i, row := range rows {
		entries[i], err = s.prepare(row.Entry, now)
		if err != nil {
			return suppression.ImportResult{}, &suppression.ImportError{Line: row.Line, Err: err}
		}
	}
	err = pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		res = suppression.ImportResult{Rows: len(rows)}
		batch := &pgx.Batch{}
		for _, e := range entries {
			batch.Queue(insertQuery, insertArgs(e)...)
		}
		results := tx.SendBatch(ctx, batch)
		var taken []int
		for i := range entries {
			id, err := insertID(results.QueryRow())
			if err != nil {
				results.Close()
				return &suppression.ImportError{Line: rows[i].Line, Err: err}
			}
			if id == 0 {
				taken = append(taken, i)
			} else {
				res.Added++
			}
		}
		if err := results.Close(); err != nil {
			return fmt.Errorf("pgsuppression: import: %w", err)
		}
		for _, i := range taken {
			_, added, err := s.addTx(ctx, tx, entries[i], now)
			if err != nil {
				return &suppression.ImportError{Line: rows[i].Line, Err: err}
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
