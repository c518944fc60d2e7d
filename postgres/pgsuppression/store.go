package pgsuppression

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bouncekit/bouncekit/suppression"
)

// DB is where the list is kept: a *pgxpool.Pool for several goroutines
// (the usual), a *pgx.Conn, or a pgx.Tx; see the package doc,
// Transactions.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store is a suppression list on PostgreSQL with the semantics of
// suppression.Store. Its exported fields are configuration; the zero value
// of each is the documented default. A Store is safe for concurrent use
// when DB is (a pool is), from any number of processes.
type Store struct {
	// DB holds the table; Open creates it.
	DB DB

	// Policy decides in Process. The zero Policy is the default.
	Policy suppression.Policy

	// Normalizer maps addresses to base addresses. The zero Normalizer is
	// the default. Every node must use the same one: entries are keyed on
	// its output.
	Normalizer suppression.Normalizer

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Open creates or upgrades the table in db (see the package doc, Schema)
// and returns a Store on it with default configuration, which the caller
// may change before using the Store. Nodes may open at the same moment.
func Open(ctx context.Context, db DB) (*Store, error) {
	if db == nil {
		return nil, errors.New("pgsuppression: no database")
	}
	if err := migrateSchema(ctx, db); err != nil {
		return nil, fmt.Errorf("pgsuppression: %w", err)
	}
	return &Store{DB: db}, nil
}

func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// columns of an entry, in the order of scan.
const columns = `id, account, base_address, original_address, reason, category, source, code, enhanced_code, created, last_seen, hits, last_hit, expires_at`

// scan reads one row of columns.
func scan(row pgx.Row) (suppression.Entry, error) {
	var e suppression.Entry
	var category, source string
	var created, lastSeen, lastHit, expiresAt pgtype.Timestamptz
	err := row.Scan(&e.ID, &e.Account, &e.BaseAddress, &e.OriginalAddress, &e.Reason, &category, &source,
		&e.Code, &e.EnhancedCode, &created, &lastSeen, &e.Hits, &lastHit, &expiresAt)
	if err != nil {
		return suppression.Entry{}, err
	}
	e.Category = suppression.Category(category)
	e.Source = suppression.Source(source)
	e.Created = fromTimestamp(created)
	e.LastSeen = fromTimestamp(lastSeen)
	e.LastHit = fromTimestamp(lastHit)
	e.ExpiresAt = fromTimestamp(expiresAt)
	return e, nil
}

func fromTimestamp(ts pgtype.Timestamptz) time.Time {
	if !ts.Valid {
		return time.Time{}
	}
	return ts.Time.UTC()
}

// timestamp is the argument for t: NULL for the zero time.
func timestamp(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// truncate gives e's times the precision and location of the times read
// from the table, so that the entry Add returns is the one stored.
func truncate(e suppression.Entry) suppression.Entry {
	for _, t := range []*time.Time{&e.Created, &e.LastSeen, &e.LastHit, &e.ExpiresAt} {
		*t = t.Truncate(time.Microsecond).UTC()
	}
	return e
}

// key returns the base address of address in account, as
// suppression.Key, and whether account can be in the table at all: text
// cannot hold invalid UTF-8, so no entry has such an account.
func (s *Store) key(account, address string) (base string, storable bool, err error) {
	base, err = suppression.Key(s.Normalizer, account, address)
	if err != nil {
		return "", false, err
	}
	return base, utf8.ValidString(account), nil
}

// checkText refuses what a text column cannot hold: a NUL byte or
// invalid UTF-8. A bstore list stores them; see the package doc.
func checkText(field, v string) error {
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return fmt.Errorf("%w: %s is not UTF-8 text without NUL bytes", suppression.ErrInvalid, field)
	}
	return nil
}

// getQuery reads the entry of $1 (account) and $2 (base address).
const getQuery = `SELECT ` + columns + ` FROM bouncekit_suppression WHERE account = $1 AND base_address = $2`

// get returns the stored entry for account and base address, active or
// not, with its row locked when forUpdate.
func get(ctx context.Context, db DB, account, base string, forUpdate bool) (suppression.Entry, bool, error) {
	q := getQuery
	if forUpdate {
		q += ` FOR UPDATE`
	}
	e, err := scan(db.QueryRow(ctx, q, account, base))
	if errors.Is(err, pgx.ErrNoRows) {
		return suppression.Entry{}, false, nil
	} else if err != nil {
		return suppression.Entry{}, false, fmt.Errorf("pgsuppression: lookup: %w", err)
	}
	return e, true, nil
}

// Lookup returns the entry in effect now for the base address of address
// in account, as suppression.Store.LookupTx. It is one unique-index lookup
// and does not count a hit: use Stop when the lookup stops a send.
func (s *Store) Lookup(ctx context.Context, account, address string) (suppression.Entry, bool, error) {
	base, storable, err := s.key(account, address)
	if err != nil || !storable {
		return suppression.Entry{}, false, err
	}
	e, ok, err := get(ctx, s.DB, account, base, false)
	if err != nil || !ok || !e.Active(s.now()) {
		return suppression.Entry{}, false, err
	}
	return e, true, nil
}

// Stop is Lookup for a send that is about to happen, as
// suppression.Store.StopTx: when an entry is in effect it counts a hit
// (Hits, LastHit) and returns it with ok true, and the caller should not
// send. It is one UPDATE.
func (s *Store) Stop(ctx context.Context, account, address string) (suppression.Entry, bool, error) {
	base, storable, err := s.key(account, address)
	if err != nil || !storable {
		return suppression.Entry{}, false, err
	}
	now := timestamp(s.now())
	q := `UPDATE bouncekit_suppression SET hits = hits + 1, last_hit = $3
		WHERE account = $1 AND base_address = $2 AND (expires_at IS NULL OR expires_at > $3)
		RETURNING ` + columns
	e, err := scan(s.DB.QueryRow(ctx, q, account, base, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return suppression.Entry{}, false, nil
	} else if err != nil {
		return suppression.Entry{}, false, fmt.Errorf("pgsuppression: counting hit: %w", err)
	}
	return e, true, nil
}

// Add adds e, or refreshes the entry in effect with the same base address,
// and returns the stored entry; added is true when no entry was in effect
// before. The rules are suppression.Store.AddTx's (suppression.Prepare and
// suppression.Refresh); see the package doc, Transactions, for concurrent
// adds.
//
// A new address is one INSERT; only an address that is listed takes a
// transaction to lock, merge and update its row.
func (s *Store) Add(ctx context.Context, e suppression.Entry) (suppression.Entry, bool, error) {
	return s.addAt(ctx, e, s.now())
}

func (s *Store) addAt(ctx context.Context, e suppression.Entry, now time.Time) (entry suppression.Entry, added bool, err error) {
	e, err = s.prepare(e, now)
	if err != nil {
		return suppression.Entry{}, false, err
	}
	id, err := insert(ctx, s.DB, e)
	if err != nil {
		return suppression.Entry{}, false, err
	} else if id != 0 {
		e.ID = id
		return e, true, nil
	}
	err = pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		entry, added, err = s.addTx(ctx, tx, e, now)
		return err
	})
	return entry, added, err
}

// prepare is suppression.Prepare, and checks what text cannot hold.
func (s *Store) prepare(e suppression.Entry, now time.Time) (suppression.Entry, error) {
	e, err := suppression.Prepare(s.Normalizer, e, now)
	if err != nil {
		return suppression.Entry{}, err
	}
	for _, f := range [][2]string{{"account", e.Account}, {"reason", e.Reason}, {"enhanced code", e.EnhancedCode}} {
		if err := checkText(f[0], f[1]); err != nil {
			return suppression.Entry{}, err
		}
	}
	return truncate(e), nil
}

// addAttempts bounds the rounds of addTx: an insert that meets a
// concurrent insert of the same key finds that row in the next round,
// unless it was removed again in between.
const addAttempts = 3

// addTx adds the prepared e in tx: it locks the row of e's key, and
// refreshes it, or inserts e when there is none.
func (s *Store) addTx(ctx context.Context, tx pgx.Tx, e suppression.Entry, now time.Time) (suppression.Entry, bool, error) {
	for range addAttempts {
		old, ok, err := get(ctx, tx, e.Account, e.BaseAddress, true)
		if err != nil {
			return suppression.Entry{}, false, err
		}
		if ok {
			m, added := suppression.Refresh(old, e, now)
			if err := update(ctx, tx, m); err != nil {
				return suppression.Entry{}, false, err
			}
			return m, added, nil
		}
		id, err := insert(ctx, tx, e)
		if err != nil {
			return suppression.Entry{}, false, err
		}
		if id != 0 {
			e.ID = id
			return e, true, nil
		}
	}
	return suppression.Entry{}, false, fmt.Errorf("pgsuppression: adding entry: %s in %s changed %d times while adding", e.BaseAddress, e.Account, addAttempts)
}

// insert inserts e and returns its ID, or 0 when an entry with its key
// exists by now.
func insert(ctx context.Context, db DB, e suppression.Entry) (int64, error) {
	return insertID(db.QueryRow(ctx, insertQuery, insertArgs(e)...))
}

// insertQuery inserts an entry unless its key is taken, and returns its
// ID.
const insertQuery = `INSERT INTO bouncekit_suppression (account, base_address, original_address, original_lower, reason, category, source, code, enhanced_code, created, last_seen, hits, last_hit, expires_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
	ON CONFLICT (account, base_address) DO NOTHING RETURNING id`

func insertArgs(e suppression.Entry) []any {
	return []any{e.Account, e.BaseAddress, e.OriginalAddress, strings.ToLower(e.OriginalAddress), e.Reason,
		string(e.Category), string(e.Source), e.Code, e.EnhancedCode, timestamp(e.Created), timestamp(e.LastSeen),
		e.Hits, timestamp(e.LastHit), timestamp(e.ExpiresAt)}
}

// insertID reads the result of insertQuery: the new ID, or 0 when the
// key was taken.
func insertID(row pgx.Row) (int64, error) {
	var id int64
	err := row.Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("pgsuppression: adding entry: %w", err)
	}
	return id, nil
}

// update stores every field of e in its row.
func update(ctx context.Context, tx pgx.Tx, e suppression.Entry) error {
	q := `UPDATE bouncekit_suppression SET original_address = $2, original_lower = $3, reason = $4, category = $5, source = $6,
		code = $7, enhanced_code = $8, created = $9, last_seen = $10, hits = $11, last_hit = $12, expires_at = $13
		WHERE id = $1`
	_, err := tx.Exec(ctx, q, e.ID, e.OriginalAddress, strings.ToLower(e.OriginalAddress), e.Reason,
		string(e.Category), string(e.Source), e.Code, e.EnhancedCode, timestamp(e.Created), timestamp(e.LastSeen),
		e.Hits, timestamp(e.LastHit), timestamp(e.ExpiresAt))
	if err != nil {
		return fmt.Errorf("pgsuppression: updating entry: %w", err)
	}
	return nil
}

// Remove removes the entry for the base address of address in account,
// expired or not. It returns suppression.ErrAbsent when there is none.
func (s *Store) Remove(ctx context.Context, account, address string) error {
	base, storable, err := s.key(account, address)
	if err != nil {
		return err
	} else if !storable {
		return suppression.ErrAbsent
	}
	tag, err := s.DB.Exec(ctx, `DELETE FROM bouncekit_suppression WHERE account = $1 AND base_address = $2`, account, base)
	if err != nil {
		return fmt.Errorf("pgsuppression: removing entry: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return suppression.ErrAbsent
	}
	return nil
}

// Process decides on a failure with Policy and, when the decision is to
// suppress, adds or refreshes the entry, as suppression.Store.ProcessTx.
// added is true when a new entry came into effect. Zero c.Now means the
// Store's Now, empty c.Source suppression.SourceQueue.
func (s *Store) Process(ctx context.Context, c suppression.Check) (d suppression.Decision, added bool, err error) {
	if c.Now.IsZero() {
		c.Now = s.now()
	}
	d, e := s.Policy.DecideEntry(c)
	if !d.Suppress {
		return d, false, nil
	}
	_, added, err = s.addAt(ctx, e, c.Now)
	if err != nil {
		return d, false, err
	}
	return d, added, nil
}

// Delivered records a successful delivery, as
// suppression.Store.DeliveredTx: a soft suppression of the address is
// removed; other categories stay. An address that cannot be normalized
// cannot be on the list: false and no error.
func (s *Store) Delivered(ctx context.Context, account, address string) (removed bool, err error) {
	base, storable, err := s.key(account, address)
	if err != nil || !storable {
		return false, nil
	}
	tag, err := s.DB.Exec(ctx, `DELETE FROM bouncekit_suppression WHERE account = $1 AND base_address = $2 AND category = $3`,
		account, base, string(suppression.CategorySoftBounce))
	if err != nil {
		return false, fmt.Errorf("pgsuppression: removing soft entry: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// cleanupQuery deletes the entries expired at $1.
const cleanupQuery = `DELETE FROM bouncekit_suppression WHERE expires_at <= $1`

// Cleanup deletes the entries that expired at or before now and returns
// how many, using the index on expires_at.
func (s *Store) Cleanup(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.DB.Exec(ctx, cleanupQuery, timestamp(now))
	if err != nil {
		return 0, fmt.Errorf("pgsuppression: cleanup: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
