package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webapi"
)

// apiFixture is the fixture's database twice: as a file for file mode, and
// a byte-identical copy served by a webapi.Server configured like the
// CLI's file mode (retired messages kept 7 days, no webhooks for fail and
// cancel), so both modes must print the same.
type apiFixture struct {
	*fixture          // File mode.
	api      *fixture // -url mode; its path is the server's database.
	url      string
	db       *bstore.DB // The server's.
}

func newAPIFixture(t *testing.T) *apiFixture {
	f := newFixture(t)
	buf, err := os.ReadFile(f.path)
	tcheck(t, err, "read db")
	a := &fixture{t: t, path: filepath.Join(t.TempDir(), "server.db"), now: t0}
	tcheck(t, os.WriteFile(a.path, buf, 0600), "copy db")

	db, err := bstore.Open(context.Background(), a.path, nil, queue.DBTypes()...)
	tcheck(t, err, "open server db")
	t.Cleanup(func() { db.Close() })
	now := func() time.Time { return a.now }
	settings := queue.AccountSettings{KeepRetired: 7 * 24 * time.Hour}
	srv := &webapi.Server{
		DB: db,
		Handler: &queue.Handler{
			DB:       db,
			Hostname: "mx.example.org",
			Now:      now,
			Accounts: queue.AccountsFunc(func(string) (queue.AccountSettings, bool) { return settings, true }),
		},
		Hooks:        &hookqueue.Queue{DB: db, Now: now},
		Suppressions: &suppression.Store{DB: db, Now: now},
		Auth: webapi.BasicAuth(func(ctx context.Context, user, password string) (webapi.Identity, error) {
			if user == "ops" && password == "secret" {
				return webapi.Identity{Operator: true}, nil
			}
			return webapi.Identity{}, webapi.ErrBadCredentials
		}),
		Now: now,
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	a.env = map[string]string{envUser: "ops", envPassword: "secret"}
	return &apiFixture{fixture: f, api: a, url: ts.URL, db: db}
}

// runAPI runs a command in -url mode.
func (af *apiFixture) runAPI(args ...string) result {
	af.t.Helper()
	return af.api.runRaw(append([]string{"-url", af.url}, args...)...)
}

// same runs a command in both modes and fails the test unless they exit
// the same and print the same; it returns the output.
func (af *apiFixture) same(args ...string) string {
	af.t.Helper()
	rf := af.run(args...)
	ra := af.runAPI(args...)
	what := strings.Join(args, " ")
	if rf.code != ra.code {
		af.t.Fatalf("%s: file mode exit %d (stderr %q), -url exit %d (stderr %q)", what, rf.code, rf.stderr, ra.code, ra.stderr)
	}
	if rf.stdout != ra.stdout {
		af.t.Errorf("%s: stdout differs\nfile mode:\n%s\n-url:\n%s", what, rf.stdout, ra.stdout)
	}
	// Notes are the same; error messages may be the server's.
	if rf.code == exitOK && rf.stderr != ra.stderr {
		af.t.Errorf("%s: stderr differs\nfile mode:\n%s\n-url:\n%s", what, rf.stderr, ra.stderr)
	}
	return rf.stdout
}

// Every command prints the same with -url as on the file, in text and
// JSON, for the same data and the same changes.
func TestAPISameOutput(t *testing.T) {
	af := newAPIFixture(t)
	csv := filepath.Join(t.TempDir(), "import.csv")
	tcheck(t, os.WriteFile(csv, []byte("account,address,reason\nalice,imported@example.com,from the old server\nbob,Blocked@example.org,again\n"), 0600), "write csv")

	steps := [][]string{
		{"queue", "list"},
		{"queue", "list", "-account", "bob"},
		{"queue", "list", "-domain", "EXAMPLE.net"},
		{"queue", "list", "-recipient", "erin@example.net"},
		{"queue", "list", "-due-after", "+1h"},
		{"queue", "list", "-due-before", "2025-03-04T09:00:01Z"},
		{"queue", "list", "-id", fmt.Sprintf("%d,%d", af.frank, af.dave)},
		{"queue", "list", "-limit", "2"},
		{"queue", "list", "-account", "nobody"},
		{"queue", "show", fmt.Sprint(af.carol)},
		{"queue", "show", fmt.Sprint(af.gone)},
		{"retired", "list"},
		{"retired", "list", "-limit", "1"},
		{"retired", "list", "-limit", "1", "-cursor", fmt.Sprint(af.delivered)},
		{"retired", "list", "-oldest"},
		{"retired", "list", "-event", "delivered"},
		{"retired", "list", "-account", "alice"},
		{"retired", "list", "-since", "+1m"},
		{"retired", "show", fmt.Sprint(af.gone)},
		{"retired", "show", fmt.Sprint(af.carol)},
		{"suppression", "list"},
		{"suppression", "list", "-account", "bob"},
		{"suppression", "list", "-search", "BLOCKED"},
		{"suppression", "list", "-category", "manual"},
		{"suppression", "list", "-active"},
		{"suppression", "export"},
		{"suppression", "export", "-account", "alice"},
		{"hooks", "list"},
		{"hooks", "list", "-event", "failed"},
		{"hooks", "list", "-msgid", fmt.Sprint(af.carol)},
		{"hooks", "list", "-limit", "1"},
		{"hooks", "list", "-newest"},
		{"hooks", "retired"},
		{"holdrules", "list"},

		// Changes, each followed by a look at its effect.
		{"queue", "hold", "-domain", "example.net"},
		{"queue", "list", "-held"},
		{"queue", "hold", "-domain", "example.net"},
		{"queue", "release", "-id", fmt.Sprint(af.dave)},
		{"queue", "hold", "-account", "nobody"},
		{"queue", "release", "-all"},
		{"holdrules", "add", "-domain", "Example.NET"},
		{"holdrules", "add", "-account", "bob", "-sender-domain", "example.org"},
		{"holdrules", "list"},
		{"queue", "list"},
		{"holdrules", "remove", "1", "999"},
		{"holdrules", "list"},
		{"holdrules", "remove", "1", "2"},
		{"holdrules", "add", "-all"},
		{"holdrules", "list"},
		{"holdrules", "remove", "3"},
		{"queue", "release", "-all"},
		{"holdrules", "list"},
		{"suppression", "add", "-account", "alice", "-reason", "asked", "x@example.com", "Y@Example.com"},
		{"suppression", "add", "-account", "bob", "-category", "complaint", "blocked@example.org"},
		{"suppression", "add", "-account", "alice", "-expires", "+720h", "z@example.com"},
		{"suppression", "add", "-account", "alice", "not an address"},
		{"suppression", "list"},
		{"suppression", "remove", "-account", "alice", "x@example.com"},
		{"suppression", "remove", "-account", "alice", "x@example.com"},
		{"suppression", "import", csv},
		{"suppression", "export"},
		{"hooks", "retry", "-id", fmt.Sprint(af.hookFailed)},
		{"hooks", "retry", "-account", "bob"},
		{"hooks", "list"},
		{"hooks", "cancel", "-event", "delayed"},
		{"hooks", "cancel", "-event", "delayed"},
		{"hooks", "retired"},
		{"hooks", "retired", "-outcome", "canceled"},
		{"queue", "fail", "-id", fmt.Sprint(af.carol), "-reason", "spam run, stopped by ops"},
		{"retired", "show", fmt.Sprint(af.carol)},
		{"queue", "cancel", "-recipient", "frank@example.org"},
		{"queue", "fail", "-all"},
		{"queue", "fail", "-all"},
		{"queue", "list"},
		{"retired", "list"},
	}
	for _, args := range steps {
		af.same(args...)
		// The JSON of everything that does not change anything.
		switch {
		case args[0] == "suppression" && args[1] == "export":
		case args[1] == "list" || args[1] == "show" || args[1] == "retired":
			af.same(append([]string{"-json"}, args...)...)
		}
	}
	// Changes in JSON.
	af.same("-json", "holdrules", "add", "-domain", "example.com")
	af.same("-json", "suppression", "add", "-account", "bob", "new@example.com", "blocked@example.org")
	af.same("-json", "suppression", "remove", "-account", "bob", "new@example.com")
	af.same("-json", "hooks", "cancel", "-all")
	af.same("-json", "suppression", "import", csv)
	af.same("-json", "suppression", "list")
}

func TestAPIErrors(t *testing.T) {
	af := newAPIFixture(t)

	// Flags that only a database file can honour are refused, not ignored.
	for _, args := range [][]string{
		{"queue", "fail", "-all", "-keep", "1h"},
		{"queue", "fail", "-all", "-hostname", "mx.example.net"},
		{"queue", "cancel", "-all", "-keep", "0"},
		{"suppression", "add", "-account", "a", "-separators", "-", "x@example.com"},
		{"suppression", "remove", "-account", "a", "-dotless-domains", "", "x@example.com"},
		{"suppression", "import", "-separators", "+", "x.csv"},
		{"suppression", "list", "-created-after", "-1h"},
		{"suppression", "export", "-active"},
	} {
		r := af.runAPI(args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "works only on a database file (-db), not with -url") {
			t.Errorf("%s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	// Nothing was failed or canceled.
	if r := af.runAPI("queue", "list"); r.code != exitOK || strings.Count(r.stdout, "\n") != 5 {
		t.Errorf("queued after refused commands: %+v", r)
	}

	// Removing addresses takes a call per address: one not on the list
	// stops the command after those before it, and says so.
	af.runAPI("suppression", "add", "-account", "alice", "a@example.com", "b@example.com")
	r := af.runAPI("suppression", "remove", "-account", "alice", "a@example.com", "missing@example.com", "b@example.com")
	if r.code != exitNotFound || !strings.Contains(r.stderr, `missing@example.com is not on the list of account "alice"; the 1 addresses before it were removed`) {
		t.Errorf("remove with a missing address: exit %d, stderr %q", r.code, r.stderr)
	}
	r = af.runAPI("suppression", "list", "-account", "alice")
	lacks(t, r.stdout, "a@example.com")
	contains(t, r.stdout, "b@example.com")

	// Wrong credentials: exit 6; missing ones: a usage error, before any
	// request.
	af.api.env = map[string]string{envUser: "ops", envPassword: "wrong"}
	r = af.runAPI("queue", "list")
	if r.code != exitDenied || !strings.Contains(r.stderr, "authentication failed") {
		t.Errorf("wrong password: exit %d, stderr %q", r.code, r.stderr)
	}
	af.api.env = nil
	r = af.runAPI("queue", "list")
	if r.code != exitUsage || !strings.Contains(r.stderr, "-url needs credentials") {
		t.Errorf("no credentials: exit %d, stderr %q", r.code, r.stderr)
	}
	// Help needs none.
	if r := af.runAPI("queue", "list", "-h"); r.code != exitOK {
		t.Errorf("-h: exit %d, stderr %q", r.code, r.stderr)
	}

	// A credentials file.
	cred := filepath.Join(t.TempDir(), "cred")
	tcheck(t, os.WriteFile(cred, []byte("ops:secret\n"), 0600), "write")
	if r := af.runAPI("-credentials", cred, "holdrules", "list"); r.code != exitOK {
		t.Errorf("-credentials: exit %d, stderr %q", r.code, r.stderr)
	}
	tcheck(t, os.Chmod(cred, 0644), "chmod")
	if r := af.runAPI("-credentials", cred, "holdrules", "list"); r.code != exitFailure || !strings.Contains(r.stderr, "can be read by others") {
		t.Errorf("-credentials readable by others: exit %d, stderr %q", r.code, r.stderr)
	}

	// -db and -url exclude each other; -url must be http(s).
	r = af.runRaw("-db", af.path, "-url", af.url, "queue", "list")
	if r.code != exitUsage || !strings.Contains(r.stderr, "give -db or -url, not both") {
		t.Errorf("-db and -url: exit %d, stderr %q", r.code, r.stderr)
	}
	r = af.runRaw("-url", "ftp://example.org/", "queue", "list")
	if r.code != exitUsage {
		t.Errorf("ftp url: exit %d, stderr %q", r.code, r.stderr)
	}

	// A server that is not there: an error, exit 1.
	af.api.env = map[string]string{envUser: "ops", envPassword: "secret"}
	ts := httptest.NewServer(nil)
	gone := ts.URL
	ts.Close()
	r = af.api.runRaw("-url", gone, "queue", "list")
	if r.code != exitFailure || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("no server: exit %d, stderr %q", r.code, r.stderr)
	}

	// While the server has the database open, file mode says to use -url.
	r = af.api.runRaw("-db", af.api.path, "-lock-timeout", "1ms", "queue", "list")
	if r.code != exitLocked || !strings.Contains(r.stderr, "use -url") {
		t.Errorf("locked: exit %d, stderr %q", r.code, r.stderr)
	}
}

// The API's errors map to the CLI's exit codes.
func TestAPIError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		nf   bool // Wraps errNotFound.
	}{
		{&webapi.Error{Code: webapi.CodeNotFound, Message: "no such"}, exitFailure, true},
		{&webapi.Error{Code: webapi.CodeUser, Message: "bad"}, exitUsage, false},
		{&webapi.Error{Code: webapi.CodeBadAddress, Message: "bad"}, exitUsage, false},
		{&webapi.Error{Code: webapi.CodeForbidden, Message: "not yours"}, exitDenied, false},
		{&webapi.Error{Code: webapi.CodeServer, Message: "db"}, exitFailure, false},
		{fmt.Errorf("%w: 401", webapi.ErrUnauthorized), exitDenied, false},
		{fmt.Errorf("%w: 429", webapi.ErrRateLimited), exitDenied, false},
		{io.ErrUnexpectedEOF, exitFailure, false},
	} {
		err := apiError(tc.err)
		code := exitFailure
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if code != tc.code || errors.Is(err, errNotFound) != tc.nf {
			t.Errorf("%v: exit %d, not found %v; want %d, %v", tc.err, code, errors.Is(err, errNotFound), tc.code, tc.nf)
		}
	}
}
