package pgsent_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/pgsent"
)

// No goroutine may outlive the tests: every pool is closed.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func open(t testing.TB) *pgsent.Index {
	t.Helper()
	x, err := pgsent.Open(context.Background(), pgtest.Pool(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return x
}

func tcheck(t testing.TB, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

// keys returns node/msgid of each record, in order.
func keys(l []pgsent.Sent) []string {
	var s []string
	for _, r := range l {
		s = append(s, fmt.Sprintf("%s/%d", r.Node, r.MsgID))
	}
	return s
}

// msg is a record of a submission of node a to three recipients.
func msg(node string, id, base int64, rcpt string, queued time.Time) pgsent.Sent {
	return pgsent.Sent{
		Node: node, MsgID: id, BaseID: base, Account: "alice",
		SenderAddress: "alice@example.org", RecipientAddress: rcpt, ORcpt: "rfc822;" + rcpt,
		FromID: fmt.Sprintf("fromid%s%d", node, id), EnvID: fmt.Sprintf("env%s%d", node, base), MessageID: fmt.Sprintf("m%s%d@example.org", node, base),
		Subject: "hello", Queued: queued,
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := open(t)
	records := []pgsent.Sent{
		msg("a", 1, 1, "bob@example.com", t0),
		msg("a", 2, 1, "carol@example.com", t0),
		msg("a", 3, 1, "dave@example.com", t0),
		msg("b", 1, 1, "erin@example.com", t0.Add(time.Minute)), // Same IDs on another node.
		msg("a", 4, 4, "bob@example.com", t0.Add(2*time.Minute)),
	}
	records[4].Account = "other"
	records[4].MessageID = records[0].MessageID // Reused Message-ID, another account.
	tcheck(t, x.Put(ctx, records...), "put")

	tests := []struct {
		name string
		fn   func() ([]pgsent.Sent, error)
		want []string
	}{
		{"fromid", func() ([]pgsent.Sent, error) { return x.ByFromID(ctx, "", "fromida2") }, []string{"a/2"}},
		{"fromid other node", func() ([]pgsent.Sent, error) { return x.ByFromID(ctx, "alice", "fromidb1") }, []string{"b/1"}},
		{"fromid other account", func() ([]pgsent.Sent, error) { return x.ByFromID(ctx, "other", "fromida2") }, nil},
		{"fromid unknown", func() ([]pgsent.Sent, error) { return x.ByFromID(ctx, "", "nope") }, nil},
		{"empty fromid", func() ([]pgsent.Sent, error) { return x.ByFromID(ctx, "", "") }, nil},
		{"envid", func() ([]pgsent.Sent, error) { return x.ByEnvID(ctx, "alice", "enva1") }, []string{"a/3", "a/2", "a/1"}},
		{"message-id any account, newest first", func() ([]pgsent.Sent, error) { return x.ByMessageID(ctx, "", "ma1@example.org") }, []string{"a/4", "a/3", "a/2", "a/1"}},
		{"message-id of an account", func() ([]pgsent.Sent, error) { return x.ByMessageID(ctx, "other", "ma1@example.org") }, []string{"a/4"}},
		{"submission", func() ([]pgsent.Sent, error) { return x.Submission(ctx, "a", 1) }, []string{"a/3", "a/2", "a/1"}},
		{"submission other node", func() ([]pgsent.Sent, error) { return x.Submission(ctx, "b", 1) }, []string{"b/1"}},
	}
	for _, tc := range tests {
		l, err := tc.fn()
		tcheck(t, err, tc.name)
		if got := keys(l); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}

	// Every field comes back.
	l, err := x.ByFromID(ctx, "", "fromida1")
	tcheck(t, err, "by fromid")
	if len(l) != 1 || l[0] != records[0] {
		t.Fatalf("record read back:\n%+v\nwant\n%+v", l, records[0])
	}

	// Limit keeps the newest.
	x.Limit = 2
	l, err = x.ByMessageID(ctx, "", "ma1@example.org")
	tcheck(t, err, "limited")
	if got := keys(l); !slices.Equal(got, []string{"a/4", "a/3"}) {
		t.Fatalf("limited to 2: %v", got)
	}
}

// TestPutIdempotent repeats Puts as an at-least-once relay does: no
// duplicates, and KeepUntil only grows.
func TestPutIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := open(t)
	r := msg("a", 1, 1, "bob@example.com", t0)
	steps := []struct {
		keepUntil time.Time
		want      time.Time
	}{
		{time.Time{}, time.Time{}},                       // Queued: not known yet.
		{time.Time{}, time.Time{}},                       // Repeated.
		{t0.Add(48 * time.Hour), t0.Add(48 * time.Hour)}, // Retired.
		{time.Time{}, t0.Add(48 * time.Hour)},            // A late repeat of the queued version.
		{t0.Add(24 * time.Hour), t0.Add(48 * time.Hour)}, // An older retired version.
		{t0.Add(96 * time.Hour), t0.Add(96 * time.Hour)}, // Kept longer.
		{t0.Add(96 * time.Hour), t0.Add(96 * time.Hour)}, // Repeated.
	}
	for i, s := range steps {
		r.KeepUntil = s.keepUntil
		tcheck(t, x.Put(ctx, r, r), "put")
		l, err := x.Submission(ctx, "a", 1)
		tcheck(t, err, "submission")
		if len(l) != 1 || !l[0].KeepUntil.Equal(s.want) {
			t.Fatalf("step %d: %d records, keep until %v; want 1, %v", i, len(l), l, s.want)
		}
	}
}

func TestPutInvalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := open(t)
	good := msg("a", 1, 1, "bob@example.com", t0)
	for _, bad := range []pgsent.Sent{{MsgID: 1}, {Node: "a"}, {Node: "a", MsgID: -1}} {
		if err := x.Put(ctx, good, bad); !errors.Is(err, pgsent.ErrInvalid) {
			t.Errorf("put %+v: %v, want ErrInvalid", bad, err)
		}
	}
	l, err := x.Submission(ctx, "a", 1)
	tcheck(t, err, "submission")
	if len(l) != 0 {
		t.Fatalf("a Put with a bad record wrote %v", keys(l))
	}
	tcheck(t, x.Put(ctx), "empty put")
}

// TestText stores what text cannot hold and finds it by the same key.
func TestText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := open(t)
	r := msg("a", 1, 1, "bob@example.com", t0)
	r.MessageID = "a\xffb\x00c@example.org"
	r.Subject = "caf\xe9"
	tcheck(t, x.Put(ctx, r), "put")
	l, err := x.ByMessageID(ctx, "", r.MessageID)
	tcheck(t, err, "by message-id")
	if len(l) != 1 || l[0].MessageID != "a\uFFFDb\uFFFDc@example.org" || l[0].Subject != "caf\uFFFD" {
		t.Fatalf("found %+v", l)
	}
}

func TestRemoveCleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := open(t)
	var records []pgsent.Sent
	for i := int64(1); i <= 4; i++ {
		r := msg("a", i, i, "bob@example.com", t0)
		if i <= 2 {
			r.KeepUntil = t0.Add(time.Duration(i) * time.Hour)
		}
		records = append(records, r)
	}
	tcheck(t, x.Put(ctx, records...), "put")
	n, err := x.Cleanup(ctx, t0.Add(time.Hour))
	tcheck(t, err, "cleanup")
	if n != 1 {
		t.Fatalf("cleanup at the first expiry: %d, want 1", n)
	}
	n, err = x.Remove(ctx, "a", 2, 3, 99)
	tcheck(t, err, "remove")
	if n != 2 {
		t.Fatalf("remove: %d, want 2", n)
	}
	l, err := x.ByMessageID(ctx, "", "ma4@example.org")
	tcheck(t, err, "lookup")
	if len(l) != 1 {
		t.Fatalf("record kept without KeepUntil: %v", keys(l))
	}
	n, err = x.Cleanup(ctx, t0.Add(1000*time.Hour))
	tcheck(t, err, "cleanup")
	if n != 0 {
		t.Fatalf("cleanup removed %d records without KeepUntil", n)
	}
}

// TestConcurrentNodes puts overlapping records from several nodes' pools at
// once, in different orders: no error (no deadlock), no duplicate.
func TestConcurrentNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	config := pgtest.Config(t)
	const nodes = 4
	var records []pgsent.Sent
	for i := int64(1); i <= 50; i++ {
		records = append(records, msg("a", i, 1, fmt.Sprintf("r%d@example.com", i), t0))
	}
	indexes := make([]*pgsent.Index, nodes)
	for i := range indexes {
		var err error
		indexes[i], err = pgsent.Open(ctx, pgtest.Open(t, config.Copy()))
		tcheck(t, err, "open")
	}
	start := make(chan struct{})
	errs := make(chan error, nodes*5)
	var wg sync.WaitGroup
	for i, x := range indexes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			l := slices.Clone(records)
			if i%2 == 1 {
				slices.Reverse(l)
			}
			for range 5 {
				errs <- x.Put(ctx, l...)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		tcheck(t, err, "concurrent put")
	}
	indexes[0].Limit = 100
	l, err := indexes[0].Submission(ctx, "a", 1)
	tcheck(t, err, "submission")
	if len(l) != len(records) {
		t.Fatalf("%d records, want %d", len(l), len(records))
	}
}
