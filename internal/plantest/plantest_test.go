package plantest

import (
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
