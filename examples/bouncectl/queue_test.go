package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
)

func msgIDs(msgs []queue.Msg) []int64 {
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return ids
}

func sameIDs(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: ids %v, want %v", what, got, want)
	}
}

func TestQueueList(t *testing.T) {
	f := newFixture(t)

	out := f.ok("queue", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("want header and 4 messages, got:\n%s", out)
	}
	contains(t, lines[0], "ID", "ACCOUNT", "FROM", "TO", "ATTEMPTS", "NEXT ATTEMPT", "HOLD", "LAST ERROR")
	contains(t, out, "carol@example.com", "dave@example.net", "erin@example.net", "frank@example.org",
		"451 4.7.1", "2025-03-04 11:00:00 (in 2h0m0s)")
	lacks(t, out, "gone@example.com", "ok@example.org")
	// Columns are aligned: "TO" starts at the same offset in every line.
	col := strings.Index(lines[0], "TO ")
	for _, l := range lines[1:] {
		if len(l) <= col || l[col-2:col] != "  " || l[col] == ' ' {
			t.Errorf("column TO (at %d) not aligned in %q", col, l)
		}
	}

	// JSON: every queued message, oldest next attempt first; frank is due last.
	msgs := jsonOf[[]queue.Msg](f, "queue", "list")
	if len(msgs) != 4 || msgs[3].ID != f.frank {
		t.Fatalf("json list: %v", msgIDs(msgs))
	}

	// -json works as a command flag too.
	var perCmd []queue.Msg
	tcheck(t, json.Unmarshal([]byte(f.ok("queue", "list", "-json", "-account", "bob")), &perCmd), "decode")
	sameIDs(t, "command -json", msgIDs(perCmd), []int64{f.frank})

	// Filters.
	sameIDs(t, "-account bob", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-account", "bob")), []int64{f.frank})
	sameIDs(t, "-domain", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-domain", "EXAMPLE.net")), []int64{f.dave, f.erin})
	sameIDs(t, "-recipient", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-recipient", "erin@example.net")), []int64{f.erin})
	sameIDs(t, "-due-after", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-due-after", "+1h")), []int64{f.frank})
	sameIDs(t, "-due-before", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-due-before", "2025-03-04T09:00:01Z", "-domain", "example.net")), []int64{f.dave, f.erin})
	sameIDs(t, "-id", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-id", fmt.Sprintf("%d,%d", f.frank, f.dave))), []int64{f.dave, f.frank})
	sameIDs(t, "no match", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-account", "nobody")), []int64{})

	// An empty table says so on stderr and exits 0.
	r := f.run("queue", "list", "-account", "nobody")
	if r.code != exitOK || r.stdout != "" || !strings.Contains(r.stderr, "no queued messages match") {
		t.Errorf("empty list: %+v", r)
	}
	// -limit tells there is more.
	r = f.run("queue", "list", "-limit", "2")
	if r.code != exitOK || strings.Count(r.stdout, "\n") != 3 || !strings.Contains(r.stderr, "showing the first 2") {
		t.Errorf("limited list: %+v", r)
	}
}

func TestQueueShow(t *testing.T) {
	f := newFixture(t)
	out := f.ok("queue", "show", fmt.Sprint(f.carol))
	contains(t, out, "Account:", "alice", "carol@example.com", "hello carol", "m1@example.org",
		"Attempts:", "1 (max 0", "START", "temporary", "451", "4.7.1", "greylisted, try again later")

	m := jsonOf[queue.Msg](f, "queue", "show", fmt.Sprint(f.carol))
	if m.ID != f.carol || len(m.Results) != 1 || m.Results[0].Code != 451 {
		t.Errorf("json show: %+v", m)
	}

	stderr := f.fails(exitNotFound, "queue", "show", fmt.Sprint(f.gone))
	contains(t, stderr, "no queued message", "retired show")
	f.fails(exitNotFound, "queue", "show", "999")
}

func TestQueueHoldRelease(t *testing.T) {
	f := newFixture(t)

	out := f.ok("queue", "hold", "-domain", "example.net")
	contains(t, out, "held 2 of 2 matching messages")
	sameIDs(t, "held", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-held")), []int64{f.dave, f.erin})
	contains(t, f.ok("queue", "list", "-held"), "yes")

	// Holding again matches but changes nothing.
	res := jsonOf[countJSON](f, "queue", "hold", "-domain", "example.net")
	if res.Matched != 2 || res.Changed != 0 {
		t.Errorf("hold again: %+v", res)
	}

	// Held messages are not due for the server.
	f.withDB(func(db *bstore.DB) {
		err := db.Write(context.Background(), func(tx *bstore.Tx) error {
			batches, err := (&queue.Handler{}).Due(tx, f.now, 0)
			for _, b := range batches {
				if b.Domain == "example.net" {
					t.Errorf("held messages are due: %+v", b)
				}
			}
			return err
		})
		tcheck(t, err, "due")
	})

	res = jsonOf[countJSON](f, "queue", "release", "-id", fmt.Sprint(f.dave))
	if res.Matched != 1 || res.Changed != 1 {
		t.Errorf("release: %+v", res)
	}
	sameIDs(t, "held after release", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-held")), []int64{f.erin})
	contains(t, f.ok("queue", "release", "-all"), "released 1 of 4 matching messages")

	f.fails(exitNotFound, "queue", "hold", "-account", "nobody")
}

func TestQueueFail(t *testing.T) {
	f := newFixture(t)
	f.now = t0.Add(time.Hour)

	out := f.ok("queue", "fail", "-id", fmt.Sprint(f.carol), "-reason", "spam run, stopped by ops")
	contains(t, out, "RESULT", "carol@example.com", "failed", "yes")

	f.fails(exitNotFound, "queue", "show", fmt.Sprint(f.carol))
	r := jsonOf[queue.MsgRetired](f, "retired", "show", fmt.Sprint(f.carol))
	if r.Event != "failed" || r.Success || !r.LastActivity.Equal(f.now) || !r.KeepUntil.Equal(f.now.Add(7*24*time.Hour)) {
		t.Errorf("retired: %+v", r)
	}
	last := r.Results[len(r.Results)-1]
	if !last.Permanent || !strings.Contains(last.Error, "spam run, stopped by ops") {
		t.Errorf("last result: %+v", last)
	}

	f.withDB(func(db *bstore.DB) {
		// The sender's failure DSN waits in the outbox for the server.
		dsns, err := bstore.QueryDB[queue.OutboxDSN](context.Background(), db).List()
		tcheck(t, err, "outbox")
		var found bool
		for _, d := range dsns {
			if d.MsgID == f.carol && d.Kind == queue.DSNFailed {
				found = true
				contains(t, string(d.Data), "carol@example.com", "spam run, stopped by ops", "mx.example.org")
				if d.To != "alice@example.org" || d.Account != "alice" {
					t.Errorf("dsn to %q account %q", d.To, d.Account)
				}
			}
		}
		if !found {
			t.Errorf("no failure dsn for carol in outbox: %d dsns", len(dsns))
		}
		// An operator's decision does not suppress the recipient.
		n, err := bstore.QueryDB[suppression.Entry](context.Background(), db).FilterEqual("BaseAddress", "carol@example.com").Count()
		tcheck(t, err, "count")
		if n != 0 {
			t.Errorf("carol suppressed by queue fail")
		}
	})

	// Several accounts at once: one FailMsgs call per account.
	sameIDs(t, "-due-after", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-due-after", "now")), []int64{f.frank})
	outcomes := jsonOf[[]outcomeJSON](f, "queue", "fail", "-all")
	if len(outcomes) != 3 {
		t.Fatalf("fail all due: %+v", outcomes)
	}
	for _, o := range outcomes {
		if o.Result != queue.ResultFailed || o.DSN != queue.DSNFailed || !o.Retired {
			t.Errorf("outcome %+v", o)
		}
	}
	f.fails(exitNotFound, "queue", "fail", "-all")
}

func TestQueueCancel(t *testing.T) {
	f := newFixture(t)
	out := f.ok("queue", "cancel", "-recipient", "frank@example.org", "-keep", "1h")
	contains(t, out, "frank@example.org", "canceled")
	f.fails(exitNotFound, "queue", "show", fmt.Sprint(f.frank))

	p := jsonOf[pageJSON[queue.MsgRetired]](f, "retired", "list", "-event", "canceled")
	if len(p.Items) != 1 || p.Items[0].ID != f.frank || !p.Items[0].KeepUntil.Equal(t0.Add(time.Hour)) {
		t.Errorf("canceled: %+v", p)
	}
	f.withDB(func(db *bstore.DB) {
		n, err := bstore.QueryDB[queue.OutboxDSN](context.Background(), db).FilterEqual("MsgID", f.frank).Count()
		tcheck(t, err, "outbox")
		if n != 0 {
			t.Errorf("cancel queued a dsn")
		}
	})

	// -keep 0: removed without history.
	f.ok("queue", "cancel", "-id", fmt.Sprint(f.dave), "-keep", "0")
	f.fails(exitNotFound, "retired", "show", fmt.Sprint(f.dave))
	f.fails(exitNotFound, "queue", "cancel", "-id", fmt.Sprint(f.dave))
}

func TestLastError(t *testing.T) {
	for _, tc := range []struct {
		results []queue.MsgResult
		want    string
	}{
		{nil, ""},
		{[]queue.MsgResult{{Success: true, Code: 250}}, "ok"},
		{[]queue.MsgResult{{Code: 451}, {Code: 550, EnhancedCode: "5.1.1", Reason: bounce.ReasonUserUnknown, Error: "550 5.1.1 no such user"}}, "550 5.1.1 userunknown"},
		{[]queue.MsgResult{{Reason: bounce.ReasonNetworkError, Error: "dial tcp: connection refused"}}, "networkerror: dial tcp: connection refused"},
		{[]queue.MsgResult{{Error: "something odd"}}, "something odd"},
	} {
		if got := lastError(tc.results); got != tc.want {
			t.Errorf("lastError(%+v) = %q, want %q", tc.results, got, tc.want)
		}
	}
}

// benchDB returns the path of a closed database with n queued messages.
func benchDB(b *testing.B, n int) string {
	path := filepath.Join(b.TempDir(), "bench.db")
	ctx := context.Background()
	db, err := bstore.Open(ctx, path, nil, queue.DBTypes()...)
	if err != nil {
		b.Fatal(err)
	}
	h := &queue.Handler{Now: func() time.Time { return t0 }}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		for i := range n {
			m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: fmt.Sprintf("r%d@example.com", i)}
			if _, err := h.Add(tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkQueueList measures a whole "queue list -json" over 1000 queued
// messages: opening the database, the query and the output.
func BenchmarkQueueList(b *testing.B) {
	path := benchDB(b, 1000)
	ctx := context.Background()
	c := &cli{stdout: io.Discard, stderr: io.Discard, now: func() time.Time { return t0 }, loc: time.UTC}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if code := c.run(ctx, []string{"-db", path, "queue", "list", "-json"}); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
}

// BenchmarkOpen measures what a command pays to open the database file:
// a read-only command's checked snapshot against a writing command's
// open of the file itself, by database size.
func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		path := benchDB(b, n)
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		c := &cli{dbPath: path, now: func() time.Time { return t0 }}
		ctx := context.Background()
		for _, mode := range []struct {
			name string
			with func(ctx context.Context, fn func(db *bstore.DB) error) error
		}{{"snapshot", c.readDB}, {"write", c.writeDB}} {
			b.Run(fmt.Sprintf("%s/%dmsgs/%dKB", mode.name, n, fi.Size()>>10), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					if err := mode.with(ctx, func(*bstore.DB) error { return nil }); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
