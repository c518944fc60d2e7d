package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// t0 is the fixture's clock: every record is made at t0, commands run at t0
// unless a test moves the clock.
var t0 = time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)

// fixture is a database with something of everything, closed so commands
// can open it.
type fixture struct {
	t     *testing.T
	path  string
	now   time.Time
	loc   *time.Location // Local zone of the commands; nil: UTC.
	stdin string
	env   map[string]string // The commands' environment.

	carol, dave, erin, frank int64 // Queued.
	gone, delivered          int64 // Retired: failed, delivered.
	hookDelayed, hookFailed  int64 // Pending hooks.
}

func tcheck(t *testing.T, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "bounce.db"), now: t0}
	ctx := context.Background()
	db, err := bstore.Open(ctx, f.path, nil, queue.DBTypes()...)
	tcheck(t, err, "open")
	defer func() { tcheck(t, db.Close(), "close") }()

	now := func() time.Time { return t0 }
	h := &queue.Handler{
		DB:           db,
		Now:          now,
		Hostname:     "mx.example.org",
		Suppressions: &suppression.Store{DB: db, Now: now},
		Hooks:        &hookqueue.Queue{DB: db, Now: now},
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			s := queue.AccountSettings{KeepRetired: 30 * 24 * time.Hour}
			if name == "alice" {
				s.WebhookURL = "https://hooks.example.com/alice"
				s.WebhookSecrets = []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
			}
			return s, true
		}),
	}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		add := func(msgs ...*queue.Msg) {
			t.Helper()
			_, err := h.Add(tx, msgs...)
			tcheck(t, err, "add")
		}
		carol := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "carol@example.com", Subject: "hello carol", MessageID: "m1@example.org"}
		dave := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "dave@example.net"}
		erin := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "erin@example.net"}
		frank := &queue.Msg{SenderAccount: "bob", SenderAddress: "bob@example.org", RecipientAddress: "frank@example.org", NextAttempt: t0.Add(2 * time.Hour)}
		gone := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "gone@example.com"}
		ok := &queue.Msg{SenderAccount: "bob", SenderAddress: "bob@example.org", RecipientAddress: "ok@example.org"}
		add(carol)
		add(dave, erin)
		add(frank)
		add(gone)
		add(ok)
		f.carol, f.dave, f.erin, f.frank, f.gone, f.delivered = carol.ID, dave.ID, erin.ID, frank.ID, gone.ID, ok.ID

		_, err := h.FailMsgs(tx, []queue.Msg{*carol}, &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 7, 1}, Stage: bounce.StageRcpt, Line: "greylisted, try again later"})
		tcheck(t, err, "fail carol")
		_, err = h.FailMsgs(tx, []queue.Msg{*gone}, &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"})
		tcheck(t, err, "fail gone")
		_, err = h.DeliveredMsgs(tx, []queue.Msg{*ok}, queue.Delivery{Code: 250, Line: "ok"})
		tcheck(t, err, "deliver ok")

		s := &suppression.Store{DB: db}
		_, _, err = s.AddTx(tx, suppression.Entry{Account: "bob", OriginalAddress: "Blocked@Example.org", Reason: "asked to stop"}, t0)
		tcheck(t, err, "add suppression")

		hooks, err := bstore.QueryTx[hookqueue.Hook](tx).SortAsc("ID").List()
		tcheck(t, err, "list hooks")
		for _, hk := range hooks {
			switch {
			case hk.Event == webhook.EventDelayed && hk.QueueMsgID == f.carol:
				f.hookDelayed = hk.ID
			case hk.Event == webhook.EventFailed && hk.QueueMsgID == f.gone:
				f.hookFailed = hk.ID
			}
		}
		if f.hookDelayed == 0 || f.hookFailed == 0 {
			t.Fatalf("fixture hooks missing: %+v", hooks)
		}
		return nil
	})
	tcheck(t, err, "fixture")
	return f
}

// result of one command run.
type result struct {
	code           int
	stdout, stderr string
}

// run runs bouncectl on the fixture's database at the fixture's time.
func (f *fixture) run(args ...string) result {
	f.t.Helper()
	return f.runRaw(append([]string{"-db", f.path}, args...)...)
}

// runRaw runs bouncectl without adding -db.
func (f *fixture) runRaw(args ...string) result {
	f.t.Helper()
	var stdout, stderr bytes.Buffer
	loc := f.loc
	if loc == nil {
		loc = time.UTC
	}
	c := &cli{
		stdin:    strings.NewReader(f.stdin),
		stdout:   &stdout,
		stderr:   &stderr,
		now:      func() time.Time { return f.now },
		loc:      loc,
		hostname: "mx.example.org",
		getenv:   func(k string) string { return f.env[k] },
	}
	code := c.run(context.Background(), args)
	return result{code, stdout.String(), stderr.String()}
}

// ok runs a command that must succeed and returns its output.
func (f *fixture) ok(args ...string) string {
	f.t.Helper()
	r := f.run(args...)
	if r.code != exitOK {
		f.t.Fatalf("bouncectl %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must exit with code and returns its stderr.
func (f *fixture) fails(code int, args ...string) string {
	f.t.Helper()
	r := f.run(args...)
	if r.code != code {
		f.t.Fatalf("bouncectl %s: exit %d, want %d; stdout %q, stderr %q", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r.stderr
}

// jsonOf runs a command with -json and decodes its output into v.
func jsonOf[T any](f *fixture, args ...string) T {
	f.t.Helper()
	out := f.ok(append([]string{"-json"}, args...)...)
	var v T
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		f.t.Fatalf("bouncectl -json %s: decoding %q: %v", strings.Join(args, " "), out, err)
	}
	return v
}

// withDB opens the fixture's database for a check.
func (f *fixture) withDB(fn func(db *bstore.DB)) {
	f.t.Helper()
	db, err := bstore.Open(context.Background(), f.path, nil, queue.DBTypes()...)
	tcheck(f.t, err, "open")
	defer func() { tcheck(f.t, db.Close(), "close") }()
	fn(db)
}

func contains(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func lacks(t *testing.T, out string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(out, w) {
			t.Errorf("output has %q:\n%s", w, out)
		}
	}
}

func TestUsage(t *testing.T) {
	f := newFixture(t)

	// Usage errors: exit 2 with a message.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "missing command"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"queue"}, "missing queue command"},
		{[]string{"queue", "bogus"}, `unknown queue command "bogus"`},
		{[]string{"queue", "list", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"queue", "list", "extra"}, `unexpected argument "extra"`},
		{[]string{"queue", "list", "-due-before", "tomorrowish"}, `not a time: "tomorrowish"`},
		{[]string{"queue", "show"}, "missing ID"},
		{[]string{"queue", "show", "x1"}, `not an ID: "x1"`},
		{[]string{"queue", "show", "1", "2"}, "one ID"},
		{[]string{"queue", "hold"}, "give a filter"},
		{[]string{"queue", "fail"}, "give a filter"},
		{[]string{"queue", "cancel"}, "give a filter"},
		{[]string{"retired", "list", "-limit", "-1"}, "must not be negative"},
		{[]string{"suppression", "add", "x@example.com"}, "missing -account"},
		{[]string{"suppression", "add", "-account", "a"}, "missing ADDRESS"},
		{[]string{"suppression", "add", "-account", "a", "-category", "bogus", "x@example.com"}, `unknown category "bogus"`},
		{[]string{"suppression", "add", "-account", "a", "not an address"}, "malformed address"},
		{[]string{"suppression", "import"}, "want one FILE"},
		{[]string{"hooks", "cancel"}, "give a filter or -all"},
		{[]string{"hooks", "retry"}, "give a filter or -all"},
		{[]string{"hooks", "list", "-event", "bogus"}, `unknown event "bogus"`},
		{[]string{"holdrules", "add"}, "-all to hold every message"},
		{[]string{"holdrules", "remove"}, "missing ID"},
	} {
		stderr := f.fails(exitUsage, tc.args...)
		contains(t, stderr, tc.want)
	}

	// No -db at all.
	r := f.runRaw("queue", "list")
	if r.code != exitUsage || !strings.Contains(r.stderr, "missing -db PATH") {
		t.Errorf("without -db: exit %d, stderr %q", r.code, r.stderr)
	}

	// A database that does not exist is an error, and is not created.
	missing := filepath.Join(t.TempDir(), "missing.db")
	r = f.runRaw("-db", missing, "queue", "list")
	if r.code != exitFailure || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("missing database: exit %d, stderr %q", r.code, r.stderr)
	}

	// -h works on the program, every group and every command, exits 0 and
	// names the flags.
	r = f.runRaw("-h")
	if r.code != exitOK {
		t.Errorf("-h: exit %d", r.code)
	}
	contains(t, r.stderr, "queue fail", "holdrules remove ID...", "exit codes: 0 ok, 1 error, 2 usage, 3 not found")
	for _, g := range groups() {
		r := f.runRaw(g.name, "-h")
		if r.code != exitOK {
			t.Errorf("%s -h: exit %d", g.name, r.code)
		}
		for _, cmd := range g.cmds {
			contains(t, r.stderr, "  "+cmd.name)
			r := f.runRaw(g.name, cmd.name, "-h")
			if r.code != exitOK {
				t.Errorf("%s %s -h: exit %d, stderr %q", g.name, cmd.name, r.code, r.stderr)
			}
			contains(t, r.stderr, "usage: bouncectl [global flags] "+g.name+" "+cmd.name)
			if !cmd.noJSON {
				contains(t, r.stderr, "-json")
			}
		}
	}
	r = f.runRaw("queue", "list", "-h")
	contains(t, r.stderr, "-due-before", "-due-after", "-account", "-domain", "-id")
}

func TestLocked(t *testing.T) {
	f := newFixture(t)
	db, err := bstore.Open(context.Background(), f.path, nil, queue.DBTypes()...)
	tcheck(t, err, "open")
	defer db.Close()

	r := f.run("-lock-timeout", "1ms", "queue", "list")
	if r.code != exitLocked {
		t.Fatalf("exit %d, want %d; stderr %q", r.code, exitLocked, r.stderr)
	}
	contains(t, r.stderr, "is locked by another process (a running server?)")

	// Writing commands say the same.
	r = f.run("-lock-timeout", "1ms", "holdrules", "add", "-all")
	if r.code != exitLocked {
		t.Fatalf("exit %d, want %d; stderr %q", r.code, exitLocked, r.stderr)
	}

	// Once the server is gone, commands work again.
	tcheck(t, db.Close(), "close")
	f.ok("queue", "list")
}

func TestParseTime(t *testing.T) {
	c := &cli{now: func() time.Time { return t0 }, loc: time.FixedZone("X", 3600)}
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"now", t0},
		{"2025-03-01T10:00:00Z", time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"2025-03-01T10:00:00+02:00", time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)},
		{"2025-03-01", time.Date(2025, 2, 28, 23, 0, 0, 0, time.UTC)},
		{"2025-03-01 10:00", time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)},
		{"2025-03-01 10:00:30", time.Date(2025, 3, 1, 9, 0, 30, 0, time.UTC)},
		{"-2h", t0.Add(-2 * time.Hour)},
		{"+30m", t0.Add(30 * time.Minute)},
		{"90m", t0.Add(90 * time.Minute)},
	} {
		got, err := c.parseTime(tc.in)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "soon", "2025-13-01", "3 days"} {
		if _, err := c.parseTime(bad); err == nil {
			t.Errorf("parseTime(%q): no error", bad)
		}
	}
}

func TestZone(t *testing.T) {
	f := newFixture(t)
	f.loc = time.FixedZone("CET", 3600)
	contains(t, f.ok("retired", "list"), "2025-03-04 10:00:00")
	contains(t, f.ok("-utc", "retired", "list"), "2025-03-04 09:00:00")
	// Times without a zone are read in the local zone, or UTC with -utc.
	sameIDs(t, "local", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-due-after", "2025-03-04 11:30")), []int64{f.frank})
	sameIDs(t, "utc", msgIDs(jsonOf[[]queue.Msg](f, "-utc", "queue", "list", "-due-after", "2025-03-04 11:30")), []int64{})
}
