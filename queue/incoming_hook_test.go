package queue_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/report"
	"github.com/bouncekit/bouncekit/webhook"
)

// receivedMsg is a message from a mail program: a non-ASCII subject,
// multipart/alternative text and HTML, and a PDF attachment.
var receivedMsg = crlf(`Return-Path: <joerg@example.org>
From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>
To: support@example.com
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=
Message-ID: <m2@example.org>
Date: Wed, 27 Mar 2024 10:00:00 +0100
Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: multipart/alternative; boundary=b2

--b2
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe
--b2
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Gr=C3=BC=C3=9Fe</p>
--b2--
--b1
Content-Type: application/pdf
Content-Disposition: attachment; filename=invoice.pdf
Content-Transfer-Encoding: base64

` + base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 tiny")) + `
--b1--
`)

const (
	inSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	inAuthz  = "Bearer app-token"
)

type incomingEnv struct {
	db *bstore.DB
	h  *queue.Handler
	q  *hookqueue.Queue
}

func newIncomingEnv(t *testing.T, url string) *incomingEnv {
	t.Helper()
	db, err := bstore.Open(context.Background(), filepath.Join(t.TempDir(), "q.db"), nil, queue.DBTypes()...)
	tcheck(t, err, "open")
	t.Cleanup(func() { db.Close() })
	clock := queuetest.NewClock(time.Now().Truncate(time.Second))
	q := &hookqueue.Queue{DB: db, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Now: clock.Now, After: clock.After}
	h := &queue.Handler{
		DB:    db,
		Hooks: q,
		Now:   clock.Now,
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			switch name {
			case "support":
				return queue.AccountSettings{IncomingWebhookURL: url, WebhookAuthorization: inAuthz, WebhookSecrets: []string{inSecret}, KeepHooks: time.Hour}, true
			case "outgoing-only":
				return queue.AccountSettings{WebhookURL: url}, true
			case "bad-url":
				return queue.AccountSettings{IncomingWebhookURL: "ftp://app.example/in"}, true
			}
			return queue.AccountSettings{}, false
		}),
	}
	return &incomingEnv{db, h, q}
}

func (e *incomingEnv) deliver(t *testing.T, account, msg string, meta queue.IncomingMeta) error {
	t.Helper()
	return e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		return e.h.IncomingDelivered(tx, account, strings.NewReader(msg), int64(len(msg)), meta)
	})
}

func (e *incomingEnv) hooks(t *testing.T) []hookqueue.Hook {
	t.Helper()
	l, err := bstore.QueryDB[hookqueue.Hook](context.Background(), e.db).List()
	tcheck(t, err, "list hooks")
	return l
}

// A delivered message reaches the application as mox's incoming payload,
// POSTed by the hook queue's worker, signed and with the account's
// Authorization.
func TestIncomingDelivered(t *testing.T) {
	type request struct {
		header http.Header
		body   []byte
	}
	reqs := make(chan request, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		reqs <- request{r.Header.Clone(), body}
	}))
	defer srv.Close()
	e := newIncomingEnv(t, srv.URL)

	received := time.Date(2024, 3, 27, 9, 0, 3, 0, time.UTC)
	meta := queue.IncomingMeta{
		MsgID: 201, MailFrom: "joerg@example.org", RcptTo: "support@example.com",
		RemoteIP: netip.MustParseAddr("192.0.2.7"), MailFromValidated: true, MsgFromValidated: true,
		DKIMVerifiedDomains: []string{"example.org"}, Received: received, MailboxName: "Support",
	}
	tcheck(t, e.deliver(t, "support", receivedMsg, meta), "incoming delivered")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.q.Run(ctx) }()
	defer func() {
		cancel()
		tcheck(t, <-done, "webhook worker")
	}()
	e.h.Kick()
	var rq request
	select {
	case rq = <-reqs:
	case <-time.After(30 * time.Second):
		t.Fatalf("no webhook")
	}

	tcheck(t, webhook.Verify([]string{inSecret}, rq.header, rq.body, e.h.Now(), time.Minute), "verify signature")
	tcompare(t, rq.header.Get("Authorization"), inAuthz, "authorization")
	var got webhook.Incoming
	dec := json.NewDecoder(strings.NewReader(string(rq.body)))
	dec.DisallowUnknownFields()
	tcheck(t, dec.Decode(&got), "decode payload")
	date := time.Date(2024, 3, 27, 9, 0, 0, 0, time.UTC)
	if got.Date == nil || !got.Date.Equal(date) {
		t.Fatalf("date %v", got.Date)
	}
	got.Date = nil
	got.Meta.Received = got.Meta.Received.UTC()
	want := webhook.Incoming{
		From:       []webhook.NameAddress{{Name: "Jörg", Address: "joerg@example.org"}},
		To:         []webhook.NameAddress{{Address: "support@example.com"}},
		CC:         []webhook.NameAddress{},
		BCC:        []webhook.NameAddress{},
		ReplyTo:    []webhook.NameAddress{},
		Subject:    "Grüße",
		MessageID:  "<m2@example.org>",
		References: []string{},
		Text:       "Grüße",
		HTML:       "<p>Grüße</p>",
		Structure: webhook.Structure{
			ContentType: "multipart/mixed", ContentTypeParams: map[string]string{"boundary": "b1"},
			Parts: []webhook.Structure{
				{
					ContentType: "multipart/alternative", ContentTypeParams: map[string]string{"boundary": "b2"},
					Parts: []webhook.Structure{
						{ContentType: "text/plain", ContentTypeParams: map[string]string{"charset": "utf-8"}, DecodedSize: int64(len("Grüße")), Parts: []webhook.Structure{}},
						{ContentType: "text/html", ContentTypeParams: map[string]string{"charset": "utf-8"}, DecodedSize: int64(len("<p>Grüße</p>")), Parts: []webhook.Structure{}},
					},
				},
				{ContentType: "application/pdf", ContentTypeParams: map[string]string{}, ContentDisposition: "attachment", Filename: "invoice.pdf", DecodedSize: int64(len("%PDF-1.4 tiny")), Parts: []webhook.Structure{}},
			},
		},
		Meta: webhook.IncomingMeta{
			MsgID: 201, MailFrom: "joerg@example.org", MailFromValidated: true, MsgFromValidated: true,
			RcptTo: "support@example.com", DKIMVerifiedDomains: []string{"example.org"}, RemoteIP: "192.0.2.7",
			Received: received, MailboxName: "Support",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("payload:\n%s", rq.body)
	}
}

// Nothing is queued, and no error returned, without a hook queue, for an
// unknown account, one without IncomingWebhookURL, or one whose URL cannot
// be used; a message that cannot be read is an error, and nothing is
// queued.
func TestIncomingDeliveredNothingQueued(t *testing.T) {
	e := newIncomingEnv(t, "https://app.example/in")
	for _, account := range []string{"unknown", "outgoing-only", "bad-url"} {
		tcheck(t, e.deliver(t, account, receivedMsg, queue.IncomingMeta{}), account)
	}
	hooks := e.h.Hooks
	e.h.Hooks = nil
	tcheck(t, e.deliver(t, "support", receivedMsg, queue.IncomingMeta{}), "without hook queue")
	e.h.Hooks = hooks

	errDisk := errors.New("disk on fire")
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		return e.h.IncomingDelivered(tx, "support", failingReaderAt{errDisk}, 100, queue.IncomingMeta{})
	})
	if !errors.Is(err, errDisk) {
		t.Fatalf("got %v, want the read error", err)
	}
	tcompare(t, len(e.hooks(t)), 0, "hooks queued")
}

type failingReaderAt struct{ err error }

func (f failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, f.err }

// A rolled-back transaction leaves no hook; a committed one leaves one,
// with the account's settings and the defaults for Meta.
func TestIncomingDeliveredRollback(t *testing.T) {
	e := newIncomingEnv(t, "https://app.example/in")
	errAbort := errors.New("delivery aborted")
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		if err := e.h.IncomingDelivered(tx, "support", strings.NewReader(receivedMsg), int64(len(receivedMsg)), queue.IncomingMeta{MsgID: 1}); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("write: %v", err)
	}
	tcompare(t, len(e.hooks(t)), 0, "hooks after rollback")

	tcheck(t, e.deliver(t, "support", receivedMsg, queue.IncomingMeta{MsgID: 2}), "deliver")
	l := e.hooks(t)
	tcompare(t, len(l), 1, "hooks after commit")
	hk := l[0]
	tcompare(t, hk.URL, "https://app.example/in", "url")
	tcompare(t, hk.Authorization, inAuthz, "authorization")
	tcompare(t, strings.Join(hk.Secrets, ","), inSecret, "secrets")
	tcompare(t, hk.KeepFor, time.Hour, "keep for")
	tcompare(t, hk.Event, webhook.OutgoingEvent(""), "event")
	if hk.Incoming == nil {
		t.Fatalf("no incoming payload")
	}
	m := hk.Incoming.Meta
	tcompare(t, m.MsgID, int64(2), "msgid")
	tcompare(t, m.MailboxName, "Inbox", "default mailbox")
	tcompare(t, m.Received.Equal(e.h.Now()), true, "default received")
	tcompare(t, m.Automated, true, "null sender is automated")
	tcompare(t, m.RemoteIP, "", "no remote ip")
}

// The text kept is cut at report.MaxIncomingText, whatever the message's
// size; the structure still tells the part's whole size.
func TestIncomingDeliveredTextLimit(t *testing.T) {
	e := newIncomingEnv(t, "https://app.example/in")
	body := strings.Repeat("0123456789abcde\n", report.MaxIncomingText/8)
	msg := "From: a@example.org\nContent-Type: text/plain\n\n" + body
	tcheck(t, e.deliver(t, "support", msg, queue.IncomingMeta{MailFrom: "a@example.org"}), "deliver")
	hk := e.hooks(t)[0]
	in := hk.Incoming
	// The hook queue keeps the text apart from the hook record.
	tcompare(t, in.Text, "", "text in the hook record")
	hb := hookqueue.HookBody{ID: hk.ID}
	tcheck(t, e.db.Get(context.Background(), &hb), "get hook body")
	tcompare(t, len(hb.Text), report.MaxIncomingText, "text length")
	tcompare(t, hb.Text, body[:report.MaxIncomingText], "text")
	tcompare(t, in.Structure.DecodedSize, int64(len(body)+len(body)/16), "decoded size with CRLF")
	tcompare(t, in.Meta.Automated, false, "automated")
}

// Validate checks IncomingWebhookURL as it does WebhookURL.
func TestValidateIncomingWebhookURL(t *testing.T) {
	for _, c := range []struct {
		s   queue.AccountSettings
		err error
	}{
		{queue.AccountSettings{IncomingWebhookURL: "https://app.example/in"}, nil},
		{queue.AccountSettings{IncomingWebhookURL: "ftp://app.example/in"}, queue.ErrWebhookURL},
		{queue.AccountSettings{IncomingWebhookURL: "https://app.example/in", WebhookSecrets: []string{"whsec_!"}}, queue.ErrWebhookSecret},
		{queue.AccountSettings{WebhookURL: "https://app.example/out", IncomingWebhookURL: "/relative"}, queue.ErrWebhookURL},
	} {
		if err := c.s.Validate(); !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%+v: got %v, want %v", c.s, err, c.err)
		}
	}
}
