package report

import (
	"bufio"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusDir holds real bounces from sisimai and KumoMTA; see its README.
const corpusDir = "testdata/corpus"

// Floors for the corpus pass rates, just below what the parser achieves, so
// a regression fails the test.
const (
	minPassRate     = 0.97 // All files: 286/294 at the time of writing.
	minTextPassRate = 0.95 // Files answered without a delivery-status part: 117/122.
)

// expectedRow is one line of expected.tsv: a recipient of a corpus file as
// sisimai reports it.
type expectedRow struct {
	path   string
	index  string
	status string
	reason string
	engine string
}

func readExpected(t *testing.T) map[string][]expectedRow {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "expected.tsv"))
	if err != nil {
		t.Fatalf("open expected.tsv: %v", err)
	}
	defer f.Close()
	rows := map[string][]expectedRow{}
	s := bufio.NewScanner(f)
	s.Scan() // Column names.
	for s.Scan() {
		c := strings.Split(s.Text(), "\t")
		if len(c) < 8 {
			t.Fatalf("bad expected.tsv line %q", s.Text())
		}
		rows[c[0]] = append(rows[c[0]], expectedRow{c[0], c[1], c[2], c[4], c[7]})
	}
	if err := s.Err(); err != nil {
		t.Fatalf("read expected.tsv: %v", err)
	}
	return rows
}

// checkBounce compares a Report with sisimai's rows for the file: the number
// and order of recipients, plausible addresses and the status class. It
// returns what is wrong, or "" if nothing.
func checkBounce(msg []byte, r *textReport, rows []expectedRow) string {
	path := rows[0].path
	if len(r.Recipients) != len(rows) {
		return fmt.Sprintf("got %d recipients, expected %d", len(r.Recipients), len(rows))
	}
	h, text := bounceHeader(msg)
	for i, rc := range r.Recipients {
		if !isAddress(rc.Address) || !strings.Contains(text, strings.ToLower(rc.Address)) {
			return fmt.Sprintf("recipient %d: implausible address %q", i, rc.Address)
		}
		if r.DSN {
			// The DSN part names it; anonymised samples may reuse the
			// sender's address.
			continue
		}
		if _, ok := sameAsBounceTo[path]; ok {
			continue
		}
		for _, k := range []string{"From", "To"} {
			if strings.Contains(strings.ToLower(h.Get(k)), strings.ToLower(rc.Address)) {
				return fmt.Sprintf("recipient %d: address %q is the bounce's %s", i, rc.Address, k)
			}
		}
	}
	for i, rc := range r.Recipients {
		want := rows[i].status
		if want == "" {
			continue
		}
		if got := fmt.Sprint(rc.Class()); got != want[:1] {
			return fmt.Sprintf("recipient %d %s: class %s, expected %s (status %q code %d diag %q)", i, rc.Address, got, want[:1], rc.Status, rc.Code, rc.Diagnostic)
		}
	}
	return ""
}

// bounceHeader returns the header of a message and its raw and decoded text
// in lower case, to check that an address really occurs in the bounce.
func bounceHeader(msg []byte) (mail.Header, string) {
	h, p, err := walkBytes(msg)
	if err != nil {
		return mail.Header{}, strings.ToLower(string(msg))
	}
	return h, strings.ToLower(string(msg) + strings.Join(p.texts, "\n"))
}

// sameAsBounceTo lists corpus files whose failed recipient is also the
// bounce's own To address, which the check above otherwise takes as picking
// the sender by mistake.
var sameAsBounceTo = map[string]string{
	"sisimai/bsd/lhost-einsundeins-03.eml": "anonymised: the failed recipient and the bounce's To were both rewritten to xxxx@xxxx.fr",
}

// disagreements are corpus files where the parser's answer differs from
// sisimai's label on purpose. They count as failures in the pass rate, and
// the test fails when one starts to match, so the list stays current.
var disagreements = map[string]string{
	"sisimai/bsd/lhost-exim-06.eml":      "retry timeout exceeded: Exim gave up and returned the message, a permanent failure; sisimai labels it 4.x",
	"sisimai/bsd/lhost-gmail-08.eml":     "a delay warning (\"Message will be retried\"), so delayed; sisimai labels the identical lhost-gmail-09 4.x and this one 5.x",
	"sisimai/bsd/lhost-opensmtpd-04.eml": "\"this is only a temporary failure report\", so delayed; sisimai says 5.x",
	"sisimai/bsd/lhost-opensmtpd-12.eml": "the DSN says Action: delayed, Status: 4.0.0; sisimai says 5.x",
	"sisimai/bsd/rfc3464-28.eml":         "the file holds two bounce messages one after the other; readText reads one message",
	"sisimai/bsd/rhost-cox-01.eml":       "the file holds two bounce messages one after the other; readText reads one message",
	"sisimai/bsd/lhost-fml-02.eml":       "a mailing list's \"you are not a member\" reply, not a delivery failure",
	"sisimai/bsd/lhost-fml-03.eml":       "a mailing list's command reply, not a delivery failure",
}

func TestCorpus(t *testing.T) {
	expected := readExpected(t)
	type tally struct{ pass, total int }
	perEngine := map[string]*tally{}
	var pass, total, ndisagree int
	var textPass, textTotal int // Files answered by the text rules, no DSN part.
	paths := make([]string, 0, len(expected))
	for p := range expected {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		rows := expected[p]
		msg, err := os.ReadFile(filepath.Join(corpusDir, p))
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		engine := rows[0].engine
		if engine == "" {
			engine = "(not a bounce)"
		}
		r, err := readText(msg)
		var problem string
		switch {
		case rows[0].index == "0":
			if !errors.Is(err, errNotBounce) {
				problem = fmt.Sprintf("not a bounce, got %v, %+v", err, r)
			}
		case rows[0].reason == "vacation":
			if err != nil || !r.AutoReply {
				problem = fmt.Sprintf("auto-reply, got %v, %+v", err, r)
			}
		case rows[0].reason == "feedback":
			// An RFC 5965 report is not a bounce; a sending service's own
			// complaint notification is returned as a Complaint.
			if !errors.Is(err, errNotBounce) && (err != nil || r.Complaint == nil || len(r.Complaint.Recipients) == 0 || len(r.Recipients) != 0) {
				problem = fmt.Sprintf("feedback report, got %v, %+v", err, r)
			}
		case err != nil:
			problem = err.Error()
		default:
			problem = checkBounce(msg, r, rows)
		}
		tl := perEngine[engine]
		if tl == nil {
			tl = &tally{}
			perEngine[engine] = tl
		}
		tl.total++
		total++
		if r == nil || !r.DSN {
			textTotal++
		}
		why, disagree := disagreements[p]
		switch {
		case problem == "" && disagree:
			t.Errorf("%s: listed as a disagreement (%s) but now matches sisimai; remove it from the list", p, why)
		case problem == "":
			tl.pass++
			pass++
			if r == nil || !r.DSN {
				textPass++
			}
		case disagree:
			ndisagree++
			t.Logf("%s (%s): disagree on purpose: %s", p, engine, why)
		default:
			t.Logf("%s (%s): %s", p, engine, problem)
		}
	}
	engines := make([]string, 0, len(perEngine))
	for e := range perEngine {
		engines = append(engines, e)
	}
	sort.Strings(engines)
	var b strings.Builder
	for _, e := range engines {
		fmt.Fprintf(&b, "\n%-16s %3d/%3d", e, perEngine[e].pass, perEngine[e].total)
	}
	rate := float64(pass) / float64(total)
	t.Logf("per format (files right/files):%s\ntotal %d/%d = %.1f%%, %d disagreements on purpose, %.1f%% without them", b.String(), pass, total, 100*rate, ndisagree, 100*float64(pass)/float64(total-ndisagree))
	textRate := float64(textPass) / float64(textTotal)
	// Read by scripts/figures for the README.
	t.Logf("figure report.files: %d/%d (%.1f%%)", pass, total, 100*rate)
	t.Logf("figure report.text: %d/%d (%.1f%%)", textPass, textTotal, 100*textRate)
	t.Logf("without a delivery-status part (text rules, auto-replies, not bounces): %d/%d = %.1f%%", textPass, textTotal, 100*textRate)
	if textRate < minTextPassRate {
		t.Errorf("pass rate without DSN part %.3f below floor %.3f", textRate, minTextPassRate)
	}
	if rate < minPassRate {
		t.Errorf("corpus pass rate %.3f below floor %.3f", rate, minPassRate)
	}
}
