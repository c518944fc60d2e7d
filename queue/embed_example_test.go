package queue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/delivery"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/webhook"
)

// README: begin
// deliverDue is a host's delivery loop: the reference client sends each
// due batch over SMTP, and bouncekit applies its per-recipient results.
func deliverDue(ctx context.Context, db *bstore.DB, h *queue.Handler, c *delivery.Client) error {
	var batches []queue.Batch
	err := db.Write(ctx, func(tx *bstore.Tx) (err error) {
		// Recipients suppressed since they were queued are given up here,
		// never returned.
		batches, err = h.Due(tx, time.Now(), 100)
		return err
	})
	for _, b := range batches {
		if err != nil {
			break
		}
		// One SMTP transaction, outside any database transaction: a result
		// per message, each failure with the command it answered.
		var results []queue.AttemptResult
		if results, err = c.Deliver(ctx, b.Msgs); err != nil {
			break
		}
		err = db.Write(ctx, func(tx *bstore.Tx) error {
			// Classify, retry or give up, DSNs, suppression, webhooks: one call.
			_, err := h.Attempted(tx, results)
			return err
		})
		h.Kick() // Committed: wake Run and the webhook worker for what this queued.
	}
	return err
}

// README: end

// exampleClient is a delivery client that sends every message to the
// test's SMTP server at addr; a host leaves Smarthost nil to deliver to the
// recipients' MX hosts, and opens its own message store.
func exampleClient(addr string) *delivery.Client {
	host, port, _ := net.SplitHostPort(addr)
	portNum, _ := strconv.Atoi(port)
	return &delivery.Client{
		Hostname: "mail.example.org",
		Opener: delivery.OpenerFunc(func(context.Context, queue.Msg) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("Subject: hello\r\n\r\nHello.\r\n")), nil
		}),
		Smarthost: &delivery.Smarthost{Host: host, Port: portNum, Insecure: true},
	}
}

// Example_embedding runs the delivery loop of the README against a
// recipient that does not exist.
func Example_embedding() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "bouncekit-example")
	defer os.RemoveAll(dir)
	db, err := bstore.Open(ctx, filepath.Join(dir, "queue.db"), nil, queue.DBTypes()...)
	if err != nil {
		panic(err)
	}
	defer db.Close()

	h := &queue.Handler{
		DB: db,
		Accounts: queue.AccountsFunc(func(string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{KeepRetired: 24 * time.Hour}, true
		}),
	}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		_, err := h.Add(tx, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "nobody@example.com"})
		return err
	})
	if err != nil {
		panic(err)
	}

	srv, err := queuetest.NewSMTPServer(map[string]*smtp.SMTPError{
		"nobody@example.com": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<nobody@example.com>: user unknown"},
	})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	if err := deliverDue(ctx, db, h, exampleClient(srv.Addr)); err != nil {
		panic(err)
	}

	err = db.Read(ctx, func(tx *bstore.Tx) error {
		l, _, err := queue.ListRetired(tx, queue.RetiredFilter{}, paging.Page{Limit: 10})
		for _, m := range l {
			r, _ := queue.Msg{Results: m.Results}.LastResult()
			fmt.Println(m.RecipientAddress, m.Event, r.Reason, r.Permanent)
		}
		return err
	})
	if err != nil {
		panic(err)
	}
	// Output: nobody@example.com failed userunknown true
}

// TestEmbeddingDeliversWebhooks runs the README's loop with a webhook queue
// whose worker runs in the background on a clock that never fires: the
// failure's webhook reaches the endpoint only because Handler.Kick wakes
// the worker, without further calls.
func TestEmbeddingDeliversWebhooks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := bstore.Open(ctx, filepath.Join(t.TempDir(), "queue.db"), nil, queue.DBTypes()...)
	tcheck(t, err, "open")
	defer db.Close()

	got := make(chan webhook.Outgoing, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var o webhook.Outgoing
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			t.Errorf("decoding webhook: %v", err)
		}
		got <- o
	}))
	defer srv.Close()

	clock := queuetest.NewClock(time.Now())
	hooks := &hookqueue.Queue{
		DB:            db,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Now:           clock.Now,
		After:         clock.After,
	}
	done := make(chan error, 1)
	go func() { done <- hooks.Run(ctx) }()
	defer func() {
		cancel()
		tcheck(t, <-done, "webhook worker")
	}()
	wait := func(what string) webhook.Outgoing {
		t.Helper()
		select {
		case o := <-got:
			return o
		case <-time.After(30 * time.Second):
			t.Fatalf("no webhook for %s", what)
		}
		return webhook.Outgoing{}
	}

	// A first hook, kicked by hand, shows the worker has started and is
	// idle before the loop runs.
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		return hooks.Enqueue(tx, hookqueue.Hook{Account: "alice", URL: srv.URL, Event: webhook.EventUnrecognized})
	})
	tcheck(t, err, "enqueue")
	hooks.Kick()
	tcompare(t, wait("warm-up").Event, webhook.EventUnrecognized, "warm-up event")

	h := &queue.Handler{
		DB:    db,
		Now:   clock.Now, // The hooks it queues are due on the worker's clock.
		Hooks: hooks,
		Accounts: queue.AccountsFunc(func(string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{WebhookURL: srv.URL}, true
		}),
	}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		_, err := h.Add(tx, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "nobody@example.com"})
		return err
	})
	tcheck(t, err, "add")
	mx, err := queuetest.NewSMTPServer(map[string]*smtp.SMTPError{
		"nobody@example.com": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<nobody@example.com>: user unknown"},
	})
	tcheck(t, err, "smtp server")
	defer func() { tcheck(t, mx.Close(), "smtp server") }()
	tcheck(t, deliverDue(ctx, db, h, exampleClient(mx.Addr)), "deliver")
	o := wait("the failure")
	tcompare(t, o.Event, webhook.EventFailed, "event")
	tcompare(t, o.Recipient, "nobody@example.com", "recipient")
}

// TestREADMEEmbedding checks that the README shows the delivery loop above,
// so its example always compiles and runs.
func TestREADMEEmbedding(t *testing.T) {
	src, err := os.ReadFile("embed_example_test.go")
	tcheck(t, err, "read example")
	readme, err := os.ReadFile("../README.md")
	tcheck(t, err, "read README")
	s := string(src)
	code := s[strings.Index(s, "// README: begin\n")+len("// README: begin\n") : strings.Index(s, "\n// README: end")]
	if !strings.Contains(string(readme), strings.TrimSpace(code)) {
		t.Fatalf("README.md does not contain the delivery loop of embed_example_test.go:\n%s", code)
	}
}
