package queue

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// formatFloorsFile pins, per format of the shared corpus, how many rows
// TestIncomingCorpus gets right, so that no format can drop while the
// totals hold (issue 17: the corpus measure "must not drop on any
// format"). Columns: format, rows, recipient and verdict right, reason
// right, recipient and class right.
const formatFloorsFile = "testdata/corpus-formats.tsv"

var updateFormats = flag.Bool("update-formats", false, "rewrite "+formatFloorsFile+" from TestIncomingCorpus's counts; only for a change that raises them, or a corpus change")

type formatCounts struct{ rows, rcpt, reason, class int }

// checkFormatFloors compares the counts per format with the pinned
// floors: a format whose count drops fails; one that rises is logged, so
// the floors can be raised with -update-formats.
func checkFormatFloors(t *testing.T, per map[string]*formatCounts) {
	t.Helper()
	if *updateFormats {
		writeFormatFloors(t, per)
		return
	}
	floors := readFormatFloors(t)
	for name, fl := range floors {
		got := per[name]
		if got == nil {
			t.Errorf("format %s: pinned in %s but absent from the corpus", name, formatFloorsFile)
			continue
		}
		if got.rows != fl.rows {
			t.Errorf("format %s: %d rows, pinned %d (the corpus changed: -update-formats)", name, got.rows, fl.rows)
			continue
		}
		for _, c := range []struct {
			what      string
			got, want int
		}{
			{"recipient and verdict", got.rcpt, fl.rcpt},
			{"reason", got.reason, fl.reason},
			{"recipient and class", got.class, fl.class},
		} {
			switch {
			case c.got < c.want:
				t.Errorf("format %s: %s right for %d of %d rows, floor %d", name, c.what, c.got, got.rows, c.want)
			case c.got > c.want:
				t.Logf("format %s: %s right for %d of %d rows, above the floor %d (raise it: -update-formats)", name, c.what, c.got, got.rows, c.want)
			}
		}
	}
	for name := range per {
		if _, ok := floors[name]; !ok {
			t.Errorf("format %s: not pinned in %s (-update-formats)", name, formatFloorsFile)
		}
	}
}

func readFormatFloors(t *testing.T) map[string]formatCounts {
	t.Helper()
	f, err := os.Open(formatFloorsFile)
	if err != nil {
		t.Fatalf("open format floors: %v", err)
	}
	defer f.Close()
	floors := map[string]formatCounts{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 5 {
			t.Fatalf("%s: bad line %q: want 5 tab-separated columns", formatFloorsFile, line)
		}
		var n [4]int
		for i := range n {
			if n[i], err = strconv.Atoi(c[i+1]); err != nil {
				t.Fatalf("%s: bad line %q: %v", formatFloorsFile, line, err)
			}
		}
		floors[c[0]] = formatCounts{rows: n[0], rcpt: n[1], reason: n[2], class: n[3]}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("read format floors: %v", err)
	}
	return floors
}

func writeFormatFloors(t *testing.T, per map[string]*formatCounts) {
	t.Helper()
	names := make([]string, 0, len(per))
	for name := range per {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# Per-format floors of TestIncomingCorpus (written by -update-formats). Columns: format (sisimai's), rows,\n")
	b.WriteString("# recipient and hard/soft verdict right, reason right, recipient and permanent/temporary class right.\n")
	for _, name := range names {
		c := per[name]
		fmt.Fprintf(&b, "%s\t%d\t%d\t%d\t%d\n", name, c.rows, c.rcpt, c.reason, c.class)
	}
	if err := os.WriteFile(formatFloorsFile, []byte(b.String()), 0o644); err != nil {
		t.Fatalf("write format floors: %v", err)
	}
}
