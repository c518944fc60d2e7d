package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bouncekit/bouncekit/internal/workload"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestSoakSmoke runs the soak with 1,000 messages: the ledger balances
// and every kind of work happened.
func TestSoakSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("soak smoke test takes a few seconds")
	}
	rep, err := run(context.Background(), config{Msgs: 1000, Seed: 1, Rate: 50, Tick: 15 * time.Minute, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var buf bytes.Buffer
	rep.print(&buf)
	t.Log("\n" + buf.String())
	if !rep.ok() {
		t.Fatalf("ledger broken")
	}
	// Counts that must be there: a soak that did no work balances too.
	counts := map[string]string{}
	for _, r := range rep.rows {
		counts[r.what] = r.count
	}
	for _, tc := range []struct {
		what    string
		nonzero bool
		exact   string
	}{
		{what: "messages added (submissions of 1-10 recipients)", exact: "1000"},
		{what: "still queued", exact: "0"},
		{what: "delivered", nonzero: true},
		{what: "failed", nonzero: true},
		{what: "  of which delivered, then failed by a late DSN", nonzero: true},
		{what: "  retried (temporary failures)", nonzero: true},
		{what: "  duplicates, changed nothing", nonzero: true},
		{what: "suppression entries", nonzero: true},
		{what: "DSNs committed to the outbox", nonzero: true},
		{what: "webhooks committed", nonzero: true},
	} {
		got, ok := counts[tc.what]
		switch {
		case !ok:
			t.Errorf("no row %q", tc.what)
		case tc.exact != "" && got != tc.exact:
			t.Errorf("%s: got %s, want %s", tc.what, got, tc.exact)
		case tc.nonzero && (got == "0" || got == ""):
			t.Errorf("%s: got %s, want more than 0", tc.what, got)
		}
	}
	if rep.dbSize == 0 || rep.peakRSS == 0 || rep.peakAnon == 0 {
		t.Errorf("database size %d, peak RSS %d, anonymous %d: want all measured", rep.dbSize, rep.peakRSS, rep.peakAnon)
	}
}

// TestLedgerBroken checks that a report with an unbalanced equation is
// not ok and prints BROKEN, so the program exits non-zero.
func TestLedgerBroken(t *testing.T) {
	for _, tc := range []struct {
		name        string
		left, right int64
		ok          bool
	}{
		{"balanced", 10, 10, true},
		{"one lost", 9, 10, false},
		{"one extra", 11, 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &report{}
			r.count("messages added", 10)
			r.equation("ledger", tc.left, tc.right)
			if r.ok() != tc.ok {
				t.Errorf("ok() = %v, want %v", r.ok(), tc.ok)
			}
			var buf bytes.Buffer
			r.print(&buf)
			if strings.Contains(buf.String(), "BROKEN") == tc.ok {
				t.Errorf("table:\n%s\nwant BROKEN: %v", buf.String(), !tc.ok)
			}
		})
	}
}

// TestWorkloadMix checks the profile mix of the workload: 10% permanent,
// 30% temporary, 5% late, within sampling error, and that the same seed
// gives the same submissions.
func TestWorkloadMix(t *testing.T) {
	w := newWorkload(7, 20000, accounts)
	counts := map[workload.Profile]int{}
	total := 0
	for n := int64(1); total < 20000; n++ {
		s := w.Draw(n, 10)
		if len(s.Recipients) < 1 || len(s.Recipients) > 10 {
			t.Fatalf("submission %d has %d recipients", n, len(s.Recipients))
		}
		for _, r := range s.Recipients {
			counts[workload.ProfileOf(r)]++
			total++
		}
	}
	share := func(ps ...workload.Profile) float64 {
		n := 0
		for _, p := range ps {
			n += counts[p]
		}
		return float64(n) / float64(total)
	}
	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"permanent", share(workload.ProfileHard, workload.ProfileBlock), 0.10},
		{"temporary", share(workload.ProfileTemp1, workload.ProfileTemp2, workload.ProfileTemp3, workload.ProfileTempFail), 0.30},
		{"late", share(workload.ProfileLate), 0.05},
	} {
		if tc.got < tc.want-0.015 || tc.got > tc.want+0.015 {
			t.Errorf("%s share %.3f, want %.2f", tc.name, tc.got, tc.want)
		}
	}
	a, b := newWorkload(7, 20000, accounts).Draw(42, 10), w.Draw(42, 10)
	if strings.Join(a.Recipients, ",") != strings.Join(b.Recipients, ",") || a.Account != b.Account {
		t.Errorf("same seed, different submissions: %v, %v", a, b)
	}
}
