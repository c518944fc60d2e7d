package suppression

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mjl-/bstore"
)

func TestImportCheck(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	input := "account,address\r\n" +
		"acc,one@example.com\r\n" +
		"acc,two@example.com\r\n" +
		"other,three@example.com\r\n"
	errOther := errors.New("not acc")
	onlyAcc := func(e Entry) error {
		if e.Account != "acc" {
			return fmt.Errorf("%w: %s", errOther, e.Account)
		}
		if e.BaseAddress == "" {
			return errors.New("base address not computed")
		}
		return nil
	}

	// The third row fails the check: nothing is written, the error names line 4.
	err := s.DB.Write(ctx, func(tx *bstore.Tx) error {
		_, err := s.ImportCheckTx(tx, strings.NewReader(input), c.Now(), onlyAcc)
		return err
	})
	var ierr *ImportError
	if !errors.As(err, &ierr) || ierr.Line != 4 || !errors.Is(err, errOther) {
		t.Fatalf("got %v, want an ImportError for line 4 wrapping the check's error", err)
	}
	n, err := s.Count(ctx, Filter{})
	tcheck(t, err, "count")
	if n != 0 {
		t.Fatalf("%d entries after a failed check, want 0", n)
	}

	// Without the failing row all are written.
	var res ImportResult
	err = s.DB.Write(ctx, func(tx *bstore.Tx) error {
		res, err = s.ImportCheckTx(tx, strings.NewReader(strings.TrimSuffix(input, "other,three@example.com\r\n")), c.Now(), onlyAcc)
		return err
	})
	tcheck(t, err, "import")
	if res != (ImportResult{Rows: 2, Added: 2}) {
		t.Fatalf("result %+v", res)
	}
}
