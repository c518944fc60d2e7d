package report

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.golden")

// TestCorpusGolden compares what readText returns for every corpus file with
// testdata/corpus.golden: format, original Message-ID and, per recipient,
// address, action, status, code, command and diagnostic. The golden file was reviewed
// by hand against the bounces when written; expected.tsv has no addresses or
// diagnostics to check them with. Run with -update after an intended change
// and review the diff.
func TestCorpusGolden(t *testing.T) {
	var files []string
	err := filepath.WalkDir(corpusDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".eml") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk corpus: %v", err)
	}
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		msg, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		name := filepath.ToSlash(strings.TrimPrefix(f, corpusDir+string(filepath.Separator)))
		r, err := readText(msg)
		if err != nil {
			fmt.Fprintf(&b, "%s\terror: %v\n", name, err)
			continue
		}
		fmt.Fprintf(&b, "%s\t%s\tautoreply=%v dsn=%v\tmsgid=%s\n", name, r.Format, r.AutoReply, r.DSN, r.OriginalMessageID)
		if c := r.Complaint; c != nil {
			fmt.Fprintf(&b, "\tcomplaint\t%s\t%s\t%s\n", strings.Join(c.Recipients, ","), c.FeedbackType, c.UserAgent)
		}
		for _, rc := range r.Recipients {
			fmt.Fprintf(&b, "\t%s\t%s\t%s\t%d\t%s\t%s\n", rc.Address, rc.Action, rc.Status, rc.Code, rc.Command, rc.Diagnostic)
		}
	}
	golden := filepath.Join("testdata", "corpus.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	got := strings.Split(b.String(), "\n")
	exp := strings.Split(string(want), "\n")
	for i := 0; i < max(len(got), len(exp)); i++ {
		var g, e string
		if i < len(got) {
			g = got[i]
		}
		if i < len(exp) {
			e = exp[i]
		}
		if g != e {
			t.Fatalf("corpus output differs from %s at line %d:\ngot:  %q\nwant: %q\n(run go test -run TestCorpusGolden -update and review the diff)", golden, i+1, g, e)
		}
	}
}
