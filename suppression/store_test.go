package suppression

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/paging"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is an injectable time source for Store.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openDB(tb testing.TB) *bstore.DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "suppression.db")
	db, err := bstore.Open(context.Background(), path, &bstore.Options{Timeout: 5 * time.Second}, DBTypes()...)
	if err != nil {
		tb.Fatalf("open db: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func newStore(t *testing.T) (*Store, *clock) {
	t.Helper()
	c := &clock{now: t0}
	return &Store{DB: openDB(t), Now: c.Now}, c
}

func tcheck(t *testing.T, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

func TestStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)

	_, ok, err := s.Lookup(ctx, "acc", "john@example.com")
	tcheck(t, err, "lookup")
	if ok {
		t.Fatalf("found entry in empty store")
	}

	e, added, err := s.Add(ctx, Entry{Account: "acc", OriginalAddress: "John+News@Example.com", Reason: "asked to stop"})
	tcheck(t, err, "add")
	if !added || e.ID == 0 || e.BaseAddress != "john@example.com" || e.Category != CategoryManual || e.Source != SourceAPI || !e.Created.Equal(t0) {
		t.Fatalf("added entry %+v, added %v", e, added)
	}

	// Any tag of the address matches; other accounts and other people do not.
	got, ok, err := s.Lookup(ctx, "acc", "JOHN+other@example.com")
	tcheck(t, err, "lookup")
	if !ok || got.ID != e.ID || got.OriginalAddress != "John+News@Example.com" {
		t.Fatalf("lookup: %+v %v", got, ok)
	}
	for _, k := range [][2]string{{"other", "john@example.com"}, {"acc", "john-doe@example.com"}, {"acc", "johnn@example.com"}} {
		if _, ok, err := s.Lookup(ctx, k[0], k[1]); err != nil || ok {
			t.Fatalf("lookup %v: ok %v, err %v", k, ok, err)
		}
	}
	if _, _, err := s.Lookup(ctx, "acc", "not an address"); !errors.Is(err, ErrAddress) {
		t.Fatalf("lookup of malformed address: %v", err)
	}

	// A second add refreshes, it does not fail or duplicate.
	clk.Add(time.Hour)
	e2, added, err := s.Add(ctx, Entry{Account: "acc", OriginalAddress: "john@example.com", Reason: "again", Category: CategoryHardBounce, Source: SourceDSN, Code: 550, EnhancedCode: "5.1.1"})
	tcheck(t, err, "second add")
	if added || e2.ID != e.ID || e2.Reason != "again" || e2.Category != CategoryHardBounce || !e2.LastSeen.Equal(t0.Add(time.Hour)) || !e2.Created.Equal(t0) || e2.OriginalAddress != "John+News@Example.com" {
		t.Fatalf("refreshed entry %+v, added %v", e2, added)
	}
	// A soft bounce does not weaken a hard one, but is seen.
	clk.Add(time.Hour)
	e3, _, err := s.Add(ctx, Entry{Account: "acc", OriginalAddress: "john@example.com", Category: CategorySoftBounce, Reason: "mailbox full", ExpiresAt: t0.Add(time.Hour * 24)})
	tcheck(t, err, "soft add")
	if e3.Category != CategoryHardBounce || e3.Reason != "again" || !e3.ExpiresAt.IsZero() || !e3.LastSeen.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("soft refresh weakened entry: %+v", e3)
	}
	n, err := s.Count(ctx, Filter{})
	tcheck(t, err, "count")
	if n != 1 {
		t.Fatalf("count %d, expected 1", n)
	}

	// StopTx counts hits; Lookup does not.
	for range 2 {
		err = s.DB.Write(ctx, func(tx *bstore.Tx) error {
			e, ok, err := s.StopTx(tx, "acc", "john@example.com", clk.Now())
			if err == nil && !ok {
				err = fmt.Errorf("not stopped: %+v", e)
			}
			return err
		})
		tcheck(t, err, "stop")
	}
	got, _, err = s.Lookup(ctx, "acc", "john@example.com")
	tcheck(t, err, "lookup")
	if got.Hits != 2 || !got.LastHit.Equal(clk.Now()) {
		t.Fatalf("hits %d, last hit %v", got.Hits, got.LastHit)
	}
	err = s.DB.Write(ctx, func(tx *bstore.Tx) error {
		_, ok, err := s.StopTx(tx, "acc", "jane@example.com", clk.Now())
		if ok {
			return errors.New("stopped address not on list")
		}
		return err
	})
	tcheck(t, err, "stop absent")

	// Delivery does not remove a hard bounce.
	removed, err := s.Delivered(ctx, "acc", "john@example.com")
	tcheck(t, err, "delivered")
	if removed {
		t.Fatalf("delivery removed hard bounce")
	}

	tcheck(t, s.Remove(ctx, "acc", "john+x@example.com"), "remove")
	if err := s.Remove(ctx, "acc", "john@example.com"); err != ErrAbsent {
		t.Fatalf("second remove: %v, expected ErrAbsent", err)
	}
	if _, ok, _ := s.Lookup(ctx, "acc", "john@example.com"); ok {
		t.Fatalf("found removed entry")
	}

	if _, _, err := s.Add(ctx, Entry{Account: "acc", OriginalAddress: "x@example.com", Category: "bogus"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad category: %v", err)
	}
	if _, _, err := s.Add(ctx, Entry{Account: "a\x00b", OriginalAddress: "x@example.com"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nul in account: %v", err)
	}
	if _, _, err := s.Add(ctx, Entry{Account: "acc"}); !errors.Is(err, ErrAddress) {
		t.Fatalf("empty address: %v", err)
	}
	if _, err := (&Store{}).Count(ctx, Filter{}); err != ErrNoDB {
		t.Fatalf("store without db: %v", err)
	}
}

func TestStoreExpiry(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)

	_, _, err := s.Add(ctx, Entry{Account: "acc", OriginalAddress: "soft@example.com", Category: CategorySoftBounce, ExpiresAt: t0.Add(time.Hour)})
	tcheck(t, err, "add soft")
	_, _, err = s.Add(ctx, Entry{Account: "acc", OriginalAddress: "hard@example.com", Category: CategoryHardBounce})
	tcheck(t, err, "add hard")
	_, _, err = s.Add(ctx, Entry{Account: "acc", OriginalAddress: "later@example.com", Category: CategoryManual, ExpiresAt: t0.Add(2 * time.Hour)})
	tcheck(t, err, "add later")

	if _, ok, _ := s.Lookup(ctx, "acc", "soft@example.com"); !ok {
		t.Fatalf("soft entry not in effect before expiry")
	}
	clk.Add(time.Hour) // Exactly at ExpiresAt: expired.
	if _, ok, _ := s.Lookup(ctx, "acc", "soft@example.com"); ok {
		t.Fatalf("expired entry found by lookup")
	}
	if _, ok, _ := s.Lookup(ctx, "acc", "hard@example.com"); !ok {
		t.Fatalf("hard entry without expiry not found")
	}
	n, err := s.Count(ctx, Filter{})
	tcheck(t, err, "count")
	if n != 3 {
		t.Fatalf("count before cleanup %d, expected 3", n)
	}
	n, err = s.Count(ctx, Filter{ActiveAt: clk.Now()})
	tcheck(t, err, "count active")
	if n != 2 {
		t.Fatalf("active count %d, expected 2", n)
	}

	// Adding an expired address again brings it back as new.
	e, added, err := s.Add(ctx, Entry{Account: "acc", OriginalAddress: "soft@example.com", Category: CategorySoftBounce, ExpiresAt: clk.Now().Add(time.Hour)})
	tcheck(t, err, "re-add")
	if !added || !e.Created.Equal(clk.Now()) {
		t.Fatalf("re-added expired entry: added %v, %+v", added, e)
	}
	clk.Add(time.Hour)

	n, err = s.Cleanup(ctx, clk.Now())
	tcheck(t, err, "cleanup")
	if n != 2 {
		t.Fatalf("cleanup removed %d, expected 2", n)
	}
	l, _, err := s.List(ctx, Filter{}, paging.Page{})
	tcheck(t, err, "list")
	if len(l) != 1 || l[0].BaseAddress != "hard@example.com" {
		t.Fatalf("after cleanup: %+v", l)
	}
	n, err = s.Cleanup(ctx, clk.Now().Add(1000*time.Hour))
	tcheck(t, err, "cleanup")
	if n != 0 {
		t.Fatalf("cleanup removed entry without expiry")
	}
}

func TestStoreProcess(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	mailboxFull := bounce.Failure{Code: 452, EnhancedCode: bounce.EnhancedCode{4, 2, 2}, Reason: "mailboxfull"}
	blocked := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Reason: "blocked"}

	// A reputation block stores nothing.
	d, added, err := s.Process(ctx, Check{Account: "acc", Recipient: "jane@gmail.com", Failure: blocked})
	tcheck(t, err, "process blocked")
	if d.Suppress || added {
		t.Fatalf("reputation block suppressed: %+v", d)
	}

	// The third failed message soft suppresses, for 30 days.
	hist := []Prior{{Time: t0.Add(-time.Hour), Failure: mailboxFull}, {Time: t0.Add(-2 * time.Hour), Failure: mailboxFull}}
	d, added, err = s.Process(ctx, Check{Account: "acc", Recipient: "Ja.Ne@gmail.com", Failure: mailboxFull, History: hist})
	tcheck(t, err, "process soft")
	if !d.Suppress || !added || d.Category != CategorySoftBounce || !d.ExpiresAt.Equal(t0.Add(DefaultSoftExpiry)) {
		t.Fatalf("decision %+v, added %v", d, added)
	}
	e, ok, err := s.Lookup(ctx, "acc", "jane@gmail.com")
	tcheck(t, err, "lookup")
	if !ok || e.Source != SourceQueue || e.Code != 452 || e.EnhancedCode != "4.2.2" || e.OriginalAddress != "Ja.Ne@gmail.com" || e.Reason != d.Reason {
		t.Fatalf("entry %+v", e)
	}

	// Again: refreshed, not added.
	clk.Add(time.Hour)
	_, added, err = s.Process(ctx, Check{Account: "acc", Recipient: "jane@gmail.com", Failure: mailboxFull, History: hist})
	tcheck(t, err, "process again")
	if added {
		t.Fatalf("second process added")
	}
	e, _, _ = s.Lookup(ctx, "acc", "jane@gmail.com")
	if !e.ExpiresAt.Equal(clk.Now().Add(DefaultSoftExpiry)) {
		t.Fatalf("expiry not extended: %v", e.ExpiresAt)
	}

	// A delivery clears the soft suppression.
	removed, err := s.Delivered(ctx, "acc", "jane+x@gmail.com")
	tcheck(t, err, "delivered")
	if !removed {
		t.Fatalf("delivery did not remove soft entry")
	}
	if _, ok, _ := s.Lookup(ctx, "acc", "jane@gmail.com"); ok {
		t.Fatalf("soft entry still there after delivery")
	}
	removed, err = s.Delivered(ctx, "acc", "not an address")
	if err != nil || removed {
		t.Fatalf("delivered with malformed address: %v %v", removed, err)
	}

	// A hard bounce in a transaction that is rolled back leaves nothing.
	errRollback := errors.New("rollback")
	err = s.DB.Write(ctx, func(tx *bstore.Tx) error {
		d, added, err := s.ProcessTx(tx, Check{Account: "acc", Recipient: "gone@example.com", Failure: bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: "userunknown"}, Now: clk.Now()})
		if err != nil || !d.Suppress || !added {
			return fmt.Errorf("process: %v %+v %v", err, d, added)
		}
		if _, ok, err := s.LookupTx(tx, "acc", "gone@example.com", clk.Now()); err != nil || !ok {
			return fmt.Errorf("not visible in tx: %v", err)
		}
		return errRollback
	})
	if err != errRollback {
		t.Fatalf("write: %v", err)
	}
	if _, ok, _ := s.Lookup(ctx, "acc", "gone@example.com"); ok {
		t.Fatalf("rolled back entry is present")
	}

	// A complaint.
	d, _, err = s.Process(ctx, Check{Account: "acc", Recipient: "angry@example.com", Source: SourceARF, Failure: bounce.Failure{Reason: "feedback"}})
	tcheck(t, err, "process complaint")
	e, ok, _ = s.Lookup(ctx, "acc", "angry@example.com")
	if !d.Suppress || !ok || e.Category != CategoryComplaint || e.Source != SourceARF || !e.ExpiresAt.IsZero() {
		t.Fatalf("complaint: %+v, %+v", d, e)
	}
}

// Concurrent adds of the same and of different addresses never duplicate.
func TestStoreConcurrentAdds(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	addedc := make(chan int, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			added := 0
			for i := range perWorker {
				// Every worker adds the same addresses, with different tags and case.
				addr := fmt.Sprintf("User%d+w%d@Example.com", i, w)
				_, ok, err := s.Add(ctx, Entry{Account: "acc", OriginalAddress: addr, Category: CategoryHardBounce})
				if err != nil {
					errc <- err
					return
				}
				if ok {
					added++
				}
			}
			addedc <- added
		}()
	}
	wg.Wait()
	close(errc)
	close(addedc)
	for err := range errc {
		t.Fatalf("add: %v", err)
	}
	total := 0
	for n := range addedc {
		total += n
	}
	if total != perWorker {
		t.Fatalf("%d adds reported as new, expected %d", total, perWorker)
	}
	n, err := s.Count(ctx, Filter{Account: "acc"})
	tcheck(t, err, "count")
	if n != perWorker {
		t.Fatalf("%d entries, expected %d", n, perWorker)
	}
}

func TestStoreList(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	add := func(account, addr string, cat Category, src Source) {
		t.Helper()
		_, _, err := s.Add(ctx, Entry{Account: account, OriginalAddress: addr, Category: cat, Source: src})
		tcheck(t, err, "add")
		clk.Add(time.Minute)
	}
	for i := range 10 {
		add("a", fmt.Sprintf("user%02d@example.com", i), CategoryHardBounce, SourceQueue)
	}
	add("b", "user00@example.com", CategoryComplaint, SourceARF)
	add("a", "Someone@Other.example", CategoryManual, SourceAPI)

	count := func(f Filter) int {
		t.Helper()
		n, err := s.Count(ctx, f)
		tcheck(t, err, "count")
		return n
	}
	for _, tc := range []struct {
		f   Filter
		exp int
	}{
		{Filter{}, 12},
		{Filter{Account: "a"}, 11},
		{Filter{Account: "b"}, 1},
		{Filter{Category: CategoryComplaint}, 1},
		{Filter{Account: "a", Source: SourceAPI}, 1},
		{Filter{Search: "OTHER"}, 1},
		{Filter{Search: "user0"}, 11},
		{Filter{CreatedAfter: t0.Add(5 * time.Minute)}, 7},
		{Filter{CreatedBefore: t0.Add(5 * time.Minute)}, 5},
		{Filter{CreatedAfter: t0.Add(2 * time.Minute), CreatedBefore: t0.Add(4 * time.Minute)}, 2},
	} {
		if n := count(tc.f); n != tc.exp {
			t.Errorf("count %+v = %d, expected %d", tc.f, n, tc.exp)
		}
	}

	newest, next, err := s.List(ctx, Filter{Account: "a"}, paging.Page{Newest: true, Limit: 1})
	tcheck(t, err, "list newest")
	if len(newest) != 1 || newest[0].BaseAddress != "someone@other.example" || next == 0 {
		t.Fatalf("newest: %+v, next %d", newest, next)
	}
}

// Paging by cursor lists every entry exactly once while entries are added
// and refreshed between pages.
func TestStoreListStablePaging(t *testing.T) {
	ctx := context.Background()
	for _, newest := range []bool{false, true} {
		t.Run(fmt.Sprintf("newest=%v", newest), func(t *testing.T) {
			s, _ := newStore(t)
			original := map[string]bool{}
			for i := range 25 {
				e, _, err := s.Add(ctx, Entry{Account: "acc", OriginalAddress: fmt.Sprintf("u%d@example.com", i)})
				tcheck(t, err, "add")
				original[e.BaseAddress] = true
			}
			seen := map[string]int{}
			f := Filter{Account: "acc"}
			pg := paging.Page{Limit: 4, Newest: newest}
			for pages := 0; ; pages++ {
				if pages > 50 {
					t.Fatalf("paging does not end")
				}
				entries, next, err := s.List(ctx, f, pg)
				tcheck(t, err, "list")
				if len(entries) > 4 {
					t.Fatalf("page of %d entries, limit 4", len(entries))
				}
				for _, e := range entries {
					seen[e.BaseAddress]++
				}
				// Between pages: new entries, and refreshes of listed ones.
				_, _, err = s.Add(ctx, Entry{Account: "acc", OriginalAddress: fmt.Sprintf("new%d@example.com", pages)})
				tcheck(t, err, "add between pages")
				if len(entries) > 0 {
					_, _, err = s.Add(ctx, Entry{Account: "acc", OriginalAddress: entries[0].BaseAddress, Reason: "refresh"})
					tcheck(t, err, "refresh between pages")
				}
				if next == 0 {
					break
				}
				pg.After = next
			}
			for addr := range original {
				if seen[addr] != 1 {
					t.Fatalf("%s listed %d times", addr, seen[addr])
				}
			}
			for addr, n := range seen {
				if n != 1 {
					t.Fatalf("%s listed %d times", addr, n)
				}
			}
		})
	}
}
