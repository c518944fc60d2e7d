package plantest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mjl-/bstore"
)

func TestPlan(t *testing.T) {
	for _, c := range []struct {
		d    bstore.Stats
		want string
	}{
		{bstore.Stats{PlanIndexScan: 1}, Index},
		{bstore.Stats{PlanUnique: 2}, Unique},
		{bstore.Stats{PlanPK: 1}, PK},
		{bstore.Stats{PlanPKScan: 1}, PKScan},
		{bstore.Stats{PlanIndexScan: 1, PlanPKScan: 1}, "mixed"},
		{bstore.Stats{PlanTableScan: 1, PlanIndexScan: 1}, "mixed"},
	} {
		if got := Plan(c.d); !strings.HasPrefix(got, c.want) {
			t.Errorf("Plan(%+v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestVerdict(t *testing.T) {
	c := Case{Type: "Entry", Index: "Account", Plan: Index, MaxReads: 10}
	good := bstore.Stats{PlanIndexScan: 1, LastType: "Entry", LastIndex: "Account"}
	good.Records.Cursor = 5
	if v := verdict(c, good); v != "" {
		t.Errorf("good run: %s", v)
	}
	wrongIndex := good
	wrongIndex.LastIndex = "Created"
	tooMany := good
	tooMany.Index.Cursor = 6
	scan := good
	scan.PlanTableScan = 1
	for name, d := range map[string]bstore.Stats{"wrong index": wrongIndex, "too many reads": tooMany, "table scan": scan} {
		if v := verdict(c, d); v == "" {
			t.Errorf("%s: passed", name)
		}
	}
	anyCase := Case{Type: "Msg", Plan: Any, MaxReads: 10}
	if v := verdict(anyCase, bstore.Stats{PlanIndexScan: 1, PlanPK: 3, LastType: "Other", LastIndex: "X"}); v != "" {
		t.Errorf("any, no table scan: %s", v)
	}
	if v := verdict(anyCase, bstore.Stats{PlanTableScan: 1}); v == "" {
		t.Errorf("any with a table scan passed")
	}
}

func TestReadPages(t *testing.T) {
	type A struct {
		ID int64
		S  string `bstore:"index"`
	}
	type B struct {
		ID int64
		T  string
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pages.db")
	db, err := bstore.Open(ctx, path, nil, A{}, B{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		for i := range 2000 {
			if err := tx.Insert(&A{S: fmt.Sprintf("a%d", i)}, &B{T: strings.Repeat("b", 100)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		write func(tx *bstore.Tx) error
		want  string
	}{
		{"update unindexed field of B", func(tx *bstore.Tx) error { return tx.Update(&B{ID: 1000, T: "x"}) }, " B B/records"},
		{"insert A", func(tx *bstore.Tx) error { return tx.Insert(&A{S: "new"}) }, " A A/index.S A/records"},
		{"nothing", func(tx *bstore.Tx) error { return nil }, ""},
	} {
		before, err := ReadPages(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, c.write); err != nil {
			t.Fatal(err)
		}
		after, err := ReadPages(path)
		if err != nil {
			t.Fatal(err)
		}
		w := Written(before, after)
		if got := strings.Join(Names(w), " "); got != c.want {
			t.Errorf("%s: buckets written %q, want %q", c.name, got, c.want)
		}
		// A tree of 2000 records has branch pages: a change writes at
		// least a leaf and its branch.
		if c.want != "" && w["B/records"]+w["A/records"] < 2 {
			t.Errorf("%s: %v, want a leaf and a branch page of the records", c.name, w)
		}
	}
}
