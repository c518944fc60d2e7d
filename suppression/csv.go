package suppression

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
)

// CSV columns of Export and Import, in Export's order. Import needs
// "account" and "address" (or only "base_address"); the other columns are
// optional and may come in any order. Times are RFC 3339, empty for zero.
const (
	ColumnAccount      = "account"
	ColumnAddress      = "address" // The original address.
	ColumnBaseAddress  = "base_address"
	ColumnCategory     = "category"
	ColumnSource       = "source"
	ColumnReason       = "reason"
	ColumnCode         = "code"
	ColumnEnhancedCode = "enhanced_code"
	ColumnCreated      = "created"
	ColumnLastSeen     = "last_seen"
	ColumnHits         = "hits"
	ColumnLastHit      = "last_hit"
	ColumnExpiresAt    = "expires_at"
)

// Columns returns the CSV columns in Export's order.
func Columns() []string {
	return []string{
		ColumnAccount, ColumnAddress, ColumnBaseAddress, ColumnCategory, ColumnSource,
		ColumnReason, ColumnCode, ColumnEnhancedCode, ColumnCreated, ColumnLastSeen,
		ColumnHits, ColumnLastHit, ColumnExpiresAt,
	}
}

// ImportError is a problem with one line of an import. Nothing of the
// import was written.
type ImportError struct {
	Line int // 1-based; the header is line 1.
	Err  error
}

func (e *ImportError) Error() string {
	return fmt.Sprintf("suppression: import: line %d: %s", e.Line, e.Err)
}

func (e *ImportError) Unwrap() error { return e.Err }

// ImportResult tells what an import did.
type ImportResult struct {
	Rows    int // Data rows read.
	Added   int // Entries that came into effect.
	Updated int // Existing entries refreshed.
}

// Export writes the entries matching f as CSV; see ExportTx.
func (s *Store) Export(ctx context.Context, w io.Writer, f Filter) (n int, err error) {
	err = s.read(ctx, func(tx *bstore.Tx) error {
		n, err = s.ExportTx(tx, w, f)
		return err
	})
	return
}

// ExportTx writes all entries matching f, oldest first, as
// CSV (RFC 4180, CRLF line ends) with a header row of Columns, and returns
// the number of entries written.
func (s *Store) ExportTx(tx *bstore.Tx, w io.Writer, f Filter) (int, error) {
	return WriteCSV(w, f.query(tx).SortAsc(FieldID).ForEach)
}

func formatInt(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// Import reads a CSV list into the store in one transaction; see ImportTx.
func (s *Store) Import(ctx context.Context, r io.Reader) (res ImportResult, err error) {
	err = s.write(ctx, func(tx *bstore.Tx) error {
		res, err = s.ImportTx(tx, r, s.now())
		return err
	})
	return
}

// ImportTx reads CSV (RFC 4180, with a header row naming Columns) and adds
// every row with AddTx, so rows for existing entries refresh them. Empty
// category and source mean CategoryImport and SourceImport, empty created
// means now; account and address must not be empty. The base_address column is not trusted: base addresses are
// computed with the Store's Normalizer from address (or from base_address
// when there is no address).
//
// All rows are read and checked before anything is written: a bad row
// gives an *ImportError with its line number and the transaction is left
// unchanged. A record (a row with its quoted line breaks) longer than
// about 64 KiB is a bad row: a line that never ends is not buffered whole. Errors while writing leave the transaction changed; the caller
// must roll it back (Import does).
func (s *Store) ImportTx(tx *bstore.Tx, r io.Reader, now time.Time) (ImportResult, error) {
	return s.ImportCheckTx(tx, r, now, nil)
}

// readCSV parses and checks all rows of an import.
func readCSV(r io.Reader, n Normalizer, now time.Time) ([]ImportRow, error) {
	lr := &recordLimiter{r: r}
	cr := csv.NewReader(lr)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ImportError{1, errors.New("no header row")}
	} else if err != nil {
		return nil, csvError(err, 1)
	}
	lr.n = 0
	cols := map[string]int{}
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF") // Byte order mark written by spreadsheets.
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if !slices.Contains(Columns(), name) {
			return nil, &ImportError{1, fmt.Errorf("unknown column %q", name)}
		}
		if _, ok := cols[name]; ok {
			return nil, &ImportError{1, fmt.Errorf("duplicate column %q", name)}
		}
		cols[name] = i
	}
	if _, ok := cols[ColumnAccount]; !ok {
		return nil, &ImportError{1, fmt.Errorf("missing column %q", ColumnAccount)}
	}
	_, hasAddr := cols[ColumnAddress]
	_, hasBase := cols[ColumnBaseAddress]
	if !hasAddr && !hasBase {
		return nil, &ImportError{1, fmt.Errorf("missing column %q", ColumnAddress)}
	}

	var entries []ImportRow
	line := 1
	for {
		record, err := cr.Read()
		if err == io.EOF {
			return entries, nil
		} else if err != nil {
			return nil, csvError(err, line+1)
		}
		lr.n = 0
		line, _ = cr.FieldPos(0)
		e, err := parseRow(n, cols, record, now)
		if err != nil {
			return nil, &ImportError{line, err}
		}
		entries = append(entries, ImportRow{e, line})
	}
}

func csvError(err error, line int) error {
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return &ImportError{perr.Line, perr.Err}
	}
	if errors.Is(err, errRecordTooLong) {
		return &ImportError{line, err}
	}
	return fmt.Errorf("suppression: import: %w", err)
}

// maxImportRecord bounds the bytes of one CSV record. Entries have a dozen
// short fields; the csv package buffers a whole record, also one that never
// ends.
const maxImportRecord = 64 << 10

var errRecordTooLong = fmt.Errorf("record longer than %d bytes", maxImportRecord)

// recordLimiter fails reads once more than about maxImportRecord bytes were
// read since n was last reset, which readCSV does after each record. The
// csv reader's read-ahead buffer makes the limit inexact by its size.
type recordLimiter struct {
	r io.Reader
	n int
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.n >= maxImportRecord {
		return 0, errRecordTooLong
	}
	if len(p) > maxImportRecord-l.n {
		p = p[:maxImportRecord-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// parseRow turns one record into an entry with its base address computed.
func parseRow(n Normalizer, cols map[string]int, record []string, now time.Time) (Entry, error) {
	field := func(name string) string {
		if i, ok := cols[name]; ok {
			return strings.TrimSpace(record[i])
		}
		return ""
	}
	var err error
	parseTime := func(name string) time.Time {
		v := field(name)
		if v == "" || err != nil {
			return time.Time{}
		}
		t, perr := time.Parse(time.RFC3339Nano, v)
		if perr != nil {
			err = fmt.Errorf("column %s: %w", name, perr)
		}
		return t
	}
	parseInt := func(name string) int64 {
		v := field(name)
		if v == "" || err != nil {
			return 0
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 {
			err = fmt.Errorf("column %s: not a number: %q", name, v)
		}
		return n
	}

	// An enhanced code is checked and written in its canonical form.
	parseEnhancedCode := func(name string) string {
		v := field(name)
		if v == "" || err != nil {
			return ""
		}
		c, perr := bounce.ParseEnhancedCode(v)
		if perr != nil {
			err = fmt.Errorf("column %s: %w", name, perr)
		}
		return c.String()
	}

	e := Entry{
		Account:         field(ColumnAccount),
		OriginalAddress: field(ColumnAddress),
		Category:        Category(strings.ToLower(field(ColumnCategory))),
		Source:          Source(strings.ToLower(field(ColumnSource))),
		Reason:          field(ColumnReason),
		Code:            parseInt(ColumnCode),
		EnhancedCode:    parseEnhancedCode(ColumnEnhancedCode),
		Created:         parseTime(ColumnCreated),
		LastSeen:        parseTime(ColumnLastSeen),
		Hits:            parseInt(ColumnHits),
		LastHit:         parseTime(ColumnLastHit),
		ExpiresAt:       parseTime(ColumnExpiresAt),
	}
	if err != nil {
		return Entry{}, err
	}
	if e.OriginalAddress == "" {
		e.OriginalAddress = field(ColumnBaseAddress)
	}
	if e.OriginalAddress == "" {
		return Entry{}, errors.New("empty address")
	}
	if e.Account == "" {
		return Entry{}, errors.New("empty account")
	}
	if e.Category == "" {
		e.Category = CategoryImport
	}
	if e.Source == "" {
		e.Source = SourceImport
	}
	if !slices.Contains(Categories(), e.Category) {
		return Entry{}, fmt.Errorf("column %s: unknown category %q", ColumnCategory, e.Category)
	}
	if !slices.Contains(Sources(), e.Source) {
		return Entry{}, fmt.Errorf("column %s: unknown source %q", ColumnSource, e.Source)
	}
	base, err := Key(n, e.Account, e.OriginalAddress)
	if err != nil {
		return Entry{}, fmt.Errorf("column %s: %w", ColumnAddress, err)
	}
	e.BaseAddress = base
	if e.Created.IsZero() {
		e.Created = now
	}
	return e, nil
}
