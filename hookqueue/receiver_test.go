package hookqueue

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Receiver is a webhook endpoint on 127.0.0.1 for the tests: it reads each
// request's body, records its webhook-id, and answers with a fixed status.
// It is exported for the external tests (package hookqueue_test) in this
// directory; it is not part of the package.
type Receiver struct {
	URL string

	srv *httptest.Server
	mu  sync.Mutex
	ids []string // webhook-id of each request, in arrival order.
}

// NewReceiver starts a Receiver answering status (0: 200), closed when the
// test ends.
func NewReceiver(t testing.TB, status int) *Receiver {
	r := &Receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.ids = append(r.ids, req.Header.Get("webhook-id"))
		r.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
		}
	}))
	r.URL = r.srv.URL
	t.Cleanup(r.srv.Close)
	return r
}

// Total returns how many requests arrived.
func (r *Receiver) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids)
}

// Count returns how many requests arrived for the hook with ID id.
func (r *Receiver) Count(id int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.ids {
		if s == webhookID(id) {
			n++
		}
	}
	return n
}

// IDs returns the webhook-id of each request, in arrival order.
func (r *Receiver) IDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// Transport returns a transport that reaches the Receiver.
func (r *Receiver) Transport() http.RoundTripper {
	return r.srv.Client().Transport
}
