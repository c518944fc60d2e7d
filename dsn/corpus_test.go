package dsn

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const corpusDir = "testdata/corpus"

// expectedRow is one row of the corpus answer files.
type expectedRow struct {
	path   string
	index  int
	status string
	reason string // sisimai only.
	rcpt   string // kumomta only: "type;address".
	action string // kumomta only.
}

func readExpected(t testing.TB, name string, kumo bool) []expectedRow {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []expectedRow
	s := bufio.NewScanner(f)
	s.Scan() // Column names.
	for s.Scan() {
		c := strings.Split(s.Text(), "\t")
		idx, err := strconv.Atoi(c[1])
		if err != nil {
			t.Fatalf("%s: bad index in %q", name, s.Text())
		}
		r := expectedRow{path: c[0], index: idx}
		if kumo {
			r.rcpt, r.action, r.status = c[2], c[3], c[4]
		} else {
			r.status, r.reason = c[2], c[4]
		}
		rows = append(rows, r)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// corpusFiles returns the .eml files with a delivery-status part, by a
// plain text search (independent of Parse), and the others.
func corpusFiles(t testing.TB) (dsns, others []string) {
	t.Helper()
	err := filepath.WalkDir(corpusDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".eml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, p)
		rel = filepath.ToSlash(rel)
		lb := strings.ToLower(string(b))
		if strings.Contains(lb, "message/delivery-status") || strings.Contains(lb, "message/global-delivery-status") {
			dsns = append(dsns, rel)
		} else {
			others = append(others, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dsns, others
}

func parseFile(t testing.TB, rel string) (*Message, *Part, error) {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(f)
}

func TestCorpus(t *testing.T) {
	dsns, others := corpusFiles(t)
	if len(dsns) != 185 {
		t.Fatalf("found %d files with a delivery-status part, expected 185", len(dsns))
	}

	expected := map[string][]expectedRow{}
	for _, r := range readExpected(t, "expected.tsv", false) {
		expected[r.path] = append(expected[r.path], r)
	}
	for _, r := range readExpected(t, "expected-kumomta.tsv", true) {
		expected[r.path] = append(expected[r.path], r)
	}

	var parsed, rowsOK, rowsTotal, skipped int
	for _, rel := range dsns {
		m, part, err := parseFile(t, rel)
		rows := expected[rel]
		if len(rows) == 0 {
			t.Errorf("%s: no expected rows", rel)
			continue
		}
		if reason, ok := noRecipients[rel]; ok {
			// Documented: no per-recipient fields in the status part.
			if !errors.Is(err, ErrNoRecipients) || m == nil || m.ReportingMTA == "" && m.OriginalMessageID == "" {
				t.Errorf("%s: got %v, expected ErrNoRecipients with per-message fields (%s)", rel, err, reason)
			}
			parsed++
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		parsed++
		if part == nil || part.EndOffset < part.BodyOffset {
			t.Errorf("%s: bad part %+v", rel, part)
		}
		if len(m.Recipients) != len(rows) {
			if want, ok := recipientCount[rel]; !ok || want != len(m.Recipients) {
				t.Errorf("%s: %d recipients, expected %d", rel, len(m.Recipients), len(rows))
			}
		}
		for _, row := range rows {
			if n, ok := recipientCount[rel]; ok && row.index > n {
				skipped++
				continue // Documented: recipient from a second DSN.
			}
			rowsTotal++
			if row.index < 1 || row.index > len(m.Recipients) {
				t.Errorf("%s: no recipient %d", rel, row.index)
				continue
			}
			r := m.Recipients[row.index-1]
			if ok := checkRow(t, rel, row, r); ok {
				rowsOK++
			}
		}
	}
	t.Logf("corpus: %d/%d files with a delivery-status part parsed (%d of them without per-recipient fields, as documented); "+
		"%d/%d expected rows match, %d of them exactly and %d as documented status disagreements; %d rows skipped (second DSN in one file)",
		parsed, len(dsns), len(noRecipients), rowsOK, rowsTotal, rowsOK-len(statusDisagreements), len(statusDisagreements), skipped)
	// Read by scripts/figures for the README.
	t.Logf("figure dsn.corpus: %d/%d files parsed, %d/%d expected rows match", parsed, len(dsns), rowsOK, rowsTotal)

	for _, rel := range others {
		if _, _, err := parseFile(t, rel); !errors.Is(err, ErrNotDSN) {
			t.Errorf("%s: got %v, expected ErrNotDSN", rel, err)
		}
	}
}

func checkRow(t *testing.T, rel string, row expectedRow, r Recipient) bool {
	t.Helper()
	key := rel + "#" + strconv.Itoa(row.index)
	ok := true
	if row.rcpt != "" {
		if got := r.FinalRecipientType + ";" + r.FinalRecipient; got != row.rcpt {
			t.Errorf("%s: final recipient %q, expected %q", key, got, row.rcpt)
			ok = false
		}
	} else if r.FinalRecipient == "" || r.FinalRecipientType == "" {
		t.Errorf("%s: empty final recipient %+v", key, r)
		ok = false
	}
	if row.action != "" && string(r.Action) != row.action {
		t.Errorf("%s: action %q, expected %q", key, r.Action, row.action)
		ok = false
	}
	if !r.Action.Valid() {
		t.Errorf("%s: invalid action %q", key, r.Action)
		ok = false
	}

	want := row.status
	if d, found := statusDisagreements[key]; found {
		if r.Status != d.ours {
			t.Errorf("%s: status %q, expected %q (documented: sisimai says %q: %s)", key, r.Status, d.ours, want, d.why)
			ok = false
		}
	} else if r.Status != want {
		t.Errorf("%s: status %q, expected %q", key, r.Status, want)
		ok = false
	}

	// The action must agree with the status class the DSN itself gives.
	if r.Status != "" {
		switch r.Status[0] {
		case '2':
			ok = ok && expectAction(t, key, r, ActionDelivered, ActionRelayed, ActionExpanded)
		case '4':
			ok = ok && expectAction(t, key, r, ActionDelayed, ActionFailed)
		case '5':
			ok = ok && expectAction(t, key, r, ActionFailed)
		}
	}
	if row.reason == "delivered" {
		ok = ok && expectAction(t, key, r, ActionDelivered, ActionRelayed, ActionExpanded)
	}
	return ok
}

func expectAction(t *testing.T, key string, r Recipient, actions ...Action) bool {
	t.Helper()
	for _, a := range actions {
		if r.Action == a {
			return true
		}
	}
	t.Errorf("%s: action %q with status %q, expected one of %v", key, r.Action, r.Status, actions)
	return false
}

// noRecipients lists messages whose delivery-status part has no
// per-recipient fields; sisimai reads the recipients from the text part.
var noRecipients = map[string]string{
	"sisimai/bsd/lhost-googleworkspace-01.eml": "empty delivery-status part",
	"sisimai/bsd/lhost-postfix-64.eml":         "only per-message fields",
	"sisimai/bsd/lhost-x3-05.eml":              "only per-message fields",
}

// recipientCount lists messages where we find a different number of
// recipients than sisimai, with our count.
var recipientCount = map[string]int{
	// Two delivery-status parts, the second inside a returned message:
	// Parse reports the first DSN only, sisimai merges both.
	"sisimai/bsd/rfc3464-28.eml":   1,
	"sisimai/bsd/rhost-cox-01.eml": 1,
}

type disagreement struct{ ours, why string }

// statusDisagreements lists rows where sisimai's status is not what the
// delivery-status part says. The key is path#index.
var statusDisagreements = map[string]disagreement{
	"sisimai/bsd/lhost-amazonses-01.eml#1":    {"5.0.0", "sisimai takes the more specific code from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-amazonses-03.eml#1":    {"5.0.0", "sisimai takes the more specific code from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-amazonses-17.eml#1":    {"4.4.7", "sisimai takes the more specific code from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-courier-01.eml#1":      {"5.0.0", "sisimai takes the more specific code from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-courier-03.eml#1":      {"5.0.0", "sisimai takes the more specific code from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-exchange2007-05.eml#1": {"4.4.7", "sisimai maps QUEUE.Expired to its own code"},
	"sisimai/bsd/lhost-mcafee-01.eml#1":       {"", "no Status field; sisimai's 5.0.910 is its internal code for filtered"},
	"sisimai/bsd/lhost-mcafee-02.eml#1":       {"", "no Status field; sisimai takes 5.1.1 from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-opensmtpd-11.eml#1":    {"5.0.0", "sisimai takes the code from the text part"},
	"sisimai/bsd/lhost-opensmtpd-12.eml#1":    {"4.0.0", "sisimai's 5.0.932 is its internal code, from the text part"},
	"sisimai/bsd/lhost-opensmtpd-13.eml#1":    {"4.0.0", "sisimai takes the code from the text part"},
	"sisimai/bsd/lhost-opensmtpd-14.eml#1":    {"5.0.0", "sisimai takes the code from the text part"},
	"sisimai/bsd/lhost-postfix-39.eml#1":      {"5.0.0", "sisimai takes the more specific code from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-postfix-44.eml#1":      {"5.0.0", "sisimai derives 5.7.1 from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-sendgrid-03.eml#1":     {"", "empty Status field; sisimai's 5.0.947 is its internal code for expired"},
	"sisimai/bsd/lhost-sendmail-07.eml#1":     {"5.0.0", "sisimai takes the more specific code from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-sendmail-08.eml#1":     {"4.4.7", "sisimai takes the more specific code from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-sendmail-10.eml#1":     {"4.4.7", "sisimai takes the more specific code from the Diagnostic-Code text"},
	"sisimai/bsd/lhost-sendmail-18.eml#1":     {"5.0.0", "sisimai derives 5.3.0 from the X-Unix diagnostic"},
	"sisimai/bsd/lhost-sendmail-39.eml#1":     {"4.4.7", "sisimai takes the more specific code from the Diagnostic-Code text"},
	"sisimai/bsd/rfc3464-51.eml#1":            {"5.0.0", "sisimai takes the more specific code from the Diagnostic-Code text"},
}
