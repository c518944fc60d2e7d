package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// perfRow is one row of the performance table: a benchmark and how to
// show it.
type perfRow struct {
	What  string // The row's label.
	Pkg   string // The package, as a go test argument.
	Bench string // The benchmark, with "/sub" for a sub-benchmark.

	// Unit is the figure shown: a time unit ("ns/op", "ns/msg") shown as
	// a duration, or a rate ("hooks/s"). Empty: ns/op.
	Unit string

	// Baseline, when set, is a benchmark of the same package whose Unit
	// the row is divided by, shown as "N.Nx BaselineWhat".
	Baseline     string
	BaselineWhat string

	Target string // The target, as the issue gave it; may be empty.
}

// perfRows are the rows of the README's performance table, in order.
var perfRows = []perfRow{
	{What: "`Classify` of an `*SMTPError` with enhanced code", Pkg: "./bounce", Bench: "BenchmarkClassifySMTPError"},
	{What: "`Classify` of a code-only reply (text rules)", Pkg: "./bounce", Bench: "BenchmarkClassifyCodeOnlyText", Target: "< 3 µs"},
	{What: "`Classify` of a reply about our sender with echoed addresses", Pkg: "./bounce", Bench: "BenchmarkClassifySenderRejected"},
	{What: "`Classify` of a mix of real replies (the reply tables and the live set)", Pkg: "./bounce", Bench: "BenchmarkClassifyMix"},
	{What: "the text rules' scan of one reply of that mix", Pkg: "./bounce", Bench: "BenchmarkScanText"},
	{What: "`RetryPolicy.Decide`", Pkg: "./queue", Bench: "BenchmarkRetryDecide"},
	{What: "`dsn` Compose, 10 KB original, RET=FULL", Pkg: "./dsn", Bench: "BenchmarkComposeFull"},
	{What: "`dsn` Compose, 10 KB original, RET=HDRS", Pkg: "./dsn", Bench: "BenchmarkComposeHeaders"},
	{What: "`dsn` Parse, per corpus message", Pkg: "./dsn", Bench: "BenchmarkParseCorpus", Unit: "ns/msg"},
	{What: "suppression Lookup, 1,000,000 entries, 1,000 accounts", Pkg: "./suppression", Bench: "BenchmarkLookup", Target: "< 20 µs"},
	{What: "suppression Add, batches of 1,000 per transaction", Pkg: "./suppression", Bench: "BenchmarkAdd", Unit: "adds/s", Target: "> 50,000/s"},
	{What: "suppression List of an account, first 100 of its 1,000", Pkg: "./suppression", Bench: "BenchmarkListAccount"},
	{What: "webhook delivery to one loopback endpoint, 4 in flight", Pkg: "./hookqueue", Bench: "BenchmarkDeliver/concurrency=4", Unit: "hooks/s", Target: "> 5,000/s"},
	{What: "webhook delivery to one loopback endpoint, 16 in flight", Pkg: "./hookqueue", Bench: "BenchmarkDeliver/concurrency=16", Unit: "hooks/s"},
	{What: "bare update of 100 messages in one transaction, per message", Pkg: "./queue", Bench: "BenchmarkBareUpdate", Unit: "ns/msg"},
	{What: "FailMsgs, temporary failure, 100 msgs/tx, per message", Pkg: "./queue", Bench: "BenchmarkFailMsgsTemporary", Unit: "ns/msg", Baseline: "BenchmarkBareUpdate", BaselineWhat: "a bare update", Target: "<= 3x a bare update"},
	{What: "FailMsgs, permanent (DSN, suppression, retire, webhook), per message", Pkg: "./queue", Bench: "BenchmarkFailMsgsPermanent", Unit: "ns/msg", Baseline: "BenchmarkBareUpdate", BaselineWhat: "a bare update", Target: "<= 8x a bare update"},
	{What: "bare transaction updating one record", Pkg: "./queue", Bench: "BenchmarkBareUpdateOne"},
	{What: "ProcessIncoming, soft-failure DSNs about one message (its 20 newest report results kept), matched by FromID, one tx each", Pkg: "./queue", Bench: "BenchmarkProcessIncomingDSN"},
	{What: "ProcessIncoming, a hard-bounce DSN about another message each time, matched by FromID, one tx each (the webhooks pile up: no worker)", Pkg: "./queue", Bench: "BenchmarkProcessIncomingNewDSN"},
	{What: "ProcessIncoming, a qmail text bounce (a duplicate after the first)", Pkg: "./queue", Bench: "BenchmarkProcessIncomingTextBounce"},
	{What: "`delivery` of 100 recipients in one pipelined transaction to a loopback go-smtp server", Pkg: "./delivery", Bench: "BenchmarkDeliver", Unit: "msgs/s"},
	{What: "… allocations per recipient (the in-process server's included)", Pkg: "./delivery", Bench: "BenchmarkDeliver", Unit: "allocs/rcpt"},
	{What: "… the same, one command at a time", Pkg: "./delivery", Bench: "BenchmarkDeliverStepwise", Unit: "msgs/s"},
	{What: "… go-smtp's client driven by hand, one command at a time", Pkg: "./delivery", Bench: "BenchmarkGoSMTPByHand", Unit: "msgs/s"},
	{What: "… its allocations per recipient", Pkg: "./delivery", Bench: "BenchmarkGoSMTPByHand", Unit: "allocs/rcpt"},
}

// performanceTable runs every benchmark of perfRows and formats the table.
func performanceTable(count int) (string, error) {
	byPkg := map[string][]string{}
	var pkgs []string
	for _, r := range perfRows {
		for _, name := range []string{r.Bench, r.Baseline} {
			if name == "" {
				continue
			}
			top, _, _ := strings.Cut(name, "/")
			if byPkg[r.Pkg] == nil {
				pkgs = append(pkgs, r.Pkg)
			}
			if !contains(byPkg[r.Pkg], top) {
				byPkg[r.Pkg] = append(byPkg[r.Pkg], top)
			}
		}
	}
	all := map[string]results{}
	for _, pkg := range pkgs {
		r, err := runBenchmarks(pkg, byPkg[pkg], count)
		if err != nil {
			return "", err
		}
		all[pkg] = r
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Measured by `scripts/figures` (`go test -bench -benchmem -count %d`; median, with the range when runs differ by more than a tenth) on %s; the databases are on disk.\n\n", count, machine())
	b.WriteString("| what | measured | target |\n|---|---|---|\n")
	for _, r := range perfRows {
		m := all[r.Pkg][r.Bench]
		if m == nil {
			return "", fmt.Errorf("%s: no result for %s", r.Pkg, r.Bench)
		}
		unit := r.Unit
		if unit == "" {
			unit = "ns/op"
		}
		vs := m[unit]
		if len(vs) == 0 {
			return "", fmt.Errorf("%s: %s reports no %s", r.Pkg, r.Bench, unit)
		}
		var cell string
		if strings.HasPrefix(unit, "ns/") {
			cell = spread(vs)
		} else {
			if v := median(vs); v < 100 {
				cell = fmt.Sprintf("%.1f %s", v, unit)
			} else {
				cell = fmt.Sprintf("%s %s", thousands(v), unit)
			}
		}
		if a := m["allocs/op"]; len(a) > 0 && unit == "ns/op" {
			cell += fmt.Sprintf(", %.0f allocs", median(a))
		}
		if r.Baseline != "" {
			base := all[r.Pkg][r.Baseline][unit]
			if len(base) == 0 {
				return "", fmt.Errorf("%s: baseline %s reports no %s", r.Pkg, r.Baseline, unit)
			}
			cell += fmt.Sprintf(", %.1fx %s", median(vs)/median(base), r.BaselineWhat)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.What, cell, r.Target)
	}
	return b.String(), nil
}

// figureRow is one row of the accuracy table: a figure a test prints.
type figureRow struct {
	What   string
	Key    string // The test prints "figure Key: value".
	Target string
}

// figureTest is a test run with -v whose output holds figures.
type figureTest struct {
	Pkg, Run string
}

var figureTests = []figureTest{
	{"./queue", "^TestIncomingCorpus$"},
	{"./queue", "^TestIncomingHeldOut$"},
	{"./queue", "^TestLiveDSNs$"},
	{"./bounce", "^TestClassifyLiveReplies$"},
	{"./report", "^TestCorpus$"},
	{"./dsn", "^TestCorpus"},
	{"./report", "^TestReadMemory$"},
}

var figureRows = []figureRow{
	{"ProcessIncoming on the shared corpus: failed recipient and hard/soft verdict right", "incoming.verdict", ">= 90%"},
	{"… reason right", "incoming.reason", ">= 80%"},
	{"… permanent/temporary class right", "incoming.class", ""},
	{"ProcessIncoming on a held-out set of sisimai's bounces not in the shared corpus: failed recipient and hard/soft verdict right", "heldout.verdict", ""},
	{"… reason right", "heldout.reason", ""},
	{"… permanent/temporary class right", "heldout.class", ""},
	{"report: corpus files read right", "report.files", ""},
	{"report: corpus files without a delivery-status part read right", "report.text", ""},
	{"dsn.Parse: corpus files with a delivery-status part parsed", "dsn.corpus", ""},
	{"ProcessIncoming on the DSNs real Postfix sends through a relay (`queue/testdata/live-dsns`)", "live.dsn.postfix", ""},
	{"… Exim", "live.dsn.exim", ""},
	{"… OpenSMTPD", "live.dsn.opensmtpd", ""},
	{"Classify on the live replies of real MTAs: hard-bounce verdict", "live.hard", ""},
	{"… permanence", "live.permanence", ""},
	{"… reason", "live.reason", ""},
}

// figureCache keeps the figure tests' output, which the accuracy and the
// formats tables both read, so they run once.
var figureCache struct {
	found   map[string]string
	formats [][]string
}

// memoryRows are the rows of the README's memory table: bytes a test
// measured as allocated (an upper bound of the peak extra heap) for an input.
var memoryRows = []figureRow{
	{"`report.Read` of a 25 MB bounce, one level deep", "report.mem.nested1", ""},
	{"… the same nested 8 deep", "report.mem.nested8", ""},
	{"… a DSN naming 10,000 recipients", "report.mem.rcpt10k", ""},
	{"… a DSN naming 100,000 recipients", "report.mem.rcpt100k", ""},
	{"… a text bounce naming 10,000 recipients", "report.mem.text10k", ""},
	{"… a 30 MB DSN", "report.mem.dsn30mb", ""},
}

var figureLine = regexp.MustCompile(`figure ([a-z0-9.]+): (.*)$`)

// runFigureTests runs figureTests and returns the figures they print, by
// key, and the lines of the per-format corpus table ("figure
// incoming.format: NAME\tROWS\tVERDICT\tREASON\tCLASS") in order.
func runFigureTests() (found map[string]string, formats [][]string, err error) {
	if figureCache.found != nil {
		return figureCache.found, figureCache.formats, nil
	}
	defer func() {
		if err == nil {
			figureCache.found, figureCache.formats = found, formats
		}
	}()
	found = map[string]string{}
	for _, t := range figureTests {
		cmd := exec.Command("go", "test", "-count", "1", "-v", "-run", t.Run, t.Pkg)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, nil, fmt.Errorf("go test -run %s %s: %w\n%s", t.Run, t.Pkg, err, out)
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			m := figureLine.FindStringSubmatch(sc.Text())
			switch {
			case m == nil:
			case m[1] == "incoming.format":
				formats = append(formats, strings.Split(strings.TrimSpace(m[2]), "\t"))
			default:
				found[m[1]] = strings.TrimSpace(m[2])
			}
		}
	}
	return found, formats, nil
}

// accuracyTable formats figureRows from the figure tests' output.
func accuracyTable() (string, error) {
	found, _, err := runFigureTests()
	if err != nil {
		return "", err
	}
	return figureTable(found, figureRows)
}

// memoryTable formats memoryRows from the figure tests' output.
func memoryTable() (string, error) {
	found, _, err := runFigureTests()
	if err != nil {
		return "", err
	}
	return figureTable(found, memoryRows)
}

// figureTable formats rows from the figures found.
func figureTable(found map[string]string, rows []figureRow) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured by `scripts/figures` from the tests' output on %s.\n\n", machine())
	b.WriteString("| what | measured | target |\n|---|---|---|\n")
	for _, r := range rows {
		v, ok := found[r.Key]
		if !ok {
			return "", fmt.Errorf("no test printed figure %s", r.Key)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.What, v, r.Target)
	}
	return b.String(), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// thousands formats v rounded to an integer with comma separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatsTable is the shared corpus measure per format (sisimai's name for
// the software that wrote the bounce), as TestIncomingCorpus counts it.
func formatsTable() (string, error) {
	_, formats, err := runFigureTests()
	if err != nil {
		return "", err
	}
	if len(formats) == 0 {
		return "", fmt.Errorf("no test printed figure incoming.format")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured by `scripts/figures` from `TestIncomingCorpus` on %s. Rows are sisimai's labelled recipients; a cell is the rows right.\n\n", machine())
	b.WriteString("| format | rows | recipient and hard/soft verdict | reason | recipient and permanent/temporary class |\n|---|---|---|---|---|\n")
	for _, f := range formats {
		if len(f) != 5 {
			return "", fmt.Errorf("bad figure incoming.format line %q", strings.Join(f, "\t"))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", f[0], f[1], f[2], f[3], f[4])
	}
	return b.String(), nil
}
