package webhook_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/webhook"
)

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
