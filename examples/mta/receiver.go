package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/bouncekit/bouncekit/webhook"
)

// receivedHook is one webhook the demo's application received and verified.
type receivedHook struct {
	ID      string // webhook-id header: stable across retries.
	Event   webhook.OutgoingEvent
	Payload webhook.Outgoing
}

// receiver is the demo's "application": an HTTP server on 127.0.0.1 that
// verifies the Standard Webhooks signature of every request and fails the
// very first request with 503, to show a retry.
type receiver struct {
	srv    *http.Server
	url    string
	secret []byte

	mu       sync.Mutex
	requests int
	hooks    []receivedHook
	rejected []string // Why requests were refused (bad signatures).
}

func startReceiver(secret string) (*receiver, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + l.Addr().String() + "/hooks", secret: key}
	r.srv = &http.Server{Handler: r}
	go r.srv.Serve(l)
	return r, nil
}

func (r *receiver) Close() error { return r.srv.Close() }

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "reading body", http.StatusBadRequest)
		return
	}
	id := req.Header.Get("webhook-id")
	if err := r.verify(id, req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body); err != nil {
		r.mu.Lock()
		r.rejected = append(r.rejected, err.Error())
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var out webhook.Outgoing
	if err := json.Unmarshal(body, &out); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if r.requests == 1 {
		// The first request fails, as an application being deployed would.
		w.Header().Set("Retry-After", "60")
		http.Error(w, "deploying, try again", http.StatusServiceUnavailable)
		return
	}
	r.hooks = append(r.hooks, receivedHook{id, out.Event, out})
	w.WriteHeader(http.StatusNoContent)
}

// verify checks a Standard Webhooks signature: base64 HMAC-SHA256 over
// "id.timestamp.body", one of the space-separated "v1,..." values.
func (r *receiver) verify(id, ts, sigs string, body []byte) error {
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	mac := hmac.New(sha256.New, r.secret)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(sigs) {
		if v, ok := strings.CutPrefix(s, "v1,"); ok && hmac.Equal([]byte(v), []byte(want)) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

func (r *receiver) received() ([]receivedHook, int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedHook(nil), r.hooks...), r.requests, append([]string(nil), r.rejected...)
}
