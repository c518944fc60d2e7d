package suppressiontest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/suppression"
)

// pageAll is a page larger than any list of the suite.
var pageAll = paging.Page{Limit: paging.MaxLimit}

// walk lists every page of f and returns the IDs in the order they came.
// add, when not nil, is called after the first page.
func walk(t *testing.T, s Store, f suppression.Filter, p paging.Page, add func()) []int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for {
		entries, next, err := s.List(ctx, f, p)
		tcheck(t, err, "list")
		if len(entries) > p.Size() {
			t.Fatalf("page of %d entries, size %d", len(entries), p.Size())
		}
		for _, e := range entries {
			ids = append(ids, e.ID)
		}
		if next == 0 {
			return ids
		}
		if len(entries) == 0 || next != entries[len(entries)-1].ID {
			t.Fatalf("next %d after a page of %d entries", next, len(entries))
		}
		if add != nil {
			add()
			add = nil
		}
		p.After = next
	}
}

func testListPages(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	var idsA []int64
	for i := 0; i < 25; i++ {
		e, _, err := s.Add(ctx, suppression.Entry{Account: "a", OriginalAddress: fmt.Sprintf("a%d@example.com", i)})
		tcheck(t, err, "add")
		idsA = append(idsA, e.ID)
		if i%3 == 0 {
			if _, _, err := s.Add(ctx, suppression.Entry{Account: "b", OriginalAddress: fmt.Sprintf("b%d@example.com", i)}); err != nil {
				t.Fatalf("add: %v", err)
			}
		}
	}
	if !slices.IsSorted(idsA) {
		t.Fatalf("IDs not increasing: %v", idsA)
	}

	// Oldest first, in pages, with an entry added after the first page: it
	// comes last, nothing is listed twice or skipped.
	var late int64
	got := walk(t, s, suppression.Filter{Account: "a"}, paging.Page{Limit: 7}, func() {
		e, _, err := s.Add(ctx, suppression.Entry{Account: "a", OriginalAddress: "late@example.com"})
		tcheck(t, err, "add during paging")
		late = e.ID
	})
	if want := append(slices.Clone(idsA), late); !slices.Equal(got, want) {
		t.Fatalf("pages of account a:\ngot  %v\nwant %v", got, want)
	}

	// Newest first.
	got = walk(t, s, suppression.Filter{Account: "a"}, paging.Page{Limit: 10, Newest: true}, nil)
	want := append(slices.Clone(idsA), late)
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Fatalf("newest first:\ngot  %v\nwant %v", got, want)
	}

	// Every account; the default page size holds them all.
	entries, next, err := s.List(ctx, suppression.Filter{}, paging.Page{})
	tcheck(t, err, "list all")
	if len(entries) != 35 || next != 0 {
		t.Fatalf("list all: %d entries, next %d; want 35, 0", len(entries), next)
	}
	// Account b's 9 entries in pages of 3; after the last, nothing.
	entries, next, err = s.List(ctx, suppression.Filter{Account: "b"}, paging.Page{Limit: 3})
	tcheck(t, err, "list b")
	if len(entries) != 3 || next == 0 {
		t.Fatalf("first page of b: %d entries, next %d", len(entries), next)
	}
	got = walk(t, s, suppression.Filter{Account: "b"}, paging.Page{Limit: 3}, nil)
	if len(got) != 9 {
		t.Fatalf("account b: %d entries, want 9", len(got))
	}
	entries, next, err = s.List(ctx, suppression.Filter{Account: "b"}, paging.Page{After: got[len(got)-1], Limit: 3})
	tcheck(t, err, "list after the last")
	if len(entries) != 0 || next != 0 {
		t.Fatalf("page after the last: %d entries, next %d", len(entries), next)
	}
	for _, tc := range []struct {
		f    suppression.Filter
		want int
	}{{suppression.Filter{Account: "a"}, 26}, {suppression.Filter{Account: "b"}, 9}, {suppression.Filter{}, 35}, {suppression.Filter{Account: "c"}, 0}} {
		n, err := s.Count(ctx, tc.f)
		tcheck(t, err, "count")
		if n != tc.want {
			t.Fatalf("count %+v: %d, want %d", tc.f, n, tc.want)
		}
	}
}

func testListFilters(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	add := func(e suppression.Entry) string {
		t.Helper()
		_, _, err := s.Add(ctx, e)
		tcheck(t, err, "add")
		return e.OriginalAddress
	}
	alice := add(suppression.Entry{Account: "acc", OriginalAddress: "Alice@Example.com"})
	clk.Advance(time.Hour)
	bob := add(suppression.Entry{Account: "acc", OriginalAddress: "bob@example.com", Category: suppression.CategoryHardBounce, Source: suppression.SourceQueue})
	carol := add(suppression.Entry{Account: "acc", OriginalAddress: "carol@example.net", Category: suppression.CategorySoftBounce, Source: suppression.SourceDSN, ExpiresAt: t0.Add(3 * time.Hour)})
	clk.Advance(time.Hour)
	alice2 := add(suppression.Entry{Account: "other", OriginalAddress: "alice@example.com", Category: suppression.CategoryComplaint, Source: suppression.SourceARF})
	john := add(suppression.Entry{Account: "other", OriginalAddress: "John+News@Example.org"})

	tests := []struct {
		name string
		f    suppression.Filter
		want []string // Original addresses, in ID order.
	}{
		{"account", suppression.Filter{Account: "acc"}, []string{alice, bob, carol}},
		{"category", suppression.Filter{Category: suppression.CategoryHardBounce}, []string{bob}},
		{"source", suppression.Filter{Source: suppression.SourceDSN}, []string{carol}},
		{"account and source", suppression.Filter{Account: "other", Source: suppression.SourceAPI}, []string{john}},
		{"created after, inclusive", suppression.Filter{CreatedAfter: t0.Add(time.Hour)}, []string{bob, carol, alice2, john}},
		{"created before, exclusive", suppression.Filter{CreatedBefore: t0.Add(time.Hour)}, []string{alice}},
		{"created between", suppression.Filter{CreatedAfter: t0.Add(time.Hour), CreatedBefore: t0.Add(2 * time.Hour)}, []string{bob, carol}},
		{"search ignores case", suppression.Filter{Search: "ALICE"}, []string{alice, alice2}},
		{"search in the domain", suppression.Filter{Search: "example.net"}, []string{carol}},
		{"search in the original address only", suppression.Filter{Search: "news"}, []string{john}},
		{"search is literal: percent", suppression.Filter{Search: "%"}, nil},
		{"search is literal: underscore", suppression.Filter{Search: "_"}, nil},
		{"search is literal: backslash", suppression.Filter{Search: `\`}, nil},
		{"active before expiry", suppression.Filter{Account: "acc", ActiveAt: t0.Add(3*time.Hour - time.Microsecond)}, []string{alice, bob, carol}},
		{"active at expiry", suppression.Filter{Account: "acc", ActiveAt: t0.Add(3 * time.Hour)}, []string{alice, bob}},
		{"nothing", suppression.Filter{Account: "acc", Category: suppression.CategoryComplaint}, nil},
	}
	for _, tc := range tests {
		entries, next, err := s.List(ctx, tc.f, pageAll)
		tcheck(t, err, tc.name)
		var got []string
		for _, e := range entries {
			got = append(got, e.OriginalAddress)
		}
		if !slices.Equal(got, tc.want) || next != 0 {
			t.Errorf("%s: got %q, next %d; want %q", tc.name, got, next, tc.want)
		}
		n, err := s.Count(ctx, tc.f)
		tcheck(t, err, tc.name+": count")
		if n != len(tc.want) {
			t.Errorf("%s: count %d, want %d", tc.name, n, len(tc.want))
		}
	}
}
