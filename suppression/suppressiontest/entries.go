package suppressiontest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/suppression"
)

func testAddLookup(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	_, ok, err := s.Lookup(ctx, "acc", "john@example.com")
	tcheck(t, err, "lookup in empty store")
	if ok {
		t.Fatalf("found an entry in an empty store")
	}

	e, added, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "John+News@Example.com", Reason: "asked to stop"})
	tcheck(t, err, "add")
	want := suppression.Entry{
		Account:         "acc",
		BaseAddress:     "john@example.com",
		OriginalAddress: "John+News@Example.com",
		Reason:          "asked to stop",
		Category:        suppression.CategoryManual,
		Source:          suppression.SourceAPI,
		Created:         t0,
		LastSeen:        t0,
	}
	if !added || e.ID <= 0 {
		t.Fatalf("add: added %v, ID %d", added, e.ID)
	}
	tentry(t, e, want, "added entry")

	// Any tag and case of the address finds it; other accounts and
	// other people do not.
	got, ok, err := s.Lookup(ctx, "acc", "JOHN+other@example.COM")
	tcheck(t, err, "lookup")
	if !ok || got.ID != e.ID {
		t.Fatalf("lookup: ok %v, ID %d, want %d", ok, got.ID, e.ID)
	}
	tentry(t, got, want, "looked up entry")
	for _, k := range [][2]string{{"other", "john@example.com"}, {"acc", "jane@example.com"}, {"acc", "john@example.org"}} {
		_, ok, err := s.Lookup(ctx, k[0], k[1])
		tcheck(t, err, "lookup "+k[1])
		if ok {
			t.Fatalf("lookup %s in %s: found", k[1], k[0])
		}
	}
	if _, _, err := s.Lookup(ctx, "acc", "no address"); !errors.Is(err, suppression.ErrAddress) {
		t.Fatalf("lookup of a malformed address: %v, want ErrAddress", err)
	}

	// Only a base address: it is the original address too. A new entry
	// gets a higher ID.
	clk.Advance(time.Minute)
	e2, added, err := s.Add(ctx, suppression.Entry{Account: "acc", BaseAddress: "jane@example.com", Category: suppression.CategoryHardBounce, Source: suppression.SourceDSN})
	tcheck(t, err, "add by base address")
	if !added || e2.ID <= e.ID {
		t.Fatalf("second add: added %v, ID %d after %d", added, e2.ID, e.ID)
	}
	tentry(t, e2, suppression.Entry{
		Account: "acc", BaseAddress: "jane@example.com", OriginalAddress: "jane@example.com",
		Category: suppression.CategoryHardBounce, Source: suppression.SourceDSN,
		Created: t0.Add(time.Minute), LastSeen: t0.Add(time.Minute),
	}, "entry added by base address")
}

func testInvalid(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	tests := []struct {
		name string
		e    suppression.Entry
		want error
	}{
		{"unknown category", suppression.Entry{Account: "acc", OriginalAddress: "a@example.com", Category: "bogus"}, suppression.ErrInvalid},
		{"unknown source", suppression.Entry{Account: "acc", OriginalAddress: "a@example.com", Source: "bogus"}, suppression.ErrInvalid},
		{"nul in account", suppression.Entry{Account: "a\x00c", OriginalAddress: "a@example.com"}, suppression.ErrInvalid},
		{"malformed address", suppression.Entry{Account: "acc", OriginalAddress: "a@"}, suppression.ErrAddress},
		{"no address", suppression.Entry{Account: "acc"}, suppression.ErrAddress},
	}
	for _, tc := range tests {
		if _, _, err := s.Add(ctx, tc.e); !errors.Is(err, tc.want) {
			t.Errorf("%s: add gave %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, _, err := s.Lookup(ctx, "a\x00c", "a@example.com"); !errors.Is(err, suppression.ErrInvalid) {
		t.Errorf("lookup with a nul in the account: %v, want ErrInvalid", err)
	}

	// An account of invalid UTF-8 has no entries (a store may refuse to
	// add one): lookups, removals and filters find nothing, without error.
	if _, ok, err := s.Lookup(ctx, "a\xffc", "a@example.com"); ok || err != nil {
		t.Errorf("lookup in an account of invalid UTF-8: ok %v, err %v", ok, err)
	}
	if err := s.Remove(ctx, "a\xffc", "a@example.com"); !errors.Is(err, suppression.ErrAbsent) {
		t.Errorf("remove in an account of invalid UTF-8: %v, want ErrAbsent", err)
	}
	for _, f := range []suppression.Filter{{Account: "a\xffc"}, {Search: "\xff"}, {Category: "\x00"}} {
		l, _, err := s.List(ctx, f, pageAll)
		if len(l) != 0 || err != nil {
			t.Errorf("list %+v: %d entries, %v", f, len(l), err)
		}
		if n, err := s.Count(ctx, f); n != 0 || err != nil {
			t.Errorf("count %+v: %d, %v", f, n, err)
		}
	}
	n, err := s.Count(ctx, suppression.Filter{})
	tcheck(t, err, "count")
	if n != 0 {
		t.Fatalf("%d entries after only bad adds", n)
	}
}

func testMerge(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	hard := suppression.Entry{
		Account: "acc", OriginalAddress: "john@example.com", Reason: "r1",
		Category: suppression.CategoryHardBounce, Source: suppression.SourceQueue, Code: 550, EnhancedCode: "5.1.1",
	}
	e, added, err := s.Add(ctx, hard)
	tcheck(t, err, "add hard bounce")
	if !added {
		t.Fatalf("first add: not added")
	}

	// A soft bounce later does not weaken the hard bounce, but is seen,
	// and does not give it an expiry.
	clk.Advance(time.Hour)
	soft := suppression.Entry{
		Account: "acc", OriginalAddress: "John+x@example.com", Reason: "r2",
		Category: suppression.CategorySoftBounce, Source: suppression.SourceDSN, Code: 450, EnhancedCode: "4.2.2",
		ExpiresAt: t0.Add(30 * 24 * time.Hour),
	}
	m, added, err := s.Add(ctx, soft)
	tcheck(t, err, "add soft bounce")
	want := hard
	want.BaseAddress = "john@example.com"
	want.Created = t0
	want.LastSeen = t0.Add(time.Hour)
	if added || m.ID != e.ID {
		t.Fatalf("refresh: added %v, ID %d, want %d", added, m.ID, e.ID)
	}
	tentry(t, m, want, "hard bounce refreshed by a soft bounce")

	// A complaint replaces the reason, category, source and codes; an
	// earlier Created is kept.
	complaint := suppression.Entry{
		Account: "acc", OriginalAddress: "john@example.com", Reason: "r3",
		Category: suppression.CategoryComplaint, Source: suppression.SourceARF, Created: t0.Add(-24 * time.Hour),
	}
	m, added, err = s.Add(ctx, complaint)
	tcheck(t, err, "add complaint")
	want.Reason, want.Category, want.Source, want.Code, want.EnhancedCode = "r3", suppression.CategoryComplaint, suppression.SourceARF, 0, ""
	want.Created = t0.Add(-24 * time.Hour)
	if added {
		t.Fatalf("complaint: added")
	}
	tentry(t, m, want, "after the complaint")
	got, ok, err := s.Lookup(ctx, "acc", "john@example.com")
	tcheck(t, err, "lookup")
	if !ok {
		t.Fatalf("merged entry not found")
	}
	tentry(t, got, want, "merged entry as stored")

	// Expiry only grows, and no expiry is the longest.
	expiries := []struct {
		category  suppression.Category
		expiresAt time.Time
		want      time.Time
	}{
		{suppression.CategorySoftBounce, t0.Add(10 * 24 * time.Hour), t0.Add(10 * 24 * time.Hour)},
		{suppression.CategorySoftBounce, t0.Add(5 * 24 * time.Hour), t0.Add(10 * 24 * time.Hour)},
		{suppression.CategorySoftBounce, t0.Add(20 * 24 * time.Hour), t0.Add(20 * 24 * time.Hour)},
		{suppression.CategoryManual, time.Time{}, time.Time{}},
		{suppression.CategorySoftBounce, t0.Add(40 * 24 * time.Hour), time.Time{}},
	}
	for i, x := range expiries {
		m, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "jane@example.com", Category: x.category, ExpiresAt: x.expiresAt})
		tcheck(t, err, "add with expiry")
		if !m.ExpiresAt.Equal(x.want) {
			t.Fatalf("add %d: expires %v, want %v", i, m.ExpiresAt, x.want)
		}
	}
	n, err := s.Count(ctx, suppression.Filter{Account: "acc"})
	tcheck(t, err, "count")
	if n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
}

func testExpiry(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	e, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com", Category: suppression.CategorySoftBounce, ExpiresAt: t0.Add(time.Hour)})
	tcheck(t, err, "add")
	clk.Advance(time.Hour - time.Microsecond)
	if _, ok, err := s.Lookup(ctx, "acc", "john@example.com"); err != nil || !ok {
		t.Fatalf("lookup before expiry: ok %v, err %v", ok, err)
	}
	clk.Advance(time.Microsecond)
	if _, ok, err := s.Lookup(ctx, "acc", "john@example.com"); err != nil || ok {
		t.Fatalf("lookup at expiry: ok %v, err %v", ok, err)
	}

	// Listed until Cleanup, except when asked for active entries.
	n, err := s.Count(ctx, suppression.Filter{})
	tcheck(t, err, "count")
	if n != 1 {
		t.Fatalf("count with the expired entry: %d, want 1", n)
	}
	n, err = s.Count(ctx, suppression.Filter{ActiveAt: clk.Now()})
	tcheck(t, err, "count active")
	if n != 0 {
		t.Fatalf("count of active entries: %d, want 0", n)
	}

	// Adding again replaces it as new, in the same record.
	clk.Advance(time.Minute)
	r, added, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "John@example.com", Reason: "again"})
	tcheck(t, err, "add again")
	if !added || r.ID != e.ID {
		t.Fatalf("add after expiry: added %v, ID %d, want %d", added, r.ID, e.ID)
	}
	now := clk.Now()
	tentry(t, r, suppression.Entry{
		Account: "acc", BaseAddress: "john@example.com", OriginalAddress: "John@example.com", Reason: "again",
		Category: suppression.CategoryManual, Source: suppression.SourceAPI, Created: now, LastSeen: now,
	}, "entry replaced after expiry")
	if _, ok, err := s.Lookup(ctx, "acc", "john@example.com"); err != nil || !ok {
		t.Fatalf("lookup after adding again: ok %v, err %v", ok, err)
	}
}

func testHits(t *testing.T, s Store, clk *clock) {
	st, ok := s.(Stopper)
	if !ok {
		t.Skip("store does not count hits on its own (no Stop method)")
	}
	ctx := context.Background()
	if _, ok, err := st.Stop(ctx, "acc", "john@example.com"); err != nil || ok {
		t.Fatalf("stop without entry: ok %v, err %v", ok, err)
	}
	if _, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com"}); err != nil {
		t.Fatalf("add: %v", err)
	}
	for i := int64(1); i <= 3; i++ {
		clk.Advance(time.Minute)
		e, ok, err := st.Stop(ctx, "acc", fmt.Sprintf("John+%d@example.com", i))
		tcheck(t, err, "stop")
		if !ok || e.Hits != i || !e.LastHit.Equal(clk.Now()) {
			t.Fatalf("stop %d: ok %v, hits %d, last hit %v", i, ok, e.Hits, e.LastHit)
		}
	}

	// Hits are stored, and a refresh keeps them.
	e, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com", Reason: "again"})
	tcheck(t, err, "refresh")
	got, _, err := s.Lookup(ctx, "acc", "john@example.com")
	tcheck(t, err, "lookup")
	for _, x := range []suppression.Entry{e, got} {
		if x.Hits != 3 || !x.LastHit.Equal(t0.Add(3*time.Minute)) {
			t.Fatalf("after refresh: hits %d, last hit %v", x.Hits, x.LastHit)
		}
	}

	// An expired entry stops nothing and counts nothing.
	if _, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "jane@example.com", ExpiresAt: clk.Now().Add(time.Minute)}); err != nil {
		t.Fatalf("add: %v", err)
	}
	clk.Advance(time.Minute)
	if _, ok, err := st.Stop(ctx, "acc", "jane@example.com"); err != nil || ok {
		t.Fatalf("stop on an expired entry: ok %v, err %v", ok, err)
	}
	l, _, err := s.List(ctx, suppression.Filter{Search: "jane"}, pageAll)
	tcheck(t, err, "list")
	if len(l) != 1 || l[0].Hits != 0 {
		t.Fatalf("expired entry after stop: %+v", l)
	}
}

func testRemove(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	if _, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com"}); err != nil {
		t.Fatalf("add: %v", err)
	}
	if _, _, err := s.Add(ctx, suppression.Entry{Account: "other", OriginalAddress: "john@example.com"}); err != nil {
		t.Fatalf("add: %v", err)
	}
	tcheck(t, s.Remove(ctx, "acc", "JOHN+tag@example.com"), "remove")
	if _, ok, err := s.Lookup(ctx, "acc", "john@example.com"); err != nil || ok {
		t.Fatalf("lookup after remove: ok %v, err %v", ok, err)
	}
	if _, ok, err := s.Lookup(ctx, "other", "john@example.com"); err != nil || !ok {
		t.Fatalf("other account's entry after remove: ok %v, err %v", ok, err)
	}
	if err := s.Remove(ctx, "acc", "john@example.com"); !errors.Is(err, suppression.ErrAbsent) {
		t.Fatalf("second remove: %v, want ErrAbsent", err)
	}
	if err := s.Remove(ctx, "acc", "john@"); !errors.Is(err, suppression.ErrAddress) {
		t.Fatalf("remove of a malformed address: %v, want ErrAddress", err)
	}

	// An expired entry is removed too.
	if _, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "jane@example.com", ExpiresAt: t0.Add(time.Minute)}); err != nil {
		t.Fatalf("add: %v", err)
	}
	clk.Advance(time.Hour)
	tcheck(t, s.Remove(ctx, "acc", "jane@example.com"), "remove expired")
	n, err := s.Count(ctx, suppression.Filter{Account: "acc"})
	tcheck(t, err, "count")
	if n != 0 {
		t.Fatalf("%d entries left, want 0", n)
	}
}

func testDelivered(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	for _, e := range []suppression.Entry{
		{Account: "acc", OriginalAddress: "soft@example.com", Category: suppression.CategorySoftBounce, ExpiresAt: t0.Add(24 * time.Hour)},
		{Account: "acc", OriginalAddress: "hard@example.com", Category: suppression.CategoryHardBounce},
		{Account: "acc", OriginalAddress: "manual@example.com", Category: suppression.CategoryManual},
	} {
		if _, _, err := s.Add(ctx, e); err != nil {
			t.Fatalf("add: %v", err)
		}
	}
	tests := []struct {
		address string
		removed bool
	}{
		{"soft+x@example.com", true},
		{"soft@example.com", false}, // Already gone.
		{"hard@example.com", false},
		{"manual@example.com", false},
		{"nobody@example.com", false},
		{"no address", false},
	}
	for _, tc := range tests {
		removed, err := s.Delivered(ctx, "acc", tc.address)
		tcheck(t, err, "delivered "+tc.address)
		if removed != tc.removed {
			t.Errorf("delivered %s: removed %v, want %v", tc.address, removed, tc.removed)
		}
	}
	n, err := s.Count(ctx, suppression.Filter{})
	tcheck(t, err, "count")
	if n != 2 {
		t.Fatalf("%d entries left, want 2", n)
	}
}

func testProcess(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	userUnknown := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: bounce.ReasonUserUnknown, Stage: bounce.StageRcpt}
	blocked := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Reason: bounce.ReasonBlocked, Stage: bounce.StageRcpt}
	mailboxFull := bounce.Failure{Permanent: false, Code: 452, EnhancedCode: bounce.EnhancedCode{4, 2, 2}, Reason: bounce.ReasonMailboxFull, Stage: bounce.StageRcpt}
	failed := []suppression.Prior{{Time: t0.Add(-time.Hour), Failure: mailboxFull}, {Time: t0.Add(-2 * time.Hour), Failure: mailboxFull}}

	tests := []struct {
		name     string
		check    suppression.Check
		suppress bool
		added    bool
		want     suppression.Entry // Without Reason, which is the decision's.
	}{
		{
			"hard bounce", suppression.Check{Account: "acc", Recipient: "Bob@Example.org", Failure: userUnknown}, true, true,
			suppression.Entry{Account: "acc", BaseAddress: "bob@example.org", OriginalAddress: "Bob@Example.org", Category: suppression.CategoryHardBounce, Source: suppression.SourceQueue, Code: 550, EnhancedCode: "5.1.1", Created: t0, LastSeen: t0},
		},
		{
			"hard bounce again", suppression.Check{Account: "acc", Recipient: "bob@example.org", Failure: userUnknown}, true, false,
			suppression.Entry{Account: "acc", BaseAddress: "bob@example.org", OriginalAddress: "Bob@Example.org", Category: suppression.CategoryHardBounce, Source: suppression.SourceQueue, Code: 550, EnhancedCode: "5.1.1", Created: t0, LastSeen: t0},
		},
		{
			"reputation block", suppression.Check{Account: "acc", Recipient: "carol@example.org", Failure: blocked}, false, false,
			suppression.Entry{},
		},
		{
			"first soft failure", suppression.Check{Account: "acc", Recipient: "dave@example.org", Failure: mailboxFull}, false, false,
			suppression.Entry{},
		},
		{
			"third soft failure", suppression.Check{Account: "acc", Recipient: "dave@example.org", Failure: mailboxFull, History: failed, Source: suppression.SourceDSN}, true, true,
			suppression.Entry{Account: "acc", BaseAddress: "dave@example.org", OriginalAddress: "dave@example.org", Category: suppression.CategorySoftBounce, Source: suppression.SourceDSN, Code: 452, EnhancedCode: "4.2.2", Created: t0, LastSeen: t0, ExpiresAt: t0.Add(suppression.DefaultSoftExpiry)},
		},
		{
			"complaint", suppression.Check{Account: "acc", Recipient: "erin@example.org", Source: suppression.SourceARF, Now: t0.Add(time.Hour)}, true, true,
			suppression.Entry{Account: "acc", BaseAddress: "erin@example.org", OriginalAddress: "erin@example.org", Category: suppression.CategoryComplaint, Source: suppression.SourceARF, EnhancedCode: bounce.EnhancedCode{}.String(), Created: t0.Add(time.Hour), LastSeen: t0.Add(time.Hour)},
		},
	}
	for _, tc := range tests {
		d, added, err := s.Process(ctx, tc.check)
		tcheck(t, err, tc.name)
		if d.Suppress != tc.suppress || added != tc.added {
			t.Fatalf("%s: suppress %v, added %v; want %v, %v", tc.name, d.Suppress, added, tc.suppress, tc.added)
		}
		e, ok, err := s.Lookup(ctx, tc.check.Account, tc.check.Recipient)
		tcheck(t, err, tc.name+": lookup")
		if ok != tc.suppress {
			t.Fatalf("%s: lookup found %v, want %v", tc.name, ok, tc.suppress)
		}
		if !ok {
			continue
		}
		tc.want.Reason = d.Reason
		tentry(t, e, tc.want, tc.name)
	}
}

func testCleanup(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	for i, exp := range []time.Time{{}, t0.Add(time.Hour), t0.Add(2 * time.Hour), {}} {
		if _, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: fmt.Sprintf("a%d@example.com", i), ExpiresAt: exp}); err != nil {
			t.Fatalf("add: %v", err)
		}
	}
	tests := []struct {
		at      time.Time
		deleted int
		left    int
	}{
		{t0, 0, 4},
		{t0.Add(time.Hour), 1, 3}, // At the expiry time itself.
		{t0.Add(time.Hour), 0, 3},
		{t0.Add(365 * 24 * time.Hour), 1, 2},
	}
	for _, tc := range tests {
		n, err := s.Cleanup(ctx, tc.at)
		tcheck(t, err, "cleanup")
		left, err := s.Count(ctx, suppression.Filter{})
		tcheck(t, err, "count")
		if n != tc.deleted || left != tc.left {
			t.Fatalf("cleanup at %v: deleted %d, left %d; want %d, %d", tc.at, n, left, tc.deleted, tc.left)
		}
	}
}

// testConcurrentAdd adds the same address from several goroutines at
// once: one entry comes into effect, the others refresh it.
func testConcurrentAdd(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	type result struct {
		id    int64
		added bool
		err   error
	}
	results := make(chan result, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			e, added, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: fmt.Sprintf("john+%d@example.com", i), Category: suppression.CategorySoftBounce})
			results <- result{e.ID, added, err}
		}()
		go func() {
			defer wg.Done()
			_, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: fmt.Sprintf("other%d@example.com", i)})
			results <- result{err: err}
		}()
	}
	wg.Wait()
	close(results)
	ids := map[int64]bool{}
	added := 0
	for r := range results {
		tcheck(t, r.err, "concurrent add")
		if r.id != 0 {
			ids[r.id] = true
		}
		if r.added && r.id != 0 {
			added++
		}
	}
	if len(ids) != 1 || added != 1 {
		t.Fatalf("concurrent adds of one address: IDs %v, %d added; want one ID, one added", ids, added)
	}
	count, err := s.Count(ctx, suppression.Filter{})
	tcheck(t, err, "count")
	if count != n+1 {
		t.Fatalf("%d entries, want %d", count, n+1)
	}
}
