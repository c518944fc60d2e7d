package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mjl-/bstore"
)

// Buffer sizes of the worker: due hooks are loaded from the database in
// batches and kept in memory per URL until a request slot is free.
const (
	bufferTotal  = 1024 // Loaded, not yet started hooks, all URLs.
	bufferPerURL = 256  // Per URL, so a dead endpoint cannot fill the buffer.
)

// worker is the state of one Run. Only Run's goroutine touches it, except
// the channels.
type worker struct {
	q        *Queue
	ctx      context.Context
	log      *slog.Logger
	client   *http.Client
	perURL   int
	maxTotal int

	busy      map[int64]struct{} // Buffered, in flight, or result not yet committed.
	ready     map[string][]Hook  // Due hooks per URL, oldest first.
	readyN    int
	full      map[string]bool  // URLs that had due hooks left out of the buffer.
	skipped   map[int64]string // Due hooks left out because their URL's buffer was full, by ID.
	inflight  map[string]int
	inflightN int

	needLoad    bool
	nextDue     time.Time // Earliest future NextAttempt known, zero if none.
	nextCleanup time.Time
	nextStats   time.Time
	timerAt     time.Time
	timerC      <-chan time.Time

	reqCtx     context.Context
	cancelReqs context.CancelFunc
	doneC      chan attempt
	pending    []attempt
	commitC    chan []attempt
	committedC chan commitResult
	committing bool
}

// commitResult reports a written batch back to Run's goroutine.
type commitResult struct {
	batch  []attempt
	stored []storedHook // Parallel to batch.
	err    error
}

type storedHook struct {
	hook    Hook
	retired bool
	absent  bool // Canceled or superseded while in flight: nothing recorded.
}

// Run delivers due hooks until ctx is canceled. It then starts no new
// requests, waits up to ShutdownTimeout for requests in flight, abandons
// the rest (recording them as interrupted and leaving them due), commits
// all results and returns nil. It returns an error only for an invalid
// configuration or if Run is already active. Database errors are logged and
// retried; a result that could not be written leaves its hook due, so it is
// delivered again (at least once).
func (q *Queue) Run(ctx context.Context) error {
	if q.DB == nil {
		return errors.New("webhook: Queue.DB is nil")
	}
	q.mu.Lock()
	if q.running {
		q.mu.Unlock()
		return errors.New("webhook: Run already active")
	}
	q.running = true
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		q.running = false
		q.mu.Unlock()
	}()

	client, closeIdle := q.newClient()
	defer closeIdle()
	w := &worker{
		q:          q,
		ctx:        ctx,
		log:        q.log(),
		client:     client,
		perURL:     orDefault(q.Concurrency, DefaultConcurrency),
		maxTotal:   orDefault(q.MaxConcurrency, DefaultMaxConcurrency),
		busy:       map[int64]struct{}{},
		ready:      map[string][]Hook{},
		full:       map[string]bool{},
		skipped:    map[int64]string{},
		inflight:   map[string]int{},
		needLoad:   true,
		commitC:    make(chan []attempt, 1),
		committedC: make(chan commitResult, 1),
	}
	w.doneC = make(chan attempt, w.maxTotal)
	// Requests outlive ctx by up to ShutdownTimeout.
	w.reqCtx, w.cancelReqs = context.WithCancel(context.WithoutCancel(ctx))
	defer w.cancelReqs()

	committerDone := make(chan struct{})
	go func() {
		defer close(committerDone)
		for batch := range w.commitC {
			w.committedC <- q.commit(batch)
		}
	}()

	w.cleanup()
	w.stats()
	for ctx.Err() == nil {
		w.step()
	}
	w.shutdown()
	close(w.commitC)
	<-committerDone
	return nil
}

// step does available work, then waits for one event.
func (w *worker) step() {
	q := w.q
	if q.takeFlush() {
		w.dropReady()
		w.needLoad = true
	}
	if w.needLoad && w.readyN <= bufferTotal/2 {
		w.load()
	}
	w.dispatch()
	w.startCommit()
	now := q.now()
	if q.Metrics != nil && !now.Before(w.nextStats) {
		w.stats()
	}

	wake := w.nextCleanup
	if !w.nextDue.IsZero() && w.nextDue.Before(wake) {
		wake = w.nextDue
	}
	if w.timerC == nil || !wake.Equal(w.timerAt) {
		w.timerAt = wake
		w.timerC = q.after(max(0, wake.Sub(now)))
	}

	select {
	case <-w.ctx.Done():
	case <-q.kickChan():
		w.needLoad = true
	case a := <-w.doneC:
		w.finished(a)
	case r := <-w.committedC:
		w.committed(r)
	case <-w.timerC:
		w.timerC = nil
		w.needLoad = true
		if !q.now().Before(w.nextCleanup) {
			w.cleanup()
		}
	}
}

// load fills the buffer with due hooks, oldest first, and learns when the
// next hook is due. It walks the NextAttempt index by ID only, so hooks
// already buffered or in flight cost an index step, not a record decode.
func (w *worker) load() {
	q := w.q
	now := q.now()
	w.needLoad = false
	w.nextDue = time.Time{}
	room := bufferTotal - w.readyN
	clear(w.full)
	skipped := map[int64]string{}
	err := q.DB.Read(w.ctx, func(tx *bstore.Tx) error {
		due := bstore.QueryTx[Hook](tx).FilterLessEqual(fieldNextAttempt, now).SortAsc(fieldNextAttempt)
		defer due.Close()
		for {
			var id int64
			if err := due.NextID(&id); errors.Is(err, bstore.ErrAbsent) {
				break
			} else if err != nil {
				return err
			}
			if _, ok := w.busy[id]; ok {
				continue
			}
			if room == 0 {
				w.needLoad = true // More are due; load again when the buffer drains.
				for id, url := range w.skipped {
					skipped[id] = url // Not seen this time; keep for the next load.
				}
				return nil
			}
			// Hooks for a URL with a full buffer are remembered, so a
			// burst for one slow endpoint is decoded once, not per load.
			if url, ok := w.skipped[id]; ok && len(w.ready[url]) >= bufferPerURL {
				skipped[id] = url
				w.full[url] = true
				continue
			}
			h := Hook{ID: id}
			if err := tx.Get(&h); err != nil {
				return err
			}
			if len(w.ready[h.URL]) >= bufferPerURL {
				skipped[id] = h.URL
				w.full[h.URL] = true
				continue
			}
			w.ready[h.URL] = append(w.ready[h.URL], h)
			w.busy[h.ID] = struct{}{}
			w.readyN++
			room--
		}
		next, err := bstore.QueryTx[Hook](tx).FilterGreater(fieldNextAttempt, now).SortAsc(fieldNextAttempt).Limit(1).Get()
		if err == nil {
			w.nextDue = next.NextAttempt
		} else if !errors.Is(err, bstore.ErrAbsent) {
			return err
		}
		return nil
	})
	w.skipped = skipped
	if err != nil && w.ctx.Err() == nil {
		w.log.Error("webhook: loading due hooks", slog.Any("err", err))
		w.nextDue = now.Add(time.Second)
	}
}

// dispatch starts requests for buffered hooks while slots are free.
func (w *worker) dispatch() {
	for w.inflightN < w.maxTotal && w.readyN > 0 {
		started := false
		for url, list := range w.ready {
			if w.inflight[url] >= w.perURL {
				continue
			}
			h := list[0]
			if len(list) == 1 {
				delete(w.ready, url)
			} else {
				w.ready[url] = list[1:]
			}
			w.readyN--
			if w.full[url] && len(list)-1 < bufferPerURL/2 {
				delete(w.full, url)
				w.needLoad = true
			}
			w.inflight[url]++
			w.inflightN++
			started = true
			w.log.Debug("webhook: delivering", hookAttrs(h)...)
			go func() {
				w.doneC <- w.q.deliver(w.reqCtx, w.client, h)
			}()
			if w.inflightN >= w.maxTotal {
				break
			}
		}
		if !started {
			return
		}
	}
}

// dropReady forgets buffered hooks that have not started.
func (w *worker) dropReady() {
	for url, list := range w.ready {
		for _, h := range list {
			delete(w.busy, h.ID)
		}
		delete(w.ready, url)
	}
	w.readyN = 0
	clear(w.full)
}

func (w *worker) finished(a attempt) {
	url := a.hook.URL
	w.inflight[url]--
	if w.inflight[url] == 0 {
		delete(w.inflight, url)
	}
	w.inflightN--
	w.pending = append(w.pending, a)
	w.q.Metrics.observeAttempt(a.result, a.verdict == verdictRefused)
}

// startCommit hands the completed results to the committer if it is idle.
// While it writes, new results collect: one transaction for many results.
func (w *worker) startCommit() {
	if w.committing || len(w.pending) == 0 {
		return
	}
	w.committing = true
	w.commitC <- w.pending
	w.pending = nil
}

func (w *worker) committed(r commitResult) {
	q := w.q
	w.committing = false
	for _, a := range r.batch {
		delete(w.busy, a.hook.ID)
	}
	if r.err != nil {
		// Nothing was recorded; the hooks are still due. Wait a moment
		// instead of hammering the endpoints while the database fails.
		w.log.Error("webhook: recording results", slog.Int("count", len(r.batch)), slog.Any("err", r.err))
		w.setNextDue(q.now().Add(time.Second))
		return
	}
	q.Metrics.observeBatch(len(r.batch))
	for i, s := range r.stored {
		a := r.batch[i]
		if s.absent {
			continue
		}
		attrs := append(hookAttrs(s.hook), resultAttrs(a.result)...)
		switch {
		case s.retired && a.verdict == verdictDelivered:
			w.log.Debug("webhook: delivered", attrs...)
		case s.retired:
			w.log.Info("webhook: giving up", attrs...)
		default:
			w.log.Debug("webhook: attempt failed, will retry", attrs...)
			w.setNextDue(s.hook.NextAttempt)
		}
		if q.OnResult != nil {
			q.OnResult(s.hook, s.retired)
		}
	}
}

func (w *worker) setNextDue(t time.Time) {
	if w.nextDue.IsZero() || t.Before(w.nextDue) {
		w.nextDue = t
	}
}

// shutdown waits for requests in flight, up to ShutdownTimeout, and commits
// every result.
func (w *worker) shutdown() {
	w.dropReady()
	deadline := time.NewTimer(orDefault(w.q.ShutdownTimeout, DefaultShutdownTimeout))
	defer deadline.Stop()
	deadlineC := deadline.C
	for w.inflightN > 0 || w.committing || len(w.pending) > 0 {
		w.startCommit()
		select {
		case a := <-w.doneC:
			w.finished(a)
		case r := <-w.committedC:
			w.committed(r)
		case <-deadlineC:
			w.log.Info("webhook: shutdown timeout, abandoning requests", slog.Int("inflight", w.inflightN))
			w.cancelReqs()
			deadlineC = nil
		}
	}
}

func (w *worker) cleanup() {
	q := w.q
	w.nextCleanup = q.now().Add(orDefault(q.CleanupInterval, DefaultCleanupInterval))
	n, err := q.Cleanup(w.ctx)
	if err != nil && w.ctx.Err() == nil {
		w.log.Error("webhook: removing expired retired hooks", slog.Any("err", err))
	} else if n > 0 {
		w.log.Debug("webhook: removed expired retired hooks", slog.Int("count", n))
	}
}

// stats refreshes the queue size and oldest age gauges.
func (w *worker) stats() {
	q := w.q
	if q.Metrics == nil {
		return
	}
	now := q.now()
	w.nextStats = now.Add(orDefault(q.StatsInterval, DefaultStatsInterval))
	n, err := bstore.QueryDB[Hook](w.ctx, q.DB).Count()
	if err != nil {
		return
	}
	var age time.Duration
	oldest, err := bstore.QueryDB[Hook](w.ctx, q.DB).SortAsc(fieldSubmitted).Limit(1).Get()
	if err == nil {
		age = max(0, now.Sub(oldest.Submitted))
	}
	q.Metrics.setQueue(n, age)
}

// commit records a batch of attempts in one transaction.
func (q *Queue) commit(batch []attempt) commitResult {
	r := commitResult{batch: batch, stored: make([]storedHook, len(batch))}
	now := q.now()
	r.err = q.DB.Write(context.Background(), func(tx *bstore.Tx) error {
		for i, a := range batch {
			h := Hook{ID: a.hook.ID}
			if err := tx.Get(&h); errors.Is(err, bstore.ErrAbsent) {
				r.stored[i] = storedHook{absent: true}
				continue
			} else if err != nil {
				return fmt.Errorf("webhook: getting hook: %w", err)
			}
			retired, err := q.record(tx, &h, a, now)
			if err != nil {
				return err
			}
			r.stored[i] = storedHook{hook: h, retired: retired}
		}
		return nil
	})
	return r
}

// record applies one attempt's result to h: retire it, or schedule the
// next attempt.
func (q *Queue) record(tx *bstore.Tx, h *Hook, a attempt, now time.Time) (retired bool, err error) {
	h.Results = append(h.Results, a.result)
	var outcome Outcome
	switch a.verdict {
	case verdictAbandoned:
		// Shutdown: keep it due, this try does not count.
	case verdictDelivered:
		outcome = OutcomeDelivered
	case verdictGone:
		outcome = OutcomeGone
	case verdictRefused:
		outcome = OutcomeRefused
	default:
		schedule := q.schedule()
		if h.Attempts+1 > int64(len(schedule)) {
			outcome = OutcomeFailed
		} else if a.result.RetryAfter > 0 {
			h.NextAttempt = now.Add(a.result.RetryAfter)
		} else {
			h.NextAttempt = now.Add(q.jitter(schedule[h.Attempts]))
		}
	}
	if a.verdict != verdictAbandoned {
		h.Attempts++
	}
	if outcome == "" {
		if err := tx.Update(h); err != nil {
			return false, fmt.Errorf("webhook: updating hook: %w", err)
		}
		return false, nil
	}
	if err := tx.Delete(h); err != nil {
		return false, fmt.Errorf("webhook: removing hook: %w", err)
	}
	keep := q.keepFor(*h)
	return true, insertRetired(tx, h.retire(outcome, now, keep), keep)
}

func hookAttrs(h Hook) []any {
	return []any{
		slog.Int64("hookid", h.ID),
		slog.String("account", h.Account),
		slog.String("url", h.URL),
		slog.String("event", string(h.Event)),
		slog.Int64("msgid", h.QueueMsgID),
		slog.Int64("attempts", h.Attempts),
	}
}

func resultAttrs(r HookResult) []any {
	return []any{
		slog.Int64("code", r.Code),
		slog.String("error", r.Error),
		slog.Duration("duration", r.Duration),
	}
}
