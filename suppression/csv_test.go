package suppression

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/paging"
)

func TestImportExport(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)

	input := "\uFEFFAccount,address,category,reason,code,enhanced_code,expires_at\r\n" +
		"acc,John+x@Example.com,hardbounce,\"user unknown, said the server\",550,5.1.1,\r\n" +
		"acc,jane@example.com,,from postal,,,2025-04-01T00:00:00Z\r\n" +
		"other,\"\"\"quoted person\"\"@example.com\",manual,\"multi\r\nline\",,,\r\n" +
		"acc,JOHN@example.com,complaint,,,,\r\n" // Same base address as line 2: merged.
	res, err := s.Import(ctx, strings.NewReader(input))
	tcheck(t, err, "import")
	if res != (ImportResult{Rows: 4, Added: 3, Updated: 1}) {
		t.Fatalf("import result %+v", res)
	}
	john, ok, err := s.Lookup(ctx, "acc", "john@example.com")
	tcheck(t, err, "lookup")
	if !ok || john.Category != CategoryComplaint || john.Source != SourceImport || john.OriginalAddress != "John+x@Example.com" {
		t.Fatalf("john: %+v", john)
	}
	jane, ok, err := s.Lookup(ctx, "acc", "jane@example.com")
	tcheck(t, err, "lookup")
	if !ok || jane.Category != CategoryImport || !jane.ExpiresAt.Equal(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) || jane.Reason != "from postal" {
		t.Fatalf("jane: %+v", jane)
	}
	q, ok, err := s.Lookup(ctx, "other", `"Quoted Person"@example.com`)
	tcheck(t, err, "lookup")
	if !ok || q.Reason != "multi\nline" { // encoding/csv reads a quoted CRLF as LF.
		t.Fatalf("quoted: %+v", q)
	}

	// Export, import into a fresh store, export again: identical.
	var out bytes.Buffer
	n, err := s.Export(ctx, &out, Filter{})
	tcheck(t, err, "export")
	if n != 3 || !strings.HasPrefix(out.String(), strings.Join(Columns(), ",")+"\r\n") {
		t.Fatalf("export of %d entries:\n%s", n, out.String())
	}
	s2, _ := newStore(t)
	res, err = s2.Import(ctx, bytes.NewReader(out.Bytes()))
	tcheck(t, err, "reimport")
	if res.Added != 3 {
		t.Fatalf("reimport %+v", res)
	}
	var out2 bytes.Buffer
	_, err = s2.Export(ctx, &out2, Filter{})
	tcheck(t, err, "export again")
	if out.String() != out2.String() {
		t.Fatalf("round trip differs:\n%s\n%s", out.String(), out2.String())
	}

	out.Reset()
	n, err = s.Export(ctx, &out, Filter{Account: "other"})
	tcheck(t, err, "export account")
	if n != 1 || strings.Count(out.String(), "@") != 2 {
		t.Fatalf("filtered export of %d:\n%s", n, out.String())
	}
}

func TestImportBadRow(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		input string
		line  int
	}{
		{"bad address", "account,address\nacc,a@example.com\nacc,b@example.com\nacc,not an address\nacc,c@example.com\n", 4},
		{"bad category", "account,address,category\nacc,a@example.com,\nacc,b@example.com,bogus\n", 3},
		{"bad time", "account,address,expires_at\nacc,a@example.com,\nacc,b@example.com,tomorrow\n", 3},
		{"bad code", "account,address,code\nacc,a@example.com,5x0\n", 2},
		{"negative hits", "account,address,hits\nacc,a@example.com,-1\n", 2},
		{"empty account", "account,address\nacc,a@example.com\n,b@example.com\n", 3},
		{"empty address", "account,address\nacc,\n", 2},
		{"field count", "account,address\nacc,a@example.com\nacc,b@example.com,extra\n", 3},
		{"bad quote", "account,address\nacc,a@example.com\nacc,\"b@example.com\n", 3},
		{"after multiline field", "account,address,reason\nacc,a@example.com,\"two\nlines\"\nacc,bad,\n", 4},
		{"unknown column", "account,address,colour\nacc,a@example.com,red\n", 1},
		{"duplicate column", "account,address,address\nacc,a@example.com,b@example.com\n", 1},
		{"missing address column", "account,reason\nacc,x\n", 1},
		{"missing account column", "address\na@example.com\n", 1},
		{"empty input", "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newStore(t)
			_, _, err := s.Add(ctx, Entry{Account: "acc", OriginalAddress: "a@example.com", Reason: "before"})
			tcheck(t, err, "add")

			_, err = s.Import(ctx, strings.NewReader(tc.input))
			var ierr *ImportError
			if !errors.As(err, &ierr) {
				t.Fatalf("import error %v (%T), expected *ImportError", err, err)
			}
			if ierr.Line != tc.line {
				t.Fatalf("error on line %d, expected %d: %v", ierr.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Fatalf("error text without line: %v", err)
			}
			// Nothing written: only the entry from before, unchanged.
			l, _, err := s.List(ctx, Filter{}, paging.Page{})
			tcheck(t, err, "list")
			if len(l) != 1 || l[0].Reason != "before" || l[0].Source != SourceAPI {
				t.Fatalf("import wrote despite error: %+v", l)
			}
		})
	}
}
