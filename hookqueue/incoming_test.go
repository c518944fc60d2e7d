package hookqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/bouncekit/bouncekit/webhook"
)

func testIncoming() *webhook.Incoming {
	date := time.Date(2024, 3, 27, 10, 0, 0, 0, time.UTC)
	return &webhook.Incoming{
		From:       []webhook.NameAddress{{Name: "Jörg", Address: "joerg@example.org"}},
		To:         []webhook.NameAddress{{Address: "support@example.com"}},
		Subject:    "Grüße",
		MessageID:  "<m2@example.org>",
		References: []string{"<m1@example.com>"},
		Date:       &date,
		Text:       "hello\n",
		HTML:       "<p>hello</p>\n",
		Structure: webhook.Structure{
			ContentType: "multipart/mixed", ContentTypeParams: map[string]string{"boundary": "b"},
			Parts: []webhook.Structure{{ContentType: "text/plain", ContentTypeParams: map[string]string{"charset": "utf-8"}, DecodedSize: 7}},
		},
		Meta: webhook.IncomingMeta{MsgID: 7, MailFrom: "joerg@example.org", RcptTo: "support@example.com", RemoteIP: "192.0.2.1", Received: date.Add(time.Second), MailboxName: "Inbox"},
	}
}

// A hook with an Incoming payload is POSTed as that payload's JSON, with
// the same headers and signatures as an outgoing event, and its history
// keeps the payload.
func TestDeliverIncoming(t *testing.T) {
	type req struct {
		header http.Header
		body   []byte
	}
	reqs := make(chan req, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		reqs <- req{r.Header.Clone(), body}
	}))
	defer srv.Close()

	h := newHarness(t, nil)
	h.clk.now = time.Now().Truncate(time.Second) // The reference verifier checks timestamps against time.Now.
	in := testIncoming()
	hooks := h.enqueue(Hook{Account: "acc", URL: srv.URL, Authorization: "Bearer token", Secrets: []string{secret1, secret2}, Incoming: in})
	h.start()
	r := h.next()
	tcompare(t, r.retired, true, "retired")
	tcompare(t, r.hook.LastResult().Success, true, "success")

	rq := <-reqs
	for _, s := range []string{secret1, secret2} {
		wh, err := standardwebhooks.NewWebhook(s)
		tcheck(t, err, "new verifier")
		tcheck(t, wh.Verify(rq.body, rq.header), "verify signature")
	}
	tcompare(t, rq.header.Get("Content-Type"), "application/json; charset=utf-8", "content-type")
	tcompare(t, rq.header.Get("Authorization"), "Bearer token", "authorization")
	tcompare(t, rq.header.Get("webhook-id"), webhookID(hooks[0].ID), "webhook-id")
	tcompare(t, rq.header.Get("X-Mox-Webhook-Attempt"), "1", "mox attempt header")
	want, err := json.Marshal(in)
	tcheck(t, err, "marshal")
	if !bytes.Equal(rq.body, want) {
		t.Fatalf("body:\n%s\nwant\n%s", rq.body, want)
	}
	if strings.Contains(string(rq.body), `"Event"`) || !strings.Contains(string(rq.body), `"CC":[]`) {
		t.Fatalf("not an incoming payload: %s", rq.body)
	}

	l := h.retired()
	tcompare(t, len(l), 1, "retired hooks")
	if l[0].Incoming == nil || !reflect.DeepEqual(l[0].Incoming.Structure, in.Structure) || l[0].Incoming.Date.Unix() != in.Date.Unix() {
		t.Fatalf("retired incoming payload: %+v", l[0].Incoming)
	}
	// History keeps the metadata, not the text parts.
	if in.Text == "" || in.HTML == "" || l[0].Incoming.Text != "" || l[0].Incoming.HTML != "" || l[0].Incoming.Subject != in.Subject {
		t.Fatalf("retired incoming text %q html %q subject %q; sent text %q html %q subject %q", l[0].Incoming.Text, l[0].Incoming.HTML, l[0].Incoming.Subject, in.Text, in.HTML, in.Subject)
	}
	tcompare(t, l[0].Signed, true, "signed")
	tcompare(t, l[0].Event, webhook.OutgoingEvent(""), "event")
}

// A hook carries one payload: an incoming one with an event or a queue
// message ID is refused, and nothing is queued.
func TestEnqueueIncomingInvalid(t *testing.T) {
	h := newHarness(t, nil)
	for i, hk := range []Hook{
		{Account: "acc", URL: "https://app.example/in", Incoming: testIncoming(), Event: webhook.EventDelivered},
		{Account: "acc", URL: "https://app.example/in", Incoming: testIncoming(), Payload: webhook.Outgoing{Event: webhook.EventFailed}},
		{Account: "acc", URL: "https://app.example/in", Incoming: testIncoming(), QueueMsgID: 3},
		{Account: "acc", URL: "ftp://app.example/in", Incoming: testIncoming()},
		{URL: "https://app.example/in", Incoming: testIncoming()},
	} {
		err := h.db.Write(context.Background(), func(tx *bstore.Tx) error { return h.q.Enqueue(tx, hk) })
		if err == nil {
			t.Fatalf("case %d: enqueued", i)
		}
	}
	tcompare(t, len(h.pending()), 0, "pending hooks")
}

// A database written before Hook and HookRetired had Incoming opens with
// the current types: its pending outgoing hook is delivered as before, and
// an incoming hook queued after the upgrade is delivered with its payload.
func TestIncomingOldSchema(t *testing.T) {
	// The types as they were; bstore knows a type by its name.
	type HookRetired struct {
		ID             int64
		Account        string `bstore:"nonzero,index"`
		URL            string `bstore:"nonzero"`
		Authorization  bool
		Signed         bool
		Event          webhook.OutgoingEvent
		QueueMsgID     int64
		Payload        webhook.Outgoing
		Submitted      time.Time
		Attempts       int64
		Results        []HookResult
		RetireReason   RetireReason
		Success        bool
		SupersededByID int64
		LastActivity   time.Time
		KeepUntil      time.Time `bstore:"index"`
	}
	type Hook0 = Hook // The current type, before the old one shadows it.
	type Hook struct {
		ID            int64
		Account       string `bstore:"nonzero,index Account+QueueMsgID"`
		URL           string `bstore:"nonzero"`
		Authorization string
		Secrets       []string
		Event         webhook.OutgoingEvent
		QueueMsgID    int64
		Payload       webhook.Outgoing
		KeepFor       time.Duration
		Submitted     time.Time
		Attempts      int64
		NextAttempt   time.Time `bstore:"nonzero,index"`
		Results       []HookResult
	}

	var bodies []string
	bodyc := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodyc <- string(b)
	}))
	defer srv.Close()

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := bstore.Open(ctx, path, nil, HookRetired{}, Hook{})
	tcheck(t, err, "open with the old types")
	now := time.Date(2024, 3, 27, 0, 0, 0, 0, time.UTC)
	err = old.Write(ctx, func(tx *bstore.Tx) error {
		// An ID above the pending hooks', as the queue assigns them.
		r := HookRetired{ID: 100, Account: "acc", URL: srv.URL, Event: webhook.EventDelivered, RetireReason: RetiredDelivered, KeepUntil: now.Add(time.Hour)}
		if err := tx.Insert(&r); err != nil {
			return err
		}
		h := Hook{Account: "acc", URL: srv.URL, Event: webhook.EventFailed, QueueMsgID: 5, Payload: webhook.Outgoing{Event: webhook.EventFailed, QueueMsgID: 5}, Submitted: now, NextAttempt: now}
		return tx.Insert(&h)
	})
	tcheck(t, err, "write with the old types")
	tcheck(t, old.Close(), "close")

	db, err := bstore.Open(ctx, path, nil, DBTypes()...)
	tcheck(t, err, "open with the current types")
	defer db.Close()
	results := make(chan Hook0, 10)
	q := &Queue{DB: db, AllowNetworks: allowLoopback, Rand: NoJitter(), Now: func() time.Time { return now }, OnResult: func(h Hook0, retired bool) { results <- h }}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		return q.Enqueue(tx, Hook0{Account: "acc", URL: srv.URL, Incoming: testIncoming()})
	})
	tcheck(t, err, "enqueue incoming after upgrade")
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- q.Run(runCtx) }()
	for range 2 {
		select {
		case <-results:
			bodies = append(bodies, <-bodyc)
		case <-time.After(20 * time.Second):
			t.Fatalf("no result")
		}
	}
	cancel()
	tcheck(t, <-done, "run")

	var outgoing, incoming int
	for _, b := range bodies {
		var m map[string]any
		tcheck(t, json.Unmarshal([]byte(b), &m), "decode body")
		switch {
		case m["Event"] == "failed" && m["QueueMsgID"] == float64(5):
			outgoing++
		case m["Subject"] == "Grüße" && m["Meta"] != nil:
			incoming++
		default:
			t.Fatalf("unexpected body %s", b)
		}
	}
	tcompare(t, fmt.Sprint(outgoing, incoming), "1 1", "outgoing and incoming deliveries")
	retired, err := bstore.QueryDB[HookRetired0](ctx, db).List()
	tcheck(t, err, "list retired")
	tcompare(t, len(retired), 3, "retired hooks")
	// By ID: the old pending hook, the incoming one, the old record.
	tcompare(t, retired[0].Incoming == nil && retired[1].Incoming != nil && retired[2].Incoming == nil, true, "incoming payload kept only for the new hook")
	tcompare(t, retired[1].Incoming.Meta.MsgID, int64(7), "retired incoming payload")
}

// HookRetired0 is the current HookRetired, for tests that declare an old
// one.
type HookRetired0 = HookRetired

// Run's buffer of due hooks holds incoming hooks without their payload,
// which can be megabytes each; the request reads it when it starts.
func TestLoadDefersIncoming(t *testing.T) {
	h := newHarness(t, nil)
	in := testIncoming()
	in.Text = strings.Repeat("x", 1<<20)
	h.enqueue(Hook{Account: "acc", URL: "https://app.example/in", Incoming: in}, testHook("https://app.example/out"))
	w := &worker{q: h.q, ctx: context.Background(), log: h.q.log(), busy: map[int64]struct{}{}, ready: map[string][]Hook{},
		full: map[string]bool{}, skipped: map[int64]string{}, hosts: map[string]string{}}
	w.load()
	tcompare(t, w.readyN, 2, "buffered hooks")
	buffered := w.ready["https://app.example/in"][0]
	tcompare(t, buffered.Incoming == nil && buffered.incomingDeferred, true, "incoming payload left out")
	tcompare(t, w.ready["https://app.example/out"][0].Payload.Event, webhook.EventDelivered, "outgoing payload kept")
	got, err := h.q.readIncoming(context.Background(), buffered.ID)
	tcheck(t, err, "read payload")
	tcompare(t, len(got.Text), 1<<20, "payload read back")

	// A hook canceled after it was buffered has no payload to send.
	_, err = h.q.Cancel(context.Background(), Filter{IDs: []int64{buffered.ID}})
	tcheck(t, err, "cancel")
	if _, err := h.q.readIncoming(context.Background(), buffered.ID); !errors.Is(err, bstore.ErrAbsent) {
		t.Fatalf("read canceled: %v", err)
	}
}
