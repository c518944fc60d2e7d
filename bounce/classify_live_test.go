package bounce

import (
	"bufio"
	"fmt"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// liveReply is one row of testdata/live-replies.tsv: a real reply of
// Postfix, Exim or OpenSMTPD on loopback, collected by
// scripts/live-mta/rebuild, labelled by hand from the MTA's documentation.
type liveReply struct {
	mta, version, scenario, stage string
	reply                         string // As on the wire, lines joined with "\n".
	reason                        Reason
	permanent, hard               bool
	doc                           string
}

func readLiveReplies(t testing.TB) []liveReply {
	t.Helper()
	f, err := os.Open("testdata/live-replies.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []liveReply
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "mta\t") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 10 {
			t.Fatalf("line %d: %d columns, want 10", n, len(c))
		}
		perm, err1 := strconv.ParseBool(c[7])
		hard, err2 := strconv.ParseBool(c[8])
		if err1 != nil || err2 != nil {
			t.Fatalf("line %d: bad permanent or hardbounce column", n)
		}
		r := liveReply{c[0], c[1], c[2], c[4], unescapeTSV(c[5]), Reason(c[6]), perm, hard, c[9]}
		if r.version == "" {
			t.Fatalf("line %d: no MTA version", n)
		}
		rows = append(rows, r)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func unescapeTSV(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t").Replace(s)
}

// asClientErrors gives the reply as the two SMTP clients a host is likely to
// use return it: go-smtp's *smtp.SMTPError and net/smtp's *textproto.Error.
func asClientErrors(reply string) []error {
	lines := strings.Split(reply, "\n")
	code, _ := strconv.Atoi(lines[0][:3])
	msgs := make([]string, len(lines))
	for i, l := range lines {
		msgs[i] = strings.TrimLeft(l[min(4, len(l)):], " ")
	}
	msg := strings.Join(msgs, "\n")
	gs := &smtp.SMTPError{Code: code, EnhancedCode: smtp.NoEnhancedCode, Message: msg}
	if c, rest, ok := CutEnhancedCode(msg); ok {
		gs.EnhancedCode = smtp.EnhancedCode(c)
		gs.Message = rest
	}
	return []error{gs, &textproto.Error{Code: code, Msg: msg}}
}

// liveReasonGaps are replies whose text does not say what the
// documentation of the restriction behind them says: the classifier cannot
// read the labelled reason from them, and gives the reason here instead
// (asserted, so a change shows). None of them is a wrong hard-bounce
// verdict.
var liveReasonGaps = map[string]struct {
	got Reason
	why string
}{
	"550 Unrouteable address":                        {ReasonHostUnknown, "Exim says this for an unknown local user and an unknown domain alike; both are hard bounces"},
	"550 Administrative prohibition":                 {ReasonPolicyViolation, "Exim's default ACL text names no check (here reverse DNS or HELO verification)"},
	"451 Temporary local problem - please try later": {ReasonSystemError, "Exim's text for any verification that could not complete (here the sender domain's DNS)"},
	"550 Invalid recipient: <alice@example.org>":     {ReasonNoRelaying, "OpenSMTPD's one text for any envelope its ruleset rejects (here a rule on our sender)"},
}

// The live reply set: every row's hard-bounce verdict must be right (a false
// hard bounce suppresses a working address), and so must its permanence.
// Reasons are asserted too; the accuracy summary is logged.
func TestClassifyLiveReplies(t *testing.T) {
	rows := readLiveReplies(t)
	if len(rows) == 0 {
		t.Fatal("no live replies")
	}
	type tally struct{ n, reason, perm, hard int }
	per := map[string]*tally{}
	total := &tally{}
	var mtas []string
	for _, r := range rows {
		name := r.mta + "/" + r.scenario
		f := ClassifyReply(0, EnhancedCode{}, r.reply)
		k := r.mta + " " + r.version
		if per[k] == nil {
			per[k] = &tally{}
			mtas = append(mtas, k)
		}
		for _, x := range []*tally{per[k], total} {
			x.n++
			if f.Reason == r.reason {
				x.reason++
			}
			if f.Permanent == r.permanent {
				x.perm++
			}
			if f.HardBounce() == r.hard {
				x.hard++
			}
		}
		if gap, ok := liveReasonGaps[r.reply]; ok && f.Reason != r.reason {
			t.Logf("%s: reason %s, labelled %s: %s", name, f.Reason, r.reason, gap.why)
		}
		t.Run(name, func(t *testing.T) {
			for i, err := range append([]error{ParseReply(r.reply)}, asClientErrors(r.reply)...) {
				f := Classify(err)
				if f.HardBounce() != r.hard {
					t.Errorf("client %d: %q: hard bounce %v, want %v (reason %s; %s)", i, r.reply, f.HardBounce(), r.hard, f.Reason, r.doc)
				}
				if f.Permanent != r.permanent {
					t.Errorf("client %d: %q: permanent %v, want %v", i, r.reply, f.Permanent, r.permanent)
				}
				want := r.reason
				if gap, ok := liveReasonGaps[r.reply]; ok {
					want = gap.got
				}
				if f.Reason != want {
					t.Errorf("client %d: %q: reason %s, want %s (%s)", i, r.reply, f.Reason, want, r.doc)
				}
			}
		})
	}
	pct := func(a, n int) string { return fmt.Sprintf("%d/%d (%.1f%%)", a, n, 100*float64(a)/float64(n)) }
	for _, k := range mtas {
		x := per[k]
		t.Logf("%s: reason %s, permanence %s, hard-bounce verdict %s", k, pct(x.reason, x.n), pct(x.perm, x.n), pct(x.hard, x.n))
	}
	t.Logf("all: reason %s, permanence %s, hard-bounce verdict %s", pct(total.reason, total.n), pct(total.perm, total.n), pct(total.hard, total.n))
	// Read by scripts/figures for the README.
	t.Logf("figure live.hard: %d/%d", total.hard, total.n)
	t.Logf("figure live.permanence: %d/%d", total.perm, total.n)
	t.Logf("figure live.reason: %d/%d", total.reason, total.n)
}
