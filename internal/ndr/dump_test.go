package ndr

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestDump(t *testing.T) {
	if os.Getenv("NDRDUMP") == "" {
		t.Skip()
	}
	files, _ := filepath.Glob("testdata/corpus/*/*/*.eml")
	more, _ := filepath.Glob("testdata/corpus/*/*.eml")
	for _, f := range append(files, more...) {
		b, _ := os.ReadFile(f)
		r, err := Parse(b)
		if err != nil {
			fmt.Printf("%s\tERR %v\n", f[16:], err)
			continue
		}
		fmt.Printf("%s\t%s\tmid=%s\n", f[16:], r.Format, r.OriginalMessageID)
		for _, rc := range r.Recipients {
			d := rc.Diagnostic
			if len(d) > 150 {
				d = d[:150]
			}
			fmt.Printf("\t%s\t%s\t%s\t%d\t%s\n", rc.Address, rc.Action, rc.Status, rc.Code, d)
		}
	}
}
