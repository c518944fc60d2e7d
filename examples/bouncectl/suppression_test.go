package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/suppression"
)

func TestSuppression(t *testing.T) {
	f := newFixture(t)

	out := f.ok("suppression", "list")
	contains(t, out, "BASE ADDRESS", "gone@example.com", "hardbounce", "queue", "never",
		"Blocked@Example.org", "blocked@example.org", "manual", "asked to stop")

	entries := func(args ...string) []suppression.Entry {
		t.Helper()
		return jsonOf[pageJSON[suppression.Entry]](f, append([]string{"suppression", "list"}, args...)...).Items
	}
	addrs := func(l []suppression.Entry) string {
		var s []string
		for _, e := range l {
			s = append(s, e.BaseAddress)
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "gone@example.com blocked@example.org"},
		{[]string{"-account", "bob"}, "blocked@example.org"},
		{[]string{"-category", "hardbounce"}, "gone@example.com"},
		{[]string{"-source", "api"}, "blocked@example.org"},
		{[]string{"-search", "BLOCK"}, "blocked@example.org"},
		{[]string{"-newest"}, "blocked@example.org gone@example.com"},
		{[]string{"-created-after", "+1s"}, ""},
	} {
		if got := addrs(entries(tc.args...)); got != tc.want {
			t.Errorf("list %v: %q, want %q", tc.args, got, tc.want)
		}
	}

	// Add: the base address follows the normalizer; a second add refreshes.
	out = f.ok("suppression", "add", "-account", "alice", "-reason", "complained by phone", "-expires", "+720h", "X.Y+news@Example.com")
	contains(t, out, "added X.Y+news@Example.com (base address x.y@example.com")
	res := jsonOf[[]addJSON](f, "suppression", "add", "-account", "alice", "x.y@example.com")
	if len(res) != 1 || res[0].Added || res[0].Entry.Reason != "added by operator" || !res[0].Entry.ExpiresAt.IsZero() {
		t.Errorf("refresh: %+v", res)
	}
	// The host's normalizer settings give other base addresses.
	res = jsonOf[[]addJSON](f, "suppression", "add", "-account", "alice", "-separators", "-", "-category", "complaint", "jo-hn+x@example.com")
	if len(res) != 1 || res[0].Entry.BaseAddress != "jo@example.com" || res[0].Entry.Category != suppression.CategoryComplaint {
		t.Errorf("separators: %+v", res)
	}

	// Paging.
	p := jsonOf[pageJSON[suppression.Entry]](f, "suppression", "list", "-limit", "2")
	if len(p.Items) != 2 || p.Next == 0 {
		t.Fatalf("page 1: %+v", p)
	}
	r := f.run("suppression", "list", "-limit", "2")
	contains(t, r.stderr, "more results: -cursor")
	p2 := jsonOf[pageJSON[suppression.Entry]](f, "suppression", "list", "-limit", "2", "-cursor", itoa(p.Next))
	if addrs(p2.Items) != "x.y@example.com jo@example.com" || p2.Next != 0 {
		t.Errorf("page 2: %+v", p2)
	}

	// Remove is all or none.
	stderr := f.fails(exitNotFound, "suppression", "remove", "-account", "alice", "x.y@example.com", "nobody@example.com")
	contains(t, stderr, "nobody@example.com is not on the list")
	if n := len(entries("-account", "alice")); n != 3 {
		t.Errorf("after failed remove: %d entries", n)
	}
	contains(t, f.ok("suppression", "remove", "-account", "alice", "X.Y@example.com"), "removed 1 entries")
	f.fails(exitNotFound, "suppression", "remove", "-account", "alice", "x.y@example.com")

	// Export writes CSV that import reads back, into another database.
	r = f.run("suppression", "export", "-account", "alice")
	if r.code != exitOK {
		t.Fatalf("export: %+v", r)
	}
	contains(t, r.stderr, "exported 2 entries")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	tcheck(t, err, "parsing export")
	if len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(suppression.Columns(), ",") || rows[1][1] != "gone@example.com" {
		t.Fatalf("export rows: %q", rows)
	}
	file := filepath.Join(t.TempDir(), "list.csv")
	tcheck(t, os.WriteFile(file, []byte(r.stdout), 0o600), "write csv")

	g := newFixture(t)
	contains(t, g.ok("suppression", "import", "-separators", "-", file), "imported 2 rows: 1 added, 1 refreshed")
	got := jsonOf[pageJSON[suppression.Entry]](g, "suppression", "list", "-account", "alice", "-category", "complaint").Items
	if len(got) != 1 || got[0].BaseAddress != "jo@example.com" {
		t.Errorf("imported: %+v", got)
	}

	// From standard input, with JSON output.
	g.stdin = "account,address\ncarl,carl@example.com\n"
	ir := jsonOf[suppression.ImportResult](g, "suppression", "import", "-")
	if ir.Rows != 1 || ir.Added != 1 {
		t.Errorf("stdin import: %+v", ir)
	}

	// A bad row names its line and imports nothing.
	g.stdin = "account,address\ncarl,dan@example.com\n,nobody@example.com\n"
	stderr = g.fails(exitFailure, "suppression", "import", "-")
	contains(t, stderr, "line 3", "empty account")
	if n := len(jsonOf[pageJSON[suppression.Entry]](g, "suppression", "list", "-account", "carl").Items); n != 1 {
		t.Errorf("after bad import: %d entries of carl", n)
	}
	g.fails(exitFailure, "suppression", "import", filepath.Join(t.TempDir(), "missing.csv"))

	// -active leaves out expired entries.
	g.now = t0.AddDate(1, 0, 0)
	g.ok("suppression", "add", "-account", "carl", "-expires", "-1h", "old@example.com")
	if got := addrs(jsonOf[pageJSON[suppression.Entry]](g, "suppression", "list", "-account", "carl", "-active").Items); got != "carl@example.com" {
		t.Errorf("active: %q", got)
	}
	contains(t, g.ok("suppression", "list", "-account", "carl"), "(expired)")
}

func itoa(v int64) string {
	return fmtInt(v)
}
