package pgsuppression_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/suppression"
)

// ImportCheck calls the check with every row, base address computed,
// before it writes anything: a refused row leaves the list as it was, and
// the error names the row's line.
func TestImportCheck(t *testing.T) {
	ctx := context.Background()
	s := open(t, func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) })
	errOther := errors.New("not alice's")
	var seen []string
	onlyAlice := func(e suppression.Entry) error {
		seen = append(seen, e.Account+":"+e.BaseAddress)
		if e.Account != "alice" {
			return errOther
		}
		return nil
	}
	const csv = "account,address\r\nalice,One+x@example.com\r\nbob,two@example.com\r\n"
	_, err := s.ImportCheck(ctx, strings.NewReader(csv), onlyAlice)
	var ierr *suppression.ImportError
	if !errors.As(err, &ierr) || ierr.Line != 3 || !errors.Is(err, errOther) {
		t.Fatalf("import: %v, want an ImportError of line 3 wrapping the check's error", err)
	}
	if got := strings.Join(seen, " "); got != "alice:one@example.com bob:two@example.com" {
		t.Fatalf("checked %q", got)
	}
	n, err := s.Count(ctx, suppression.Filter{})
	tcheck(t, err, "count")
	if n != 0 {
		t.Fatalf("%d entries after a refused import, want 0", n)
	}

	res, err := s.ImportCheck(ctx, strings.NewReader("account,address\r\nalice,one@example.com\r\n"), onlyAlice)
	tcheck(t, err, "import")
	if res != (suppression.ImportResult{Rows: 1, Added: 1}) {
		t.Fatalf("import result %+v", res)
	}
	if _, ok, err := s.Lookup(ctx, "alice", "one@example.com"); err != nil || !ok {
		t.Fatalf("lookup after import: %v, %v", ok, err)
	}
}
