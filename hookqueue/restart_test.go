package hookqueue

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mjl-/bstore"
)

// A Queue stopped mid-delivery and reopened on the same database delivers
// every hook at least once and records each attempt.
func TestRestart(t *testing.T) {
	var mu sync.Mutex
	okIDs := map[string]bool{} // webhook-id answered 200.
	answered := 0              // Responses fully sent.
	phase2 := make(chan struct{})
	blocked := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		id := r.Header.Get("webhook-id")
		var n int64
		fmt.Sscanf(id, "bkh_%d", &n)
		select {
		case <-phase2:
		default:
			switch n % 3 {
			case 0: // Hangs until the queue abandons it at shutdown.
				blocked <- struct{}{}
				<-r.Context().Done()
				return
			case 1:
				w.WriteHeader(500)
				mu.Lock()
				answered++
				mu.Unlock()
				return
			}
		}
		mu.Lock()
		okIDs[id] = true
		answered++
		mu.Unlock()
	}))
	defer srv.Close()

	const total = 30
	path := filepath.Join(t.TempDir(), "restart.db")
	clk := newFakeClock()
	results := make(chan result, 100)
	newQueue := func() (*Queue, *bstore.DB) {
		db, err := bstore.Open(context.Background(), path, nil, DBTypes()...)
		tcheck(t, err, "open")
		q := &Queue{
			DB: db, Now: clk.Now, After: clk.After, Rand: NoJitter(),
			AllowNetworks:   allowLoopback,
			Concurrency:     total, // All in flight at once, so hanging requests block nothing.
			ShutdownTimeout: 10 * time.Millisecond,
			OnResult:        func(h Hook, retired bool) { results <- result{h, retired} },
		}
		return q, db
	}

	// First run: a third succeed, a third fail with 500, a third hang.
	q, db := newQueue()
	hooks := make([]Hook, total)
	for i := range hooks {
		hooks[i] = testHook(srv.URL)
	}
	tcheck(t, db.Write(context.Background(), func(tx *bstore.Tx) error { return q.Enqueue(tx, hooks...) }), "enqueue")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	for range 2 * total / 3 {
		<-results
	}
	for range total / 3 {
		<-blocked
	}
	cancel()
	tcheck(t, <-done, "run 1")
	tcheck(t, db.Close(), "close")

	// Second run on the reopened database, everything answers 200.
	close(phase2)
	q, db = newQueue()
	defer db.Close()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- q.Run(ctx) }()
	clk.Advance(time.Minute) // The 500s are due again.
	q.Kick()
	for {
		n, err := bstore.QueryDB[Hook](context.Background(), db).Count()
		tcheck(t, err, "count")
		if n == 0 {
			break
		}
		select {
		case <-results:
		case <-time.After(20 * time.Second):
			t.Fatalf("%d hooks not delivered", n)
		}
	}
	cancel()
	tcheck(t, <-done, "run 2")

	retired, err := bstore.QueryDB[HookRetired](context.Background(), db).List()
	tcheck(t, err, "list retired")
	tcompare(t, len(retired), total, "retired")
	mu.Lock()
	defer mu.Unlock()
	results2 := 0
	for _, r := range retired {
		tcompare(t, r.RetireReason, RetiredDelivered, "outcome")
		if !okIDs[webhookID(r.ID)] {
			t.Fatalf("hook %d not received", r.ID)
		}
		var exp []string
		switch r.ID % 3 {
		case 0:
			exp = []string{"interrupted", "200"}
		case 1:
			exp = []string{"500", "200"}
		default:
			exp = []string{"200"}
		}
		if len(r.Results) != len(exp) {
			t.Fatalf("hook %d: %d results %v, expected %v", r.ID, len(r.Results), r.Results, exp)
		}
		for i, res := range r.Results {
			got := fmt.Sprint(res.Code)
			if res.Interrupted {
				got = "interrupted"
			}
			tcompare(t, got, exp[i], fmt.Sprintf("hook %d result %d", r.ID, i))
			if !res.Interrupted {
				results2++
			}
		}
	}
	tcompare(t, results2, answered, "recorded attempts vs responses sent")
}
