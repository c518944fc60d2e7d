package suppression

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The functions in this file are the rules of a suppression list apart from
// its storage: the key, the defaults and checks of a new entry, how an
// existing entry is refreshed, what a failure adds, and the CSV format.
// Store uses them with bstore; other stores (the PostgreSQL one of the
// nested module github.com/bouncekit/bouncekit/postgres) use them so that a
// list behaves the same whatever keeps it.

// Key checks account and returns the base address of address that entries
// of account are keyed on, with n.
func Key(n Normalizer, account, address string) (string, error) {
	// bstore index strings and PostgreSQL text cannot hold a NUL byte.
	if strings.ContainsRune(account, 0) {
		return "", fmt.Errorf("%w: account contains a nul byte", ErrInvalid)
	}
	return n.Normalize(address)
}

// Prepare checks e and fills in what Store.AddTx fills in before it stores
// an entry: the base address computed with n from e.OriginalAddress
// (e.BaseAddress when that is empty), CategoryManual for an empty
// Category, SourceAPI for an empty Source, now for zero Created and
// LastSeen. An unknown category or source gives ErrInvalid.
func Prepare(n Normalizer, e Entry, now time.Time) (Entry, error) {
	if e.OriginalAddress == "" {
		e.OriginalAddress = e.BaseAddress
	}
	base, err := Key(n, e.Account, e.OriginalAddress)
	if err != nil {
		return Entry{}, err
	}
	e.BaseAddress = base
	if e.Category == "" {
		e.Category = CategoryManual
	}
	if e.Source == "" {
		e.Source = SourceAPI
	}
	if !slices.Contains(Categories(), e.Category) {
		return Entry{}, fmt.Errorf("%w: unknown category %q", ErrInvalid, e.Category)
	}
	if !slices.Contains(Sources(), e.Source) {
		return Entry{}, fmt.Errorf("%w: unknown source %q", ErrInvalid, e.Source)
	}
	if e.Created.IsZero() {
		e.Created = now
	}
	if e.LastSeen.IsZero() {
		e.LastSeen = now
	}
	return e, nil
}

// Refresh returns the entry to store when e (prepared) is added while old
// is stored under the same key, with old's ID, and whether that counts as
// added: an entry that had expired at now is replaced by e as if new (added
// true), an entry in effect is merged with e (Merge, added false).
func Refresh(old, e Entry, now time.Time) (Entry, bool) {
	if !old.Active(now) {
		e.ID = old.ID
		return e, true
	}
	return Merge(old, e), false
}

// Merge returns old refreshed with e, never shortened: LastSeen and
// ExpiresAt become the later of both (zero ExpiresAt, never, being the
// latest), Created the earlier. Reason, Category, Source and the codes are
// taken from e unless e is a soft bounce and old is not: a soft bounce does
// not weaken a hard bounce, complaint or manual entry. Hits, LastHit, ID
// and the addresses stay old's.
func Merge(old, e Entry) Entry {
	m := old
	if e.LastSeen.After(m.LastSeen) {
		m.LastSeen = e.LastSeen
	}
	if e.Created.Before(m.Created) {
		m.Created = e.Created
	}
	if m.ExpiresAt.IsZero() || e.ExpiresAt.IsZero() {
		m.ExpiresAt = time.Time{}
	} else if e.ExpiresAt.After(m.ExpiresAt) {
		m.ExpiresAt = e.ExpiresAt
	}
	if e.Category == CategorySoftBounce && old.Category != CategorySoftBounce {
		return m
	}
	m.Reason = e.Reason
	m.Category = e.Category
	m.Source = e.Source
	m.Code = e.Code
	m.EnhancedCode = e.EnhancedCode
	return m
}

// DecideEntry is what Store.ProcessTx does with a failure before it
// stores anything: the Decision of p for c and, when it suppresses, the
// entry to add. c.Now must be set; empty c.Source means SourceQueue.
func (p Policy) DecideEntry(c Check) (Decision, Entry) {
	if c.Source == "" {
		c.Source = SourceQueue
	}
	d := p.Decide(c)
	if !d.Suppress {
		return d, Entry{}
	}
	return d, Entry{
		Account:         c.Account,
		OriginalAddress: c.Recipient,
		Reason:          d.Reason,
		Category:        d.Category,
		Source:          c.Source,
		Code:            int64(c.Failure.Code),
		EnhancedCode:    c.Failure.EnhancedCode.String(),
		Created:         c.Now,
		LastSeen:        c.Now,
		ExpiresAt:       d.ExpiresAt,
	}
}

// ImportRow is one checked data row of a CSV import.
type ImportRow struct {
	// Entry has its base address computed, CategoryImport and
	// SourceImport for an empty category and source, and now for zero
	// Created; adding it fills the rest (Prepare).
	Entry
	Line int // 1-based, of the row's first field; the header is line 1.
}

// ReadCSV reads and checks every row of a CSV import (the format of
// Store.ImportTx), computing base addresses with n and filling zero
// Created with now. It writes nothing: a store adds the rows in one
// transaction, in order, and reports a row it cannot add as an
// *ImportError with the row's Line. A bad row gives an *ImportError.
func ReadCSV(r io.Reader, n Normalizer, now time.Time) ([]ImportRow, error) {
	return readCSV(r, n, now)
}

// WriteCSV writes the entries forEach yields as CSV (the format of
// Store.ExportTx: RFC 4180, CRLF line ends, a header row of Columns) and
// returns how many it wrote. forEach calls its function once per entry, in
// the order to write, and stops at its first error; a bstore query's
// ForEach is one.
func WriteCSV(w io.Writer, forEach func(fn func(Entry) error) error) (int, error) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180 section 2.
	if err := cw.Write(Columns()); err != nil {
		return 0, fmt.Errorf("suppression: export: %w", err)
	}
	n := 0
	err := forEach(func(e Entry) error {
		n++
		return cw.Write([]string{
			e.Account, e.OriginalAddress, e.BaseAddress, string(e.Category), string(e.Source),
			e.Reason, formatInt(e.Code), e.EnhancedCode, formatTime(e.Created), formatTime(e.LastSeen),
			formatInt(e.Hits), formatTime(e.LastHit), formatTime(e.ExpiresAt),
		})
	})
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err != nil {
		return n, fmt.Errorf("suppression: export: %w", err)
	}
	return n, nil
}
