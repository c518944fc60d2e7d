package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"
	bolt "go.etcd.io/bbolt"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
)

// fileCommands returns an invocation of every command that opens the
// database, read-only ones and writing ones, valid enough to get there.
// ids are a queued message and a retired one.
func fileCommands(t *testing.T, queued, retired int64) (read, write [][]string) {
	csv := filepath.Join(t.TempDir(), "import.csv")
	tcheck(t, os.WriteFile(csv, []byte("account,address\nalice,new@example.com\n"), 0600), "write csv")
	read = [][]string{
		{"queue", "list"},
		{"queue", "show", fmt.Sprint(queued)},
		{"retired", "list"},
		{"retired", "show", fmt.Sprint(retired)},
		{"suppression", "list"},
		{"suppression", "export"},
		{"hooks", "list"},
		{"hooks", "retired"},
		{"holdrules", "list"},
	}
	write = [][]string{
		{"queue", "hold", "-all"},
		{"queue", "release", "-all"},
		{"queue", "fail", "-id", fmt.Sprint(queued)},
		{"queue", "cancel", "-all"},
		{"suppression", "add", "-account", "alice", "x@example.com"},
		{"suppression", "remove", "-account", "bob", "blocked@example.org"},
		{"suppression", "import", csv},
		{"hooks", "retry", "-all"},
		{"hooks", "cancel", "-all"},
		{"holdrules", "add", "-all"},
		{"holdrules", "remove", "1"},
	}
	// Every command is in one list, so a new one cannot be forgotten here.
	for _, g := range groups() {
		for _, cmd := range g.cmds {
			in := func(l [][]string) bool {
				return slices.ContainsFunc(l, func(args []string) bool { return args[0] == g.name && args[1] == cmd.name })
			}
			if in(read) == in(write) {
				t.Fatalf("command %s %s: in read %v, in write %v; want exactly one", g.name, cmd.name, in(read), in(write))
			}
		}
	}
	return read, write
}

func fileHash(t *testing.T, path string) [sha256.Size]byte {
	t.Helper()
	buf, err := os.ReadFile(path)
	tcheck(t, err, "read file")
	return sha256.Sum256(buf)
}

// privateTemp points the snapshots of the test's commands at a new
// directory and returns it.
func privateTemp(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	return dir
}

func emptyDir(t *testing.T, dir, what string) {
	t.Helper()
	l, err := os.ReadDir(dir)
	tcheck(t, err, "read dir")
	if len(l) != 0 {
		t.Errorf("%s: left behind in the temporary directory: %v", what, l)
	}
}

// The type names the CLI looks for are those bstore gives the types.
func TestTypeNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "types.db")
	db, err := bstore.Open(context.Background(), path, nil, queue.DBTypes()...)
	tcheck(t, err, "open")
	tcheck(t, db.Close(), "close")

	bdb, err := bolt.Open(path, 0600, &bolt.Options{ReadOnly: true})
	tcheck(t, err, "bolt open")
	defer bdb.Close()
	var buckets []string
	err = bdb.View(func(tx *bolt.Tx) error {
		if missing := missingTypes(tx, typeNames(queue.DBTypes())); len(missing) != 0 {
			t.Errorf("missing in a fresh database: %v", missing)
		}
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			buckets = append(buckets, string(name))
			return nil
		})
	})
	tcheck(t, err, "view")
	names := typeNames(queue.DBTypes())
	slices.Sort(names)
	slices.Sort(buckets)
	if !slices.Equal(names, buckets) {
		t.Errorf("type names %v, bstore's buckets %v", names, buckets)
	}
	if !slices.Contains(names, "IncomingSeen") {
		t.Errorf("typename tag not read: %v", names)
	}
}

// A file that is not a bouncekit database is refused by every command,
// with exit code 5, and not changed.
func TestForeignFile(t *testing.T) {
	tmp := privateTemp(t)
	dir := t.TempDir()
	ctx := context.Background()

	// Another program's bstore database, with a type of the same name as
	// one of ours (as mox's queue database has).
	type Msg struct {
		ID      int64
		Subject string
	}
	type Account struct {
		ID   int64
		Name string `bstore:"unique"`
	}
	other := filepath.Join(dir, "other.db")
	db, err := bstore.Open(ctx, other, nil, Msg{}, Account{})
	tcheck(t, err, "open other")
	tcheck(t, db.Insert(ctx, &Msg{Subject: "hi"}, &Account{Name: "x"}), "insert")
	tcheck(t, db.Close(), "close other")

	// Some of bouncekit's types, not all.
	partial := filepath.Join(dir, "partial.db")
	db, err = bstore.Open(ctx, partial, nil, queue.Msg{}, queue.MsgRetired{}, queue.HoldRule{}, hookqueue.Hook{}, hookqueue.HookRetired{})
	tcheck(t, err, "open partial")
	tcheck(t, db.Close(), "close partial")

	// A bbolt file without buckets.
	emptyBolt := filepath.Join(dir, "emptybolt.db")
	bdb, err := bolt.Open(emptyBolt, 0600, nil)
	tcheck(t, err, "bolt open")
	tcheck(t, bdb.Close(), "bolt close")

	text := filepath.Join(dir, "text.db")
	tcheck(t, os.WriteFile(text, []byte(strings.Repeat("not a database\n", 1000)), 0600), "write text")
	empty := filepath.Join(dir, "empty.db")
	tcheck(t, os.WriteFile(empty, nil, 0600), "write empty")

	f := &fixture{t: t, now: t0}
	read, write := fileCommands(t, 1, 1)
	for _, tc := range []struct {
		path string
		want string
	}{
		{other, "is not a bouncekit database: it lacks the types MsgRetired, HoldRule, OutboxDSN, SeenReport, IncomingSeen, Entry, SuppressionExpiry, SuppressionExpiryMigration, Hook, HookRetired, HookBody"},
		{partial, "is not a bouncekit database: it lacks the types OutboxDSN, SeenReport, IncomingSeen, Entry, SuppressionExpiry, SuppressionExpiryMigration, HookBody"},
		{emptyBolt, "is not a bouncekit database: it lacks the types Msg,"},
		{text, "is not a bstore database: invalid database"},
		{empty, "is empty, not a bouncekit database"},
	} {
		before := fileHash(t, tc.path)
		for _, args := range append(read, write...) {
			r := f.runRaw(append([]string{"-db", tc.path}, args...)...)
			what := filepath.Base(tc.path) + ": " + strings.Join(args, " ")
			if r.code != exitNotBouncekit || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", what, r.code, r.stdout, r.stderr, exitNotBouncekit, tc.want)
			}
			if fileHash(t, tc.path) != before {
				t.Fatalf("%s: file changed", what)
			}
			emptyDir(t, tmp, what)
		}
	}
}

// Commands that read leave a bouncekit database unchanged byte for byte
// and remove their snapshot; commands that write change the file itself.
func TestReadLeavesFile(t *testing.T) {
	tmp := privateTemp(t)
	f := newFixture(t)
	read, write := fileCommands(t, f.carol, f.gone)
	before := fileHash(t, f.path)
	for _, args := range read {
		for _, jsonFlag := range []string{"-json=false", "-json"} {
			what := strings.Join(args, " ") + " " + jsonFlag
			out := f.ok(append([]string{jsonFlag}, args...)...)
			if out == "" && jsonFlag == "-json" {
				t.Errorf("%s: no output", what)
			}
			if fileHash(t, f.path) != before {
				t.Fatalf("%s: database changed", what)
			}
			emptyDir(t, tmp, what)
		}
	}
	// The reads saw the data: the fixture's message, not an empty copy.
	contains(t, f.ok("queue", "show", fmt.Sprint(f.carol)), "carol@example.com")

	for _, args := range write {
		prev := fileHash(t, f.path)
		f.ok(args...)
		if fileHash(t, f.path) == prev {
			t.Errorf("%s: database unchanged", strings.Join(args, " "))
		}
		emptyDir(t, tmp, strings.Join(args, " "))
	}
}

// Readers share the file: a command that reads runs while another reader
// has the file open; one that writes waits for the lock, exit 4.
func TestSharedLock(t *testing.T) {
	f := newFixture(t)
	bdb, err := bolt.Open(f.path, 0600, &bolt.Options{ReadOnly: true})
	tcheck(t, err, "bolt open")
	defer bdb.Close()

	contains(t, f.ok("-lock-timeout", "1ms", "queue", "list"), "carol@example.com")
	stderr := f.fails(exitLocked, "-lock-timeout", "1ms", "holdrules", "add", "-all")
	contains(t, stderr, "is locked by another process")

	tcheck(t, bdb.Close(), "close reader")
	f.ok("-lock-timeout", "1ms", "holdrules", "add", "-all")
}

// The snapshot is removed as soon as it is open: while a command reads,
// no copy of the data is left in the temporary directory.
func TestSnapshotUnlinked(t *testing.T) {
	tmp := privateTemp(t)
	f := newFixture(t)
	c := &cli{dbPath: f.path, now: func() time.Time { return t0 }}
	db, done, err := c.openSnapshot(context.Background())
	tcheck(t, err, "open snapshot")
	emptyDir(t, tmp, "snapshot open")
	m := queue.Msg{ID: f.carol}
	tcheck(t, db.Get(context.Background(), &m), "get")
	if m.RecipientAddress != "carol@example.com" {
		t.Errorf("snapshot message: %+v", m)
	}
	tcheck(t, done(), "done")
}
