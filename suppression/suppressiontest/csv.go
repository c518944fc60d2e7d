package suppressiontest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/suppression"
)

func testExport(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	_, _, err := s.Add(ctx, suppression.Entry{
		Account: "acc", OriginalAddress: "Bob+x@Example.org", Reason: "gone, really",
		Category: suppression.CategoryHardBounce, Source: suppression.SourceDSN, Code: 550, EnhancedCode: "5.1.1",
	})
	tcheck(t, err, "add")
	if _, _, err := s.Add(ctx, suppression.Entry{Account: "other", OriginalAddress: "x@example.org"}); err != nil {
		t.Fatalf("add: %v", err)
	}
	clk.Advance(time.Minute)
	_, _, err = s.Add(ctx, suppression.Entry{
		Account: "acc", OriginalAddress: "carol@example.org", Reason: `said "no"`,
		Category: suppression.CategorySoftBounce, Source: suppression.SourceQueue, ExpiresAt: t0.Add(time.Hour + time.Microsecond),
	})
	tcheck(t, err, "add")
	hits, lastHit := "", ""
	if st, ok := s.(Stopper); ok {
		clk.Advance(time.Minute)
		if _, _, err := st.Stop(ctx, "acc", "bob@example.org"); err != nil {
			t.Fatalf("stop: %v", err)
		}
		hits, lastHit = "1", "2025-03-01T12:02:00Z"
	}

	var buf bytes.Buffer
	n, err := s.Export(ctx, &buf, suppression.Filter{Account: "acc"})
	tcheck(t, err, "export")
	if n != 2 {
		t.Fatalf("exported %d entries, want 2", n)
	}
	out := buf.String()
	if strings.Count(out, "\n") != strings.Count(out, "\r\n") || !strings.HasSuffix(out, "\r\n") {
		t.Fatalf("export does not end its lines with CRLF (RFC 4180): %q", out)
	}
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	tcheck(t, err, "reading the export")
	want := [][]string{
		suppression.Columns(),
		{"acc", "Bob+x@Example.org", "bob@example.org", "hardbounce", "dsn", "gone, really", "550", "5.1.1", "2025-03-01T12:00:00Z", "2025-03-01T12:00:00Z", hits, lastHit, ""},
		{"acc", "carol@example.org", "carol@example.org", "softbounce", "queue", `said "no"`, "", "", "2025-03-01T12:01:00Z", "2025-03-01T12:01:00Z", "", "", "2025-03-01T13:00:00.000001Z"},
	}
	if len(records) != len(want) {
		t.Fatalf("export has %d records, want %d:\n%s", len(records), len(want), out)
	}
	for i := range want {
		for j := range want[i] {
			if !sameField(records[i][j], want[i][j]) {
				t.Fatalf("export record %d, column %s: %q, want %q", i, want[0][j], records[i][j], want[i][j])
			}
		}
	}
}

// sameField compares a CSV field: times as instants, others as text.
func sameField(got, want string) bool {
	if got == want {
		return true
	}
	g, gerr := time.Parse(time.RFC3339Nano, got)
	w, werr := time.Parse(time.RFC3339Nano, want)
	return gerr == nil && werr == nil && g.Equal(w)
}

func testImportRoundTrip(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	// A byte order mark and columns in another order than Export's.
	in := "\uFEFFaccount,address,category,source,reason,code,enhanced_code,created,last_seen,hits,last_hit,expires_at\r\n" +
		`acc,Bob+x@Example.org,hardbounce,dsn,"gone, really",550,5.1.1,2025-01-02T03:04:05.123456Z,2025-01-03T00:00:00Z,4,2025-01-04T00:00:00Z,` + "\r\n" +
		"acc,carol@example.org,,,,,,,,,,2026-01-01T00:00:00+01:00\r\n"
	res, err := s.Import(ctx, strings.NewReader(in))
	tcheck(t, err, "import")
	if res != (suppression.ImportResult{Rows: 2, Added: 2}) {
		t.Fatalf("import result %+v", res)
	}
	tests := []struct {
		address string
		want    suppression.Entry
	}{
		{"bob@example.org", suppression.Entry{
			Account: "acc", BaseAddress: "bob@example.org", OriginalAddress: "Bob+x@Example.org", Reason: "gone, really",
			Category: suppression.CategoryHardBounce, Source: suppression.SourceDSN, Code: 550, EnhancedCode: "5.1.1",
			Created:  time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC),
			LastSeen: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC),
			Hits:     4, LastHit: time.Date(2025, 1, 4, 0, 0, 0, 0, time.UTC),
		}},
		{"carol@example.org", suppression.Entry{
			Account: "acc", BaseAddress: "carol@example.org", OriginalAddress: "carol@example.org",
			Category: suppression.CategoryImport, Source: suppression.SourceImport, Created: t0, LastSeen: t0,
			ExpiresAt: time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC),
		}},
	}
	for _, tc := range tests {
		e, ok, err := s.Lookup(ctx, "acc", tc.address)
		tcheck(t, err, "lookup")
		if !ok {
			t.Fatalf("imported %s not found", tc.address)
		}
		tentry(t, e, tc.want, "imported "+tc.address)
	}
}

func testImportMerges(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	if _, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com"}); err != nil {
		t.Fatalf("add: %v", err)
	}
	in := "account,address,category\n" +
		"acc,John+a@example.com,softbounce\n" + // Does not weaken the manual entry.
		"acc,jane@example.com,hardbounce\n" +
		"acc,JANE@example.com,complaint\n"
	res, err := s.Import(ctx, strings.NewReader(in))
	tcheck(t, err, "import")
	if res != (suppression.ImportResult{Rows: 3, Added: 1, Updated: 2}) {
		t.Fatalf("import result %+v", res)
	}
	for address, want := range map[string]suppression.Category{"john@example.com": suppression.CategoryManual, "jane@example.com": suppression.CategoryComplaint} {
		e, ok, err := s.Lookup(ctx, "acc", address)
		tcheck(t, err, "lookup")
		if !ok || e.Category != want {
			t.Fatalf("%s after import: found %v, category %q, want %q", address, ok, e.Category, want)
		}
	}
	n, err := s.Count(ctx, suppression.Filter{})
	tcheck(t, err, "count")
	if n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
}

func testImportBadRow(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	if _, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com"}); err != nil {
		t.Fatalf("add: %v", err)
	}
	tests := []struct {
		name string
		in   string
		line int
	}{
		{"empty", "", 1},
		{"no address column", "account,reason\nacc,x\n", 1},
		{"unknown column", "account,address,bogus\nacc,a@example.com,x\n", 1},
		{"unknown category after a quoted line break", "account,address,reason,category\nacc,a@example.com,\"two\nlines\",\nacc,b@example.com,,bogus\n", 4},
		{"malformed address", "account,address\nacc,a@example.com\nacc,b@\n", 3},
		{"empty account", "account,address\nacc,a@example.com\n,b@example.com\n", 3},
		{"bad time", "account,address,created\nacc,a@example.com,yesterday\n", 2},
	}
	for _, tc := range tests {
		_, err := s.Import(ctx, strings.NewReader(tc.in))
		var ierr *suppression.ImportError
		if !errors.As(err, &ierr) || ierr.Line != tc.line {
			t.Errorf("%s: import gave %v, want an ImportError on line %d", tc.name, err, tc.line)
		}
	}
	entries, _, err := s.List(ctx, suppression.Filter{}, pageAll)
	tcheck(t, err, "list")
	if len(entries) != 1 || entries[0].BaseAddress != "john@example.com" {
		t.Fatalf("after failed imports: %+v, want only john@example.com", entries)
	}
}

// testExportImport exports one store and imports into another: the
// entries are the same, and so is their export.
func testExportImport(t *testing.T, a, b Store, clk *clock) {
	ctx := context.Background()
	adds := []suppression.Entry{
		{Account: "acc", OriginalAddress: "Bob+x@Example.org", Reason: "line\nbreak", Category: suppression.CategoryHardBounce, Source: suppression.SourceDSN, Code: 550, EnhancedCode: "5.1.1"},
		{Account: "acc", OriginalAddress: "carol@example.org", Category: suppression.CategorySoftBounce, ExpiresAt: t0.Add(24 * time.Hour)},
		{Account: "other", OriginalAddress: "\"j d\"@[192.0.2.1]"},
		{Account: "other", OriginalAddress: "ü@bücher.example"},
	}
	for _, e := range adds {
		clk.Advance(time.Second + time.Microsecond)
		if _, _, err := a.Add(ctx, e); err != nil {
			t.Fatalf("add %s: %v", e.OriginalAddress, err)
		}
	}
	if st, ok := a.(Stopper); ok {
		if _, _, err := st.Stop(ctx, "acc", "bob@example.org"); err != nil {
			t.Fatalf("stop: %v", err)
		}
	}
	var exportA bytes.Buffer
	n, err := a.Export(ctx, &exportA, suppression.Filter{})
	tcheck(t, err, "export")
	clk.Advance(time.Hour)
	res, err := b.Import(ctx, bytes.NewReader(exportA.Bytes()))
	tcheck(t, err, "import")
	if n != len(adds) || res != (suppression.ImportResult{Rows: n, Added: n}) {
		t.Fatalf("exported %d, import result %+v", n, res)
	}
	la, _, err := a.List(ctx, suppression.Filter{}, pageAll)
	tcheck(t, err, "list a")
	lb, _, err := b.List(ctx, suppression.Filter{}, pageAll)
	tcheck(t, err, "list b")
	if len(la) != len(lb) {
		t.Fatalf("%d entries imported from %d", len(lb), len(la))
	}
	for i := range la {
		tentry(t, lb[i], la[i], "imported entry")
	}
	var exportB bytes.Buffer
	if _, err := b.Export(ctx, &exportB, suppression.Filter{}); err != nil {
		t.Fatalf("export b: %v", err)
	}
	if exportA.String() != exportB.String() {
		t.Fatalf("exports differ:\n%s\n%s", exportA.String(), exportB.String())
	}
}
