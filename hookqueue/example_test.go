package hookqueue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/webhook"
)

// A host enqueues an event in its own transaction, kicks the worker after
// the commit, and the application receives the JSON payload.
func ExampleQueue() {
	received := make(chan string, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- r.Header.Get("webhook-id") + " " + string(body)
	}))
	defer app.Close()

	dir, err := os.MkdirTemp("", "webhook-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := bstore.Open(context.Background(), filepath.Join(dir, "host.db"), nil, hookqueue.DBTypes()...)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	q := &hookqueue.Queue{
		DB: db,
		// The example application runs on loopback, refused by default.
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()

	err = db.Write(ctx, func(tx *bstore.Tx) error {
		// ... the host's own state change for message 101 ...
		return q.Enqueue(tx, hookqueue.Hook{
			Account: "shop",
			URL:     app.URL + "/mail-events",
			Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
			Payload: webhook.Outgoing{
				Event:      webhook.EventFailed,
				QueueMsgID: 101,
				SMTPCode:   550, SMTPEnhancedCode: "5.1.1", Error: "user unknown",
				Reason: "userunknown", Recipient: "nobody@example.com",
			},
		})
	})
	if err != nil {
		log.Fatal(err)
	}
	q.Kick()

	got := <-received
	cancel()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	fmt.Println(got[:len("bkh_1")])
	var p webhook.Outgoing
	if err := json.Unmarshal([]byte(got[len("bkh_1 "):]), &p); err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Event, p.QueueMsgID, p.SMTPEnhancedCode, p.Reason, p.Attempt)
	// Output:
	// bkh_1
	// failed 101 5.1.1 userunknown 1
}
