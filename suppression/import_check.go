package suppression

import (
	"io"
	"time"

	"github.com/mjl-/bstore"
)

// ImportCheckTx is ImportTx with a check of every entry, after all rows
// were read and before anything is written: an error from check becomes
// an *ImportError with the row's line and nothing is written. A caller
// importing for one account checks that every row names it. The entry
// passed has its BaseAddress computed. A nil check checks nothing.
func (s *Store) ImportCheckTx(tx *bstore.Tx, r io.Reader, now time.Time, check func(Entry) error) (ImportResult, error) {
	entries, err := readCSV(r, s.Normalizer, now)
	if err != nil {
		return ImportResult{}, err
	}
	if check != nil {
		for _, e := range entries {
			if err := check(e.Entry); err != nil {
				return ImportResult{}, &ImportError{e.Line, err}
			}
		}
	}
	res := ImportResult{Rows: len(entries)}
	for _, e := range entries {
		_, added, err := s.AddTx(tx, e.Entry, now)
		if err != nil {
			return ImportResult{}, &ImportError{e.Line, err}
		}
		if added {
			res.Added++
		} else {
			res.Updated++
		}
	}
	return res, nil
}
