package paging_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
)

type record struct {
	ID   int64
	Kind string `bstore:"index"`
}

func openDB(t *testing.T, n int) *bstore.DB {
	t.Helper()
	db, err := bstore.Open(context.Background(), filepath.Join(t.TempDir(), "page.db"), nil, record{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Write(context.Background(), func(tx *bstore.Tx) error {
		for i := 0; i < n; i++ {
			kind := "even"
			if i%2 == 1 {
				kind = "odd"
			}
			if err := tx.Insert(&record{Kind: kind}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// walk lists every page and returns the IDs in the order they came.
func walk(t *testing.T, db *bstore.DB, p paging.Page, kind string) (ids []int64, pages int) {
	t.Helper()
	for {
		var recs []record
		var next int64
		err := db.Read(context.Background(), func(tx *bstore.Tx) error {
			q := bstore.QueryTx[record](tx)
			if kind != "" {
				q.FilterNonzero(record{Kind: kind})
			}
			var err error
			recs, next, err = paging.List(q, p, func(r record) int64 { return r.ID })
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(recs) > p.Size() {
			t.Fatalf("page of %d records, size %d", len(recs), p.Size())
		}
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		if next == 0 {
			return ids, pages
		}
		if next != recs[len(recs)-1].ID {
			t.Fatalf("next %d, last record %d", next, recs[len(recs)-1].ID)
		}
		p.After = next
		if pages > 1000 {
			t.Fatal("no end")
		}
	}
}

func TestList(t *testing.T) {
	db := openDB(t, 25)
	for _, c := range []struct {
		name      string
		page      paging.Page
		kind      string
		wantFirst int64
		wantLast  int64
		wantN     int
		wantPages int
	}{
		{"oldest first", paging.Page{Limit: 10}, "", 1, 25, 25, 3},
		{"newest first", paging.Page{Limit: 10, Newest: true}, "", 25, 1, 25, 3},
		{"exact multiple", paging.Page{Limit: 5}, "", 1, 25, 25, 5},
		{"one page", paging.Page{}, "", 1, 25, 25, 1},
		{"filtered", paging.Page{Limit: 4}, "odd", 2, 24, 12, 3},
		{"filtered newest", paging.Page{Limit: 4, Newest: true}, "even", 25, 1, 13, 4},
		{"after a cursor", paging.Page{After: 20}, "", 21, 25, 5, 1},
		{"before a cursor", paging.Page{After: 3, Newest: true}, "", 2, 1, 2, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ids, pages := walk(t, db, c.page, c.kind)
			if len(ids) != c.wantN || ids[0] != c.wantFirst || ids[len(ids)-1] != c.wantLast || pages != c.wantPages {
				t.Fatalf("got %d ids %v in %d pages, want %d from %d to %d in %d pages", len(ids), ids, pages, c.wantN, c.wantFirst, c.wantLast, c.wantPages)
			}
			for i := 1; i < len(ids); i++ {
				if c.page.Newest && ids[i] >= ids[i-1] || !c.page.Newest && ids[i] <= ids[i-1] {
					t.Fatalf("out of order or repeated at %d: %v", i, ids)
				}
			}
		})
	}
}

func TestSize(t *testing.T) {
	for _, c := range []struct{ limit, want int }{{0, paging.DefaultLimit}, {-5, paging.DefaultLimit}, {7, 7}, {paging.MaxLimit + 1, paging.MaxLimit}} {
		if got := (paging.Page{Limit: c.limit}).Size(); got != c.want {
			t.Errorf("Limit %d: Size %d, want %d", c.limit, got, c.want)
		}
	}
}

// TestListEmpty: an empty listing is one empty page with no next cursor.
func TestListEmpty(t *testing.T) {
	db := openDB(t, 0)
	err := db.Read(context.Background(), func(tx *bstore.Tx) error {
		recs, next, err := paging.List(bstore.QueryTx[record](tx), paging.Page{}, func(r record) int64 { return r.ID })
		if len(recs) != 0 || next != 0 || err != nil {
			t.Errorf("got %d records, next %d, err %v", len(recs), next, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
