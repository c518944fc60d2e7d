// Package webapitest is the conformance suite of webapi.Server's storage:
// one set of tests, through webapi.Client and an httptest server, that a
// Server must pass whatever keeps its suppression list and webhook
// history, so that the bstore default (Server.Suppressions and
// Server.Hooks over Server.DB) and the PostgreSQL stores (package pgapi
// of the nested module github.com/bouncekit/bouncekit/postgres) answer
// the same: adding, looking up, listing with paging and filters, removing,
// exporting and importing suppressions, a refused import that writes
// nothing, listing, retrying and canceling webhooks, and every account
// seeing only its own records.
//
// A backend's test calls Run with a function that returns a Server over
// new, empty storage whose clocks are the suite's:
//
//	func TestConformance(t *testing.T) {
//		webapitest.Run(t, func(t *testing.T, now func() time.Time) webapitest.Backend {
//			db := openDB(t)
//			hooks := &hookqueue.Queue{DB: db, Now: now}
//			return webapitest.Backend{
//				Server:   &webapi.Server{DB: db, Hooks: hooks},
//				AddHooks: func(ctx context.Context, l ...hookqueue.Hook) error { ... },
//			}
//		})
//	}
//
// The suite sets the Server's Auth, Now and MaxPageSize; it uses accounts
// "alice" and "bob" and an operator. Times are whole seconds in UTC.
//
// # Layout
//
//   - webapitest.go: Backend, Open and Run.
//   - suppression.go: the Suppression methods.
//   - hooks.go: the Hook methods.
package webapitest

import (
	"context"
	"errors"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/webapi"
)

// Backend is a Server over new, empty storage, and a way to put webhooks
// in its history.
type Backend struct {
	// Server reads and writes the storage under test. Its SuppressionList
	// and HookHistory, or DB, Suppressions and Hooks for the defaults, are
	// set; the suite sets Auth, Now and MaxPageSize.
	Server *webapi.Server

	// AddHooks queues pending webhooks in the Server's history, as the
	// host's delivery would: each has Account, URL, Authorization,
	// Secrets and Payload (with Event and QueueMsgID) set. They stay
	// pending until the suite retries or cancels them: nothing delivers
	// them. Nil: the suite skips the webhook tests.
	AddHooks func(ctx context.Context, hooks ...hookqueue.Hook) error
}

// Open returns a Backend over new, empty storage whose clock, everywhere
// the storage reads one, is now. It is called once per test, sometimes
// twice.
type Open func(t *testing.T, now func() time.Time) Backend

// Run runs the suite, each test as a subtest with a Backend of its own.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Open)
	}{
		{"SuppressionMethods", testSuppressionMethods},
		{"SuppressionBadInput", testSuppressionBadInput},
		{"SuppressionPaging", testSuppressionPaging},
		{"SuppressionExportImport", testSuppressionExportImport},
		{"SuppressionScope", testSuppressionScope},
		{"Hooks", testHooks},
		{"HookScope", testHookScope},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// t0 is the time the suite's clock starts at.
var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// clock is the suite's time source, queuetest's settable clock: it moves
// only when a test moves it (Advance).
type clock = queuetest.Clock

// Credentials of the suite's users: alice and bob are accounts, ops the
// operator.
var passwords = map[string]string{"alice": "alicepw", "bob": "bobpw", "ops": "opspw"}

func lookup(ctx context.Context, username, password string) (webapi.Identity, error) {
	if pw, ok := passwords[username]; !ok || pw != password {
		return webapi.Identity{}, webapi.ErrBadCredentials
	}
	if username == "ops" {
		return webapi.Identity{Operator: true}, nil
	}
	return webapi.Identity{Account: username}, nil
}

// env is a Backend's Server behind an httptest.Server, and a client per
// user.
type env struct {
	b     Backend
	clock *clock

	alice, bob, ops webapi.Client
}

// newEnv opens a backend and serves it; mod, if set, changes the Server
// before it serves.
func newEnv(t *testing.T, open Open, mod func(s *webapi.Server)) *env {
	t.Helper()
	clk := queuetest.NewClock(t0)
	b := open(t, clk.Now)
	if b.Server == nil {
		t.Fatal("webapitest: Backend without a Server")
	}
	b.Server.Auth = webapi.BasicAuth(lookup)
	b.Server.Now = clk.Now
	if mod != nil {
		mod(b.Server)
	}
	ts := httptest.NewServer(b.Server)
	t.Cleanup(ts.Close)
	client := func(user string) webapi.Client {
		return webapi.Client{BaseURL: ts.URL, Username: user, Password: passwords[user], HTTPClient: ts.Client()}
	}
	return &env{b, clk, client("alice"), client("bob"), client("ops")}
}

func tcheck(t *testing.T, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

func tcompare(t *testing.T, got, want any, msg string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\ngot  %#v\nwant %#v", msg, got, want)
	}
}

// tcode checks that err is a *webapi.Error with code and a message.
func tcode(t *testing.T, err error, code webapi.ErrorCode, msg string) {
	t.Helper()
	var e *webapi.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: got error %v, want code %q", msg, err, code)
	}
	if e.Message == "" {
		t.Fatalf("%s: error without a message", msg)
	}
}

// ids returns the IDs of l, in order.
func ids[T any](l []T, id func(T) int64) []int64 {
	r := []int64{}
	for _, v := range l {
		r = append(r, id(v))
	}
	return r
}
