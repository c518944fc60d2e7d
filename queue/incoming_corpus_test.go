package queue

import (
	"bufio"
	"fmt"
	"github.com/bouncekit/bouncekit/dsn"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// incomingCorpus is the shared corpus of real bounces (sisimai's
// set-of-emails and KumoMTA's samples), kept once in the repository by
// package report, with its README, licenses and sisimai's labels in
// expected.tsv.
const incomingCorpus = "../report/testdata/corpus"

// Floors for the corpus measurement, just below what is achieved, so a
// regression fails the test. See TestIncomingCorpus.
const (
	// The targets are 0.90 for the verdict and 0.80 for the reason; the
	// floors are what was measured, so nothing slips back.
	minCorpusVerdict = 0.93 // Failed recipient and sisimai's hard/soft verdict right, per row: 285/306.
	minCorpusClass   = 0.96 // Failed recipient and permanent/temporary as sisimai's status class: 295/306.
	minCorpusReason  = 0.83 // Reason equal to sisimai's, per row: 254/306.
)

type corpusRow struct {
	path, index, status, code, reason, engine string
	hard                                      bool
}

// readCorpusRows reads dir's expected.tsv (the shared corpus's columns):
// the rows per file path, relative to dir, and the paths in order.
func readCorpusRows(t testing.TB, dir string) (map[string][]corpusRow, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		t.Fatalf("open expected.tsv: %v", err)
	}
	defer f.Close()
	rows := map[string][]corpusRow{}
	var paths []string
	s := bufio.NewScanner(f)
	s.Scan() // Column names.
	for s.Scan() {
		c := strings.Split(s.Text(), "\t")
		if len(c) < 8 {
			t.Fatalf("bad expected.tsv line %q", s.Text())
		}
		if _, ok := rows[c[0]]; !ok {
			paths = append(paths, c[0])
		}
		rows[c[0]] = append(rows[c[0]], corpusRow{path: c[0], index: c[1], status: c[2], code: c[3], reason: c[4], hard: c[5] == "true", engine: c[7]})
	}
	if err := s.Err(); err != nil {
		t.Fatalf("read expected.tsv: %v", err)
	}
	sort.Strings(paths)
	return rows, paths
}

// corpusVerdict holds, per expected row, whether the recipient and
// hard/soft verdict are right and whether the reason is right, with what we
// found for the log.
type corpusVerdict struct {
	rcptOK, reasonOK bool
	classOK          bool // Permanent (5) or temporary (4) as sisimai's status class.
	got              string
}

// judgeCorpusFile compares what parseIncoming and classifyRcpt make of msg
// with sisimai's rows for the file.
func judgeCorpusFile(msg []byte, rows []corpusRow) []corpusVerdict {
	// Two corpus files are mboxes of two bounces; a host hands each message
	// to ProcessIncoming on its own.
	type found struct {
		rep  *incomingReport
		rcpt reportRcpt
	}
	var rep *incomingReport
	var rcpts []found
	for _, m := range splitMbox(msg) {
		r := parseIncoming(m)
		if rep == nil {
			rep = r
		}
		for _, rr := range r.rcpts {
			rcpts = append(rcpts, found{r, rr})
		}
	}
	out := make([]corpusVerdict, len(rows))
	lmsg := strings.ToLower(string(msg))
	for i, row := range rows {
		v := &out[i]
		switch {
		case row.index == "0": // Not a bounce.
			ok := rep.kind == IncomingOther
			v.rcptOK, v.reasonOK, v.classOK, v.got = ok, ok, ok, string(rep.kind)
		case row.reason == "vacation":
			ok := rep.kind == IncomingAutoReply
			v.rcptOK, v.reasonOK, v.classOK, v.got = ok, ok, ok, string(rep.kind)
		case row.reason == "feedback":
			ok := rep.kind == IncomingFeedback
			v.rcptOK, v.reasonOK, v.classOK, v.got = ok, ok, ok, string(rep.kind)
		case len(rcpts) != len(rows):
			v.got = fmt.Sprintf("%s: %d recipients, want %d", rep.kind, len(rcpts), len(rows))
		default:
			rep, rr := rcpts[i].rep, rcpts[i].rcpt
			f := classifyRcpt(rr)
			addrOK := strings.Contains(rr.address, "@") && strings.Contains(lmsg, strings.ToLower(rr.address))
			v.rcptOK = addrOK && f.HardBounce() == row.hard
			v.reasonOK = string(f.Reason) == row.reason
			perm := f.Permanent || rr.action == dsn.ActionFailed && f.Code == 0 && f.EnhancedCode.IsZero()
			v.classOK = addrOK && (row.status == "" || (row.status[0] == '5') == perm)
			v.got = fmt.Sprintf("%s %s code %d status %q -> %s/%s permanent %v hard %v diag %.160q", rep.format, rr.address, rr.code, rr.status, f.EnhancedCode, f.Reason, f.Permanent, f.HardBounce(), rr.diagnostic)
		}
	}
	return out
}

// mboxFromRe matches the "From " line that starts each message of an
// mbox: "From sender Thu Jul  2 12:05:05 2020".
var mboxFromRe = regexp.MustCompile(`(?m)^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) `)

// splitMbox splits an mbox into its messages; other input is one message.
func splitMbox(b []byte) [][]byte {
	locs := mboxFromRe.FindAllIndex(b, -1)
	if len(locs) < 2 || locs[0][0] != 0 {
		return [][]byte{b}
	}
	var msgs [][]byte
	for i, l := range locs {
		end := len(b)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		msgs = append(msgs, b[l[0]:end])
	}
	return msgs
}

// measureCorpus judges every file of dir (a corpus with an expected.tsv)
// with judgeCorpusFile, logs each row it gets wrong, and returns the counts
// per format (sisimai's engine), their total, and the table of them.
func measureCorpus(t *testing.T, dir string) (per map[string]*formatCounts, all formatCounts, table string) {
	t.Helper()
	rows, paths := readCorpusRows(t, dir)
	per = map[string]*formatCounts{}
	for _, p := range paths {
		msg, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		rs := rows[p]
		engine := rs[0].engine
		if engine == "" {
			engine = "(not a bounce)"
		}
		tl := per[engine]
		if tl == nil {
			tl = &formatCounts{}
			per[engine] = tl
		}
		for i, v := range judgeCorpusFile(msg, rs) {
			tl.rows++
			all.rows++
			if v.rcptOK {
				tl.rcpt++
				all.rcpt++
			}
			if v.reasonOK {
				tl.reason++
				all.reason++
			}
			if v.classOK {
				tl.class++
				all.class++
			}
			if !v.rcptOK || !v.reasonOK {
				t.Logf("%s #%d (%s): want %s %s hard %v; got %s", p, i+1, engine, rs[i].status, rs[i].reason, rs[i].hard, v.got)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-16s %5s %12s %12s %12s", "format", "rows", "rcpt+verdict", "reason", "rcpt+class")
	for _, e := range sortedFormats(per) {
		tl := per[e]
		fmt.Fprintf(&b, "\n%-16s %5d %12d %12d %12d", e, tl.rows, tl.rcpt, tl.reason, tl.class)
	}
	fmt.Fprintf(&b, "\n%-16s %5d %12d %12d %12d", "total", all.rows, all.rcpt, all.reason, all.class)
	return per, all, b.String()
}

func sortedFormats(per map[string]*formatCounts) []string {
	names := make([]string, 0, len(per))
	for e := range per {
		names = append(names, e)
	}
	sort.Strings(names)
	return names
}

// TestIncomingCorpus measures, over the shared corpus, how often the
// incoming path (package dsn, package report, ClassifyReply) gets sisimai's
// answer: the failed recipient with the right hard/soft verdict, and the
// reason. It logs a table per format (sisimai's engine) and asserts floors.
func TestIncomingCorpus(t *testing.T) {
	per, all, table := measureCorpus(t, incomingCorpus)
	verdict := float64(all.rcpt) / float64(all.rows)
	reason := float64(all.reason) / float64(all.rows)
	class := float64(all.class) / float64(all.rows)
	t.Logf("corpus, per format:%s\nrecipient and hard/soft verdict (sisimai's hardbounce) right: %.1f%%, reason right: %.1f%%, recipient and permanent/temporary class right: %.1f%%", table, 100*verdict, 100*reason, 100*class)
	// Read by scripts/figures for the README.
	t.Logf("figure incoming.verdict: %.1f%% of %d rows", 100*verdict, all.rows)
	t.Logf("figure incoming.reason: %.1f%%", 100*reason)
	t.Logf("figure incoming.class: %.1f%%", 100*class)
	for _, e := range sortedFormats(per) {
		tl := per[e]
		t.Logf("figure incoming.format: %s\t%d\t%d\t%d\t%d", e, tl.rows, tl.rcpt, tl.reason, tl.class)
	}
	checkFormatFloors(t, per)
	if class < minCorpusClass {
		t.Errorf("recipient and class right for %.3f of rows, floor %.3f", class, minCorpusClass)
	}
	if verdict < minCorpusVerdict {
		t.Errorf("recipient and verdict right for %.3f of rows, floor %.3f", verdict, minCorpusVerdict)
	}
	if reason < minCorpusReason {
		t.Errorf("reason right for %.3f of rows, floor %.3f", reason, minCorpusReason)
	}
}
