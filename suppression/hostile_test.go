package suppression

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/hostile"
)

// TestHostileNormalize runs Normalize on hostile addresses with hostile
// configurations: each gives an error wrapping ErrAddress or a base address
// that is valid UTF-8, has no control characters (it is shown in webhook
// payloads, CSV exports and logs) and normalizes to itself; and no call
// allocates more than its bound.
func TestHostileNormalize(t *testing.T) {
	addrs := append([]string{
		"a@" + strings.Repeat("b", hostile.LongLine),
		strings.Repeat("a", hostile.LongLine) + "@example.com",
		strings.Repeat("a.", MaxAddressLen/2-10) + "@gmail.com",
		strings.Repeat("+", MaxAddressLen-20) + "@example.com",
		"\"" + strings.Repeat("\\\"", 400) + "\"@example.com",
		"\"a\r\nBcc: x\"@example.com",
		"\"a\x00\"@example.com",
		"a@[IPv6:" + strings.Repeat("1:", 400) + "1]",
		"a@" + strings.Repeat("xn--", 200) + ".com",
		"a@xn--" + strings.Repeat("9", 900) + ".com",
		"a@" + strings.Repeat("\u00e9", 300) + ".com",
		"a@-.com", "a@.", "a@..", "@", "a@", "@b", "a@b@c",
	}, hostile.Strings...)
	norms := []Normalizer{
		{},
		{Separators: []string{"", "\x00", "\r\n", "\xff", strings.Repeat("+", 100)}, DotlessDomains: []string{"", "\xff", "example.com"}},
		{Separators: []string{}, DotlessDomains: []string{}},
	}
	for i, n := range norms {
		for j, a := range addrs {
			t.Run(fmt.Sprintf("%d/%d", i, j), func(t *testing.T) {
				// Addresses over MaxAddressLen are refused before any
				// work; others cost a small multiple of their length.
				hostile.Check(t, 64<<10, func() {
					base, err := n.Normalize(a)
					if err != nil {
						if !errors.Is(err, ErrAddress) {
							t.Fatalf("error %v does not wrap ErrAddress", err)
						}
						return
					}
					if !utf8.ValidString(base) || strings.ContainsFunc(base, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
						t.Fatalf("base address %q from %q has control characters or invalid utf-8", base, a)
					}
					again, err := n.Normalize(base)
					if err != nil || again != base {
						t.Fatalf("normalizing base %q gave %q, %v", base, again, err)
					}
				})
			})
		}
	}
}

// hostileCSV are the hostile imports of TestHostileImport, each with the
// bound of the bytes ImportTx may allocate, and the line of the error
// (0: the import succeeds; -1: any *ImportError).
func hostileCSV() []struct {
	name  string
	input func() io.Reader
	bound uint64
	line  int
} {
	const mb = 1 << 20
	const head = "account,address,reason\r\n"
	str := func(s string) func() io.Reader { return func() io.Reader { return strings.NewReader(s) } }
	rows := func(n int) func() io.Reader {
		return hostile.NewRepeated(head, "acc,a@example.com,bounced\r\n", "", int64(len(head)+n*len("acc,a@example.com,bounced\r\n"))).Reader
	}
	return []struct {
		name  string
		input func() io.Reader
		bound uint64
		line  int
	}{
		{"empty", str(""), 64 << 10, 1},
		{"header only", str(head), 64 << 10, 0},
		{"ok", str(head + "acc,a@example.com,x\r\n"), 256 << 10, 0},
		// A line that never ends is refused at the record limit, not
		// buffered: the bound holds for any size.
		{"150MB line", hostile.NewRepeated(head+"acc,a@example.com,", "r", "\r\n", hostile.BigMessage).Reader, 1 * mb, 2},
		{"150MB quoted field with line breaks", hostile.NewRepeated(head+"acc,a@example.com,\"", "r\r\n", "\"\r\n", hostile.BigMessage).Reader, 1 * mb, 2},
		{"150MB header", hostile.NewRepeated("account,address,", "reason", "\r\n", hostile.BigMessage).Reader, 1 * mb, 1},
		{"1MB reason", str(head + "acc,a@example.com," + strings.Repeat("r", hostile.LongLine) + "\r\n"), 1 * mb, 2},
		// Rows are checked before anything is written, so they are
		// held in memory, and each is then added in the transaction:
		// proportional to their number, 8 KiB a row (mostly bstore's
		// work per row, freed again: the peak is far less).
		{"100k rows", rows(hostile.ManyRecipients), hostile.ManyRecipients * 8 << 10, 0},
		{"100k columns", str(head[:len(head)-2] + strings.Repeat(",reason", 100_000) + "\r\n"), 2 * mb, 1},
		{"NUL in address", str(head + "acc,a\x00@example.com,x\r\n"), 64 << 10, 2},
		{"invalid UTF-8 in address", str(head + "acc,\xff@example.com,x\r\n"), 64 << 10, 2},
		{"CRLF in quoted address", str(head + "acc,\"a\r\nBcc: x@example.com\",x\r\n"), 64 << 10, 2},
		{"bare quote", str(head + "acc,a\"b@example.com,x\r\n"), 64 << 10, 2},
		{"unterminated quote", str(head + "acc,\"a@example.com,x\r\n"), 64 << 10, 2},
		{"BOM", str("\ufeff" + head + "acc,a@example.com,x\r\n"), 256 << 10, 0},
		{"wrong field count", str(head + "acc,a@example.com\r\n"), 64 << 10, 2},
	}
}

// TestHostileImport runs ImportTx on hostile CSV: each gives the result or
// an *ImportError with the line, never a panic, and allocates at most the
// bound of its case.
func TestHostileImport(t *testing.T) {
	for _, c := range hostileCSV() {
		t.Run(c.name, func(t *testing.T) {
			s, clk := newStore(t)
			r := c.input()
			var res ImportResult
			var err error
			hostile.Check(t, c.bound, func() {
				err = s.DB.Write(context.Background(), func(tx *bstore.Tx) error {
					res, err = s.ImportTx(tx, r, clk.Now())
					return err
				})
			})
			var ierr *ImportError
			switch {
			case c.line == 0 && err != nil:
				t.Fatalf("import: %v", err)
			case c.line == 0:
				t.Logf("imported %d rows", res.Rows)
			case !errors.As(err, &ierr):
				t.Fatalf("got %v, want an *ImportError", err)
			case c.line > 0 && ierr.Line != c.line:
				t.Fatalf("error %v on line %d, want line %d", err, ierr.Line, c.line)
			default:
				t.Logf("error: %.200v", err)
			}
		})
	}
}

// BenchmarkHostileImport measures ImportTx on the hostile imports: their
// time bound. The transaction is rolled back after each.
func BenchmarkHostileImport(b *testing.B) {
	for _, c := range hostileCSV() {
		b.Run(strings.ReplaceAll(c.name, " ", "-"), func(b *testing.B) {
			s := &Store{DB: openDB(b)}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				tx, err := s.DB.Begin(context.Background(), true)
				if err != nil {
					b.Fatal(err)
				}
				s.ImportTx(tx, c.input(), t0)
				tx.Rollback()
			}
		})
	}
}
