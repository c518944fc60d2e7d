package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bouncekit/bouncekit/webhook"
)

// idSet records int64 IDs (positive, roughly dense) in a bitmap: a bit
// per ID rather than a map entry, so the receiver adds little to the
// peak RSS the soak reports.
type idSet struct {
	bits   []uint64
	unique int64
	total  int64
}

// add records id and reports whether it is new.
func (s *idSet) add(id int64) bool {
	s.total++
	i := id / 64
	for int64(len(s.bits)) <= i {
		s.bits = append(s.bits, make([]uint64, max(len(s.bits), 1024))...)
	}
	bit := uint64(1) << (id % 64)
	if s.bits[i]&bit != 0 {
		return false
	}
	s.bits[i] |= bit
	s.unique++
	return true
}

// receiver is the loopback webhook endpoint: it counts requests and
// unique webhook-ids, per event on first receipt.
type receiver struct {
	srv    *http.Server
	ln     net.Listener
	notify chan struct{}
	served chan error // Serve's result.

	mu      sync.Mutex
	ids     idSet
	events  map[webhook.OutgoingEvent]int64
	invalid int64 // Requests without a usable webhook-id or payload.
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{ln: ln, notify: make(chan struct{}, 1), served: make(chan error, 1), events: map[webhook.OutgoingEvent]int64{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		r.served <- r.srv.Serve(ln)
	}()
	return r, nil
}

func (r *receiver) url(account string) string {
	return "http://" + r.ln.Addr().String() + "/hook/" + account
}

func (r *receiver) close(ctx context.Context) error {
	err := r.srv.Shutdown(ctx)
	if serr := <-r.served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var payload struct{ Event webhook.OutgoingEvent }
	id, idErr := strconv.ParseInt(strings.TrimPrefix(req.Header.Get("webhook-id"), "bkh_"), 10, 64)
	r.mu.Lock()
	if err != nil || idErr != nil || id <= 0 || json.Unmarshal(body, &payload) != nil {
		r.invalid++
	} else if r.ids.add(id) {
		r.events[payload.Event]++
	}
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

// counts returns the unique webhook-ids and the requests received.
func (r *receiver) counts() (unique, total int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids.unique, r.ids.total
}
