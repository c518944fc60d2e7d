package webapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webapi"
)

// FuzzServe calls the Server with arbitrary method names, content types
// and bodies, as an operator: every answer is 200 with JSON (or CSV), or
// 400 with an Error object, or 405; nothing panics.
func FuzzServe(f *testing.F) {
	seeds := []struct{ method, contentType, body string }{
		{"SuppressionAdd", formType, form(`{"EmailAddress": "a@example.com", "Manual": true, "Account": "alice"}`)},
		{"SuppressionList", formType, form(`{}`)},
		{"SuppressionPresent", "application/json", `{"EmailAddress": "a@example.com", "Account": "alice"}`},
		{"SuppressionImport", "application/json", `{"CSV": "account,address\nalice,b@example.com\n"}`},
		{"SuppressionExport", "application/json", `{"Search": "example"}`},
		{"QueueList", "application/json", `{"RecipientDomain": "example.com", "Limit": 2}`},
		{"QueueHold", "application/json", `{"All": true}`},
		{"QueueReschedule", "application/json", `{"IDs": [1], "NextAttempt": "2026-11-26T00:00:00Z"}`},
		{"QueueFail", "application/json", `{"IDs": [1, 2], "Reason": "x"}`},
		{"HookList", "application/json", `{"Event": "canceled"}`},
		{"HookCancel", "application/json", `{"QueueMsgID": 3}`},
		{"RetiredGet", "application/json", `{"ID": 3}`},
		{"HoldRuleAdd", "application/json", `{"RecipientDomain": "example.org"}`},
		{"HoldRuleRemove", "application/json", `{"ID": 1}`},
		{"Nope", formType, "request=%7B"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.contentType, []byte(s.body))
	}

	db, err := bstore.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), &bstore.Options{Timeout: time.Second}, queue.DBTypes()...)
	tcheck(f, err, "open db")
	defer db.Close()
	h := &queue.Handler{DB: db}
	err = db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := h.Add(tx, &queue.Msg{SenderAccount: "alice", RecipientAddress: "x@example.com"}, &queue.Msg{SenderAccount: "alice", RecipientAddress: "y@example.org"})
		return err
	})
	tcheck(f, err, "add")
	srv := &webapi.Server{
		DB:      db,
		Handler: h,
		Auth:    webapi.BasicAuth(lookup),
		Now:     func() time.Time { return t0 },
	}

	f.Fuzz(func(t *testing.T, method, contentType string, body []byte) {
		if len(body) > 4096 {
			return
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.URL.Path = "/" + method
		req.Header.Set("Content-Type", contentType)
		req.SetBasicAuth("ops", "opspw")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			if ct := rec.Header().Get("Content-Type"); strings.HasPrefix(ct, "application/json") && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("200 with invalid JSON: %q", rec.Body.String())
			}
		case http.StatusBadRequest:
			var e webapi.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("400 without an error object: %q", rec.Body.String())
			}
			if e.Code == webapi.CodeServer {
				t.Fatalf("server error for a client's request: %s", e.Message)
			}
		default:
			t.Fatalf("status %d: %q", rec.Code, rec.Body.String())
		}
	})
}
