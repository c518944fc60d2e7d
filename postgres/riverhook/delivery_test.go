package riverhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/webhook"
)

// Inserting the same webhook-id twice, in one call or in two, makes one job.
func TestInsertUnique(t *testing.T) {
	q := openQueue(t, riverhook.Config{})
	ctx := context.Background()
	n, err := q.Insert(ctx, job("n1-1", "http://127.0.0.1:1/"), job("n1-2", "http://127.0.0.1:1/"), job("n1-1", "http://127.0.0.1:1/"))
	tcheck(t, err, "insert")
	tcompare(t, n, 2, "new jobs")
	n, err = q.Insert(ctx, job("n1-2", "http://127.0.0.1:1/"), job("n1-3", "http://127.0.0.1:1/"))
	tcheck(t, err, "insert again")
	tcompare(t, n, 1, "new jobs on repeat")
}

// A bad job fails the call, and nothing of it is inserted.
func TestInsertBad(t *testing.T) {
	q := openQueue(t, riverhook.Config{})
	ctx := context.Background()
	bad := []struct {
		name string
		edit func(j *riverhook.Job)
	}{
		{"no webhook id", func(j *riverhook.Job) { j.WebhookID = "" }},
		{"space in webhook id", func(j *riverhook.Job) { j.WebhookID = "a b" }},
		{"no account", func(j *riverhook.Job) { j.Account = "" }},
		{"bad url", func(j *riverhook.Job) { j.URL = "ftp://example.org/" }},
		{"no event", func(j *riverhook.Job) { j.Payload.Event = "" }},
		{"bad secret", func(j *riverhook.Job) { j.Secrets = []string{"whsec_!!"} }},
		{"control in authorization", func(j *riverhook.Job) { j.Authorization = "Basic \n" }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			j := job("bad", "http://127.0.0.1:1/")
			tc.edit(&j)
			_, err := q.Insert(ctx, job("good", "http://127.0.0.1:1/"), j)
			if !errors.Is(err, riverhook.ErrBadJob) {
				t.Fatalf("got %v, expected ErrBadJob", err)
			}
		})
	}
	n, err := q.Insert(ctx, job("good", "http://127.0.0.1:1/"))
	tcheck(t, err, "insert")
	tcompare(t, n, 1, "good job was not inserted by the failed calls")
}

// A job is delivered, signed with its own webhook-id, and verifies with
// webhook.Verify.
func TestDeliver(t *testing.T) {
	rc := newReceiver(t, nil)
	q := openQueue(t, riverhook.Config{})
	j := job("node1-42", rc.srv.URL)
	j.Authorization = "Bearer app-token"
	_, err := q.Insert(context.Background(), j)
	tcheck(t, err, "insert")
	run(t, q)
	r := rc.next(t)
	tcompare(t, r.header.Get("Authorization"), "Bearer app-token", "authorization")
	tcompare(t, r.header.Get("User-Agent"), hookqueue.DefaultUserAgent, "user-agent")
	tcompare(t, r.header.Get(webhook.HeaderID), "node1-42", "webhook-id")
	tcompare(t, r.header.Get("Idempotency-Key"), "node1-42", "idempotency-key")
	tcheck(t, webhook.Verify([]string{testSecret}, r.header, r.body, time.Now(), time.Minute), "verify")
	tcompare(t, r.payload.Event, webhook.EventFailed, "event")
	tcompare(t, r.payload.Attempt, int64(1), "attempt")
	tcompare(t, r.payload.QueueMsgID, int64(7), "queue msg id")
}

// A hook about an incoming message sends the Incoming payload.
func TestDeliverIncoming(t *testing.T) {
	rc := newReceiver(t, nil)
	q := openQueue(t, riverhook.Config{})
	j := job("in-1", rc.srv.URL)
	j.Payload = webhook.Outgoing{}
	j.Incoming = &webhook.Incoming{Subject: "hello"}
	_, err := q.Insert(context.Background(), j)
	tcheck(t, err, "insert")
	run(t, q)
	r := rc.next(t)
	var in webhook.Incoming
	tcheck(t, json.Unmarshal(r.body, &in), "decoding incoming")
	tcompare(t, in.Subject, "hello", "subject")
	tcheck(t, webhook.Verify([]string{testSecret}, r.header, r.body, time.Now(), time.Minute), "verify")
}
