package queue_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webhook"
)

// liveDSNDir holds the DSNs Postfix, Exim and OpenSMTPD sent back when they
// relayed our messages to a scripted sink (scripts/live-mta/rebuild-dsn),
// each exactly as received, and labels.tsv, written by hand.
const liveDSNDir = "testdata/live-dsns"

// liveSent is what scripts/live-mta/dsncollect submitted per scenario: the
// recipients of the one message (Message-ID <mta>-<scenario>@example.net,
// ENVID env-<mta>-<scenario>).
var liveSent = map[string][]string{
	"rcpt":          {"unknown@sink.example.com"},
	"data":          {"reject@sink.example.com"},
	"expire":        {"tempfail@sink.example.com"},
	"relayed":       {"ok@sink.example.com"},
	"multi":         {"unknown-a@sink.example.com", "unknown-b@sink.example.com", "ok-m@sink.example.com"},
	"full":          {"full@example.org"},
	"pipe-nouser":   {"pipe-nouser@example.org"},
	"pipe-tempfail": {"pipe-tempfail@example.org"},
}

// liveLabel is one row of labels.tsv: what the DSN in file says about
// recipient. When gap is set, the fields it names hold what the code gives
// today instead of the right answer (which the row also keeps, for the log).
type liveLabel struct {
	file, recipient string
	event           webhook.OutgoingEvent
	reason          bounce.Reason
	permanent, hard bool
	stage           bounce.Stage
	gap             string
	hand            *liveLabel // For rows with a gap: the right answer.
}

func readLiveLabels(t *testing.T) []liveLabel {
	t.Helper()
	f, err := os.Open(filepath.Join(liveDSNDir, "labels.tsv"))
	icheck(t, err, "open labels")
	defer f.Close()
	var l []liveLabel
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 8 {
			t.Fatalf("labels.tsv:%d: %d columns, want 8", n, len(c))
		}
		if c[0] == "file" {
			continue // Column names.
		}
		perm, err1 := strconv.ParseBool(c[4])
		hard, err2 := strconv.ParseBool(c[5])
		if err1 != nil || err2 != nil {
			t.Fatalf("labels.tsv:%d: bad permanent or hard", n)
		}
		r := liveLabel{file: c[0], recipient: c[1], event: webhook.OutgoingEvent(c[2]), reason: bounce.Reason(c[3]), permanent: perm, hard: hard, stage: bounce.Stage(c[6]), gap: c[7]}
		if r.gap != "" {
			// "field=value ...; why": the fields as the code has them today.
			hand := r
			r.hand = &hand
			now, _, ok := strings.Cut(r.gap, ";")
			if !ok {
				t.Fatalf("labels.tsv:%d: gap %q has no reason after ';'", n, r.gap)
			}
			for _, kv := range strings.Fields(now) {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "event":
					r.event = webhook.OutgoingEvent(v)
				case "reason":
					r.reason = bounce.Reason(v)
				case "permanent":
					r.permanent = v == "true"
				case "hard":
					r.hard = v == "true"
				case "stage":
					r.stage = bounce.Stage(v)
				default:
					t.Fatalf("labels.tsv:%d: gap names unknown field %q", n, k)
				}
			}
		}
		l = append(l, r)
	}
	icheck(t, s.Err(), "read labels")
	return l
}

// TestLiveDSNs runs every DSN of the live set through ProcessIncoming, after
// sending the message it is about, and asserts per recipient the event,
// reason, permanence, hard-bounce verdict and SMTP stage of labels.tsv. Rows
// with a known gap assert what the code does today, so a change shows.
func TestLiveDSNs(t *testing.T) {
	labels := readLiveLabels(t)
	byFile := map[string][]liveLabel{}
	for _, l := range labels {
		byFile[l.file] = append(byFile[l.file], l)
	}
	files, err := filepath.Glob(filepath.Join(liveDSNDir, "*.eml"))
	icheck(t, err, "glob")
	sort.Strings(files) // -1 before -2: a delay warning before the failure.
	if len(files) == 0 {
		t.Fatal("no live DSNs")
	}
	// Per MTA: rows right in every field, and per field against the
	// hand label.
	type tally struct{ files, rows, right, gaps, event, reason, verdict, stage int }
	per := map[string]*tally{}
	envs := map[string]*inEnv{}
	sent := map[string]map[string]int64{} // Scenario, recipient: message ID.
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".eml")
		scen := name[:strings.LastIndex(name, "-")] // <mta>-<scenario>
		mta, id, _ := strings.Cut(scen, "-")
		rows := byFile[name]
		if len(rows) == 0 {
			t.Errorf("%s: no labels", name)
			continue
		}
		delete(byFile, name)
		tl := per[mta]
		if tl == nil {
			tl = &tally{}
			per[mta] = tl
		}
		tl.files++
		e := envs[scen]
		if e == nil {
			rcpts, ok := liveSent[id]
			if !ok {
				t.Fatalf("%s: unknown scenario %q", name, id)
			}
			e = newInEnv(t)
			e.h.GenerateFromIDs = false
			msgs := e.send("alice", func(m *queue.Msg) {
				m.SenderAddress = scen + "@example.net"
				m.MessageID = scen + "@example.net"
				m.EnvID = "env-" + scen
			}, rcpts...)
			envs[scen] = e
			sent[scen] = map[string]int64{}
			for _, m := range msgs {
				sent[scen][m.RecipientAddress] = m.ID
			}
		}
		msg, err := os.ReadFile(path)
		icheck(t, err, "read dsn")
		res := e.incoming("alice", scen+"@example.net", msg)
		if res.Kind != queue.IncomingDSN {
			t.Errorf("%s: kind %s, want %s", name, res.Kind, queue.IncomingDSN)
		}
		if len(res.Recipients) != len(rows) {
			t.Errorf("%s: %d recipients, labels have %d", name, len(res.Recipients), len(rows))
		}
		for _, want := range rows {
			tl.rows++
			var o *queue.IncomingOutcome
			for i := range res.Recipients {
				if strings.EqualFold(res.Recipients[i].Recipient, want.recipient) {
					o = &res.Recipients[i]
				}
			}
			if o == nil {
				t.Errorf("%s: no outcome for %s", name, want.recipient)
				continue
			}
			f := o.Failure
			got := fmt.Sprintf("%s %s permanent %v hard %v stage %q", o.Event, f.Reason, f.Permanent, f.HardBounce(), f.Stage)
			exp := fmt.Sprintf("%s %s permanent %v hard %v stage %q", want.event, want.reason, want.permanent, want.hard, want.stage)
			if got != exp {
				t.Errorf("%s %s: got %s, want %s", name, want.recipient, got, exp)
			}
			if o.MsgID == 0 || o.MsgID != sent[scen][want.recipient] {
				t.Errorf("%s %s: matched message %d (%s), want %d", name, want.recipient, o.MsgID, o.Match, sent[scen][want.recipient])
			}
			hand := want
			if want.hand != nil {
				hand = *want.hand
				tl.gaps++
				t.Logf("known gap %s %s: right is %s %s permanent %v hard %v stage %q; today %s (%s)", name, want.recipient, hand.event, hand.reason, hand.permanent, hand.hard, hand.stage, got, want.gap)
			} else {
				tl.right++
			}
			if o.Event == hand.event {
				tl.event++
			}
			if f.Reason == hand.reason {
				tl.reason++
			}
			if f.Permanent == hand.permanent && f.HardBounce() == hand.hard {
				tl.verdict++
			}
			if f.Stage == hand.stage {
				tl.stage++
			}
		}
	}
	for f := range byFile {
		t.Errorf("labels for %s, which is not in %s", f, liveDSNDir)
	}
	mtas := make([]string, 0, len(per))
	for m := range per {
		mtas = append(mtas, m)
	}
	sort.Strings(mtas)
	for _, m := range mtas {
		tl := per[m]
		t.Logf("figure live.dsn.%s: %d DSNs, %d recipient rows: %d right in every field, %d known gaps; event right %d, reason %d, permanent and hard verdict %d, SMTP stage %d", m, tl.files, tl.rows, tl.right, tl.gaps, tl.event, tl.reason, tl.verdict, tl.stage)
	}
}
