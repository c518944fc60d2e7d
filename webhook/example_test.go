package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mjl-/bstore"

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
	db, err := bstore.Open(context.Background(), filepath.Join(dir, "host.db"), nil, webhook.DBTypes()...)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	q := &webhook.Queue{
		DB: db,
		// The example application runs on loopback, refused by default.
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()

	err = db.Write(ctx, func(tx *bstore.Tx) error {
		// ... the host's own state change for message 101 ...
		return q.Enqueue(tx, webhook.Hook{
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

// An application checks each webhook POST before it trusts the payload.
// During a key rotation it accepts the new and the old secret.
func ExampleVerify() {
	secrets := []string{
		"whsec_bmV3IHNlY3JldCwgYWZ0ZXIgcm90YXRpb24=", // New.
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",     // Old, still used by the sender.
	}
	receive := func(w http.ResponseWriter, r *http.Request, now time.Time) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := webhook.Verify(secrets, r.Header, body, now, 0); err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			fmt.Println("refused:", errors.Is(err, webhook.ErrSignatureMismatch), errors.Is(err, webhook.ErrBadTimestamp))
			return
		}
		var p webhook.Outgoing
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		fmt.Println("verified:", r.Header.Get("webhook-id"), p.Event, p.QueueMsgID, p.Recipient)
	}

	// A request as the queue sends it, signed with the old secret at
	// 2024-03-27T00:00:00Z.
	body := `{"Version":0,"Event":"failed","QueueMsgID":101,"Recipient":"nobody@example.com"}`
	newRequest := func(body string) *http.Request {
		r := httptest.NewRequest("POST", "/mail-events", strings.NewReader(body))
		r.Header.Set("webhook-id", "bkh_1")
		r.Header.Set("webhook-timestamp", "1711497600")
		r.Header.Set("webhook-signature", "v1,PtpwjHWQyO40cPrMkVhYCFC1ojm02ZZtRIqKa3BT/QQ=")
		return r
	}
	sent := time.Date(2024, 3, 27, 0, 0, 0, 0, time.UTC)
	receive(httptest.NewRecorder(), newRequest(body), sent.Add(2*time.Second))
	receive(httptest.NewRecorder(), newRequest(strings.Replace(body, "101", "102", 1)), sent.Add(2*time.Second))
	receive(httptest.NewRecorder(), newRequest(body), sent.Add(time.Hour)) // Replayed later.
	// Output:
	// verified: bkh_1 failed 101 nobody@example.com
	// refused: true false
	// refused: false true
}
