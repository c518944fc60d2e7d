package webapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webapi"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// Credentials of the test accounts: alice and bob are accounts, ops the
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

// env is a Server over a fresh database behind an httptest.Server, and a
// client per account.
type env struct {
	t     testing.TB
	db    *bstore.DB
	clock *queuetest.Clock
	h     *queue.Handler
	hooks *hookqueue.Queue
	srv   *webapi.Server
	ts    *httptest.Server

	alice, bob, ops webapi.Client
}

func newEnv(t testing.TB, mod func(s *webapi.Server)) *env {
	t.Helper()
	db, err := bstore.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"), &bstore.Options{Timeout: time.Second}, queue.DBTypes()...)
	tcheck(t, err, "open db")
	t.Cleanup(func() { db.Close() })
	clock := queuetest.NewClock(t0)
	hooks := &hookqueue.Queue{DB: db, Now: clock.Now}
	supp := &suppression.Store{DB: db, Now: clock.Now}
	settings := queue.AccountSettings{
		WebhookURL:           "https://app.example/hook",
		WebhookAuthorization: "Bearer secret-token",
		WebhookSecrets:       []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		KeepRetired:          30 * 24 * time.Hour,
	}
	h := &queue.Handler{
		DB:           db,
		Hostname:     "mail.example",
		Suppressions: supp,
		Hooks:        hooks,
		Accounts:     queue.AccountsFunc(func(string) (queue.AccountSettings, bool) { return settings, true }),
		Now:          clock.Now,
		After:        clock.After,
	}
	srv := &webapi.Server{
		DB:           db,
		Handler:      h,
		Hooks:        hooks,
		Suppressions: supp,
		Auth:         webapi.BasicAuth(lookup),
		Now:          clock.Now,
	}
	if mod != nil {
		mod(srv)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client := func(user string) webapi.Client {
		return webapi.Client{BaseURL: ts.URL, Username: user, Password: passwords[user], HTTPClient: ts.Client()}
	}
	return &env{t, db, clock, h, hooks, srv, ts, client("alice"), client("bob"), client("ops")}
}

// add queues messages of account to the recipients, one submission.
func (e *env) add(account string, rcpts ...string) []queue.Msg {
	e.t.Helper()
	var ptrs []*queue.Msg
	for _, r := range rcpts {
		ptrs = append(ptrs, &queue.Msg{SenderAccount: account, SenderAddress: account + "@" + account + ".example", RecipientAddress: r, MessageID: "m@" + account + ".example", Subject: "hi"})
	}
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := e.h.Add(tx, ptrs...)
		return err
	})
	tcheck(e.t, err, "add")
	l := make([]queue.Msg, len(ptrs))
	for i, p := range ptrs {
		l[i] = *p
	}
	return l
}

// cancel retires msgs with the canceled event, queueing a webhook each.
func (e *env) cancel(msgs ...queue.Msg) {
	e.t.Helper()
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := e.h.CancelMsgs(tx, queue.MsgFilter{IDs: ids})
		return err
	})
	tcheck(e.t, err, "cancel")
}

// dump returns every record of the database, to compare before and after
// a call that must change nothing.
func (e *env) dump() map[string]any {
	e.t.Helper()
	d := map[string]any{}
	err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		var err error
		get := func(name string, l any, lerr error) {
			d[name] = l
			err = errors.Join(err, lerr)
		}
		msgs, lerr := bstore.QueryTx[queue.Msg](tx).List()
		get("msgs", msgs, lerr)
		retired, lerr := bstore.QueryTx[queue.MsgRetired](tx).List()
		get("retired", retired, lerr)
		rules, lerr := bstore.QueryTx[queue.HoldRule](tx).List()
		get("rules", rules, lerr)
		entries, lerr := bstore.QueryTx[suppression.Entry](tx).List()
		get("suppressions", entries, lerr)
		hooks, lerr := bstore.QueryTx[hookqueue.Hook](tx).List()
		get("hooks", hooks, lerr)
		hooksRetired, lerr := bstore.QueryTx[hookqueue.HookRetired](tx).List()
		get("hooksretired", hooksRetired, lerr)
		outbox, lerr := bstore.QueryTx[queue.OutboxDSN](tx).List()
		get("outbox", outbox, lerr)
		return err
	})
	tcheck(e.t, err, "dump")
	return d
}

func tcheck(t testing.TB, err error, msg string) {
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

// tcode checks that err is an *webapi.Error with code.
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

// post sends body with content type as user to method and returns the
// status and response body.
func (e *env) post(user, method, contentType, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+"/"+method, strings.NewReader(body))
	tcheck(e.t, err, "new request")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.SetBasicAuth(user, passwords[user])
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) (int, string) {
	e.t.Helper()
	resp, err := e.ts.Client().Do(req)
	tcheck(e.t, err, "http request")
	defer resp.Body.Close()
	buf, err := io.ReadAll(resp.Body)
	tcheck(e.t, err, "read response")
	return resp.StatusCode, string(buf)
}

func msgIDs[T any](l []T, id func(T) int64) []int64 {
	r := []int64{}
	for _, v := range l {
		r = append(r, id(v))
	}
	return r
}
