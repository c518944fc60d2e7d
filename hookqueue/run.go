package hookqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/mjl-/bstore"
)

// Buffer sizes of the worker: due hooks are loaded from the database in
// batches and kept in memory per URL until a request slot is free.
const (
	bufferTotal  = 1024 // Loaded, not yet started hooks, all URLs.
	bufferPerURL = 256  // Per URL, so a dead endpoint cannot fill the buffer.
)

// While results cannot be written (a full disk, a failing database), the
// same results are written again after commitRetryMin, doubling up to
// commitRetryMax, and no new request starts: a request whose result cannot
// be recorded would only be sent again.
const (
	commitRetryMin = time.Second
	commitRetryMax = time.Minute
)

// worker is the state of one Run. Only Run's goroutine touches it, except
// the channels.
type worker struct {
	q        *Queue
	ctx      context.Context
	log      *slog.Logger
	sender   *Sender
	perURL   int
	perHost  int
	maxTotal int

	busy         map[int64]struct{} // Buffered, in flight, or result not yet committed.
	ready        map[string][]Hook  // Due hooks per URL, oldest first.
	readyN       int
	full         map[string]bool   // URLs that had due hooks left out of the buffer.
	skipped      map[int64]string  // Due hooks left out because their URL's buffer was full, by ID.
	hosts        map[string]string // Host key of each URL with hooks ready or in flight.
	inflight     map[string]int    // By URL.
	inflightHost map[string]int    // By host key.
	inflightN    int

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

	commitFails   int       // Consecutive failed commits; while > 0 no request starts.
	commitRetryAt time.Time // When the failed results are written again.
}

// commitResult reports a written batch back to Run's goroutine.
type commitResult struct {
	batch  []attempt
	stored []storedHook // Parallel to batch.
	err    error
}

type storedHook struct {
	hook    Hook
	outcome RetireReason // Why it was retired, empty if it stays queued.
	absent  bool         // Canceled or superseded while in flight: nothing recorded.
}

// Run delivers due hooks until ctx is canceled. It then starts no new
// requests, waits up to ShutdownTimeout for requests in flight, abandons
// the rest (recording them as interrupted and leaving them due), commits
// all results and returns nil. It returns an error only without a DB
// (ErrNoDB) or if Run is already active. Database errors are logged and
// retried: results that cannot be written are kept and written again later,
// with a growing delay, and no new request starts meanwhile. Results still
// unwritten when Run returns leave their hooks due, so they are delivered
// again (at least once).
func (q *Queue) Run(ctx context.Context) error {
	if q.DB == nil {
		return ErrNoDB
	}
	q.mu.Lock()
	if q.running {
		q.mu.Unlock()
		return errors.New("hookqueue: Run already active")
	}
	q.running = true
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		q.running = false
		q.mu.Unlock()
	}()

	sender := q.newSender()
	defer sender.CloseIdleConnections()
	w := &worker{
		q:            q,
		ctx:          ctx,
		log:          q.log(),
		sender:       sender,
		perURL:       orDefault(q.Concurrency, DefaultConcurrency),
		perHost:      q.hostConcurrency(),
		maxTotal:     orDefault(q.MaxConcurrency, DefaultMaxConcurrency),
		busy:         map[int64]struct{}{},
		ready:        map[string][]Hook{},
		full:         map[string]bool{},
		skipped:      map[int64]string{},
		hosts:        map[string]string{},
		inflight:     map[string]int{},
		inflightHost: map[string]int{},
		needLoad:     true,
		commitC:      make(chan []attempt, 1),
		committedC:   make(chan commitResult, 1),
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
	if w.commitFails > 0 && w.commitRetryAt.Before(wake) {
		wake = w.commitRetryAt
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
			if h.Incoming != nil {
				// The request reads the payload with its HookBody when it
				// starts; until then the buffer holds only the hook.
				h.Incoming, h.incomingDeferred = nil, true
			}
			if len(w.ready[h.URL]) >= bufferPerURL {
				skipped[id] = h.URL
				w.full[h.URL] = true
				continue
			}
			if _, ok := w.hosts[h.URL]; !ok {
				w.hosts[h.URL] = hostKey(h.URL)
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
		w.log.Error("hookqueue: loading due hooks", slog.Any("err", err))
		w.nextDue = now.Add(time.Second)
	}
}

// dispatch starts requests for buffered hooks while slots are free.
func (w *worker) dispatch() {
	if w.commitFails > 0 {
		return
	}
	for w.inflightN < w.maxTotal && w.readyN > 0 {
		started := false
		for url, list := range w.ready {
			host := w.hosts[url]
			if w.inflight[url] >= w.perURL || w.inflightHost[host] >= w.perHost {
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
			w.inflightHost[host]++
			w.inflightN++
			started = true
			w.log.Debug("hookqueue: delivering", hookAttrs(h)...)
			go func() {
				w.doneC <- w.q.deliver(w.reqCtx, w.sender, h)
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
		w.forgetURL(url)
	}
	w.readyN = 0
	clear(w.full)
}

// forgetURL drops the host key of a URL with nothing ready or in flight.
func (w *worker) forgetURL(url string) {
	if w.inflight[url] == 0 && len(w.ready[url]) == 0 {
		delete(w.hosts, url)
	}
}

func (w *worker) finished(a attempt) {
	url := a.hook.URL
	host := w.hosts[url]
	w.inflight[url]--
	if w.inflight[url] == 0 {
		delete(w.inflight, url)
	}
	w.inflightHost[host]--
	if w.inflightHost[host] == 0 {
		delete(w.inflightHost, host)
	}
	w.inflightN--
	w.forgetURL(url)
	if a.verdict == VerdictNoConn {
		// Not an attempt: nothing to record, and the hook is still due.
		// The wait took a whole Timeout, so this cannot spin.
		w.log.Warn("hookqueue: no connection to the endpoint before the timeout, not counted as an attempt",
			append(warnAttrs(a.hook), slog.Duration("timeout", orDefault(w.q.Timeout, DefaultTimeout)))...)
		delete(w.busy, a.hook.ID)
		w.needLoad = true
		return
	}
	w.pending = append(w.pending, a)
	w.q.Metrics.observeAttempt(a.result, a.verdict == VerdictRefused)
}

// startCommit hands the completed results to the committer if it is idle.
// While it writes, new results collect: one transaction for many results.
func (w *worker) startCommit() {
	if w.committing || len(w.pending) == 0 {
		return
	}
	if w.commitFails > 0 && w.q.now().Before(w.commitRetryAt) {
		return
	}
	w.committing = true
	w.commitC <- w.pending
	w.pending = nil
}

func (w *worker) committed(r commitResult) {
	q := w.q
	w.committing = false
	if r.err != nil {
		// Nothing was recorded. Keep the results, so an endpoint that
		// acknowledged a hook is not asked again, and write them later.
		w.commitFails++
		delay := min(commitRetryMin<<min(w.commitFails-1, 16), commitRetryMax)
		w.commitRetryAt = q.now().Add(delay)
		w.pending = append(r.batch, w.pending...)
		w.log.Error("hookqueue: recording results",
			slog.Int("count", len(w.pending)), slog.Int("failures", w.commitFails), slog.Duration("retry", delay), slog.Any("err", r.err))
		return
	}
	w.commitFails = 0
	for _, a := range r.batch {
		delete(w.busy, a.hook.ID)
	}
	q.Metrics.observeBatch(len(r.batch))
	for i, s := range r.stored {
		a := r.batch[i]
		if s.absent {
			continue
		}
		switch {
		case s.outcome == RetiredDelivered:
			w.log.Debug("hookqueue: delivered", append(hookAttrs(s.hook), resultAttrs(a.result)...)...)
		case s.outcome != "":
			// The application misses this event: worth an operator's look.
			w.log.Warn("hookqueue: giving up", giveUpAttrs(s.hook, s.outcome, a.result)...)
		default:
			w.log.Debug("hookqueue: attempt failed, will retry", append(hookAttrs(s.hook), resultAttrs(a.result)...)...)
			w.setNextDue(s.hook.NextAttempt)
		}
		if q.OnResult != nil {
			q.OnResult(s.hook, s.outcome != "")
		}
	}
}

func (w *worker) setNextDue(t time.Time) {
	if w.nextDue.IsZero() || t.Before(w.nextDue) {
		w.nextDue = t
	}
}

// shutdown waits for requests in flight, up to ShutdownTimeout, and commits
// every result. Results the database still refuses after ShutdownTimeout
// are dropped: their hooks stay due.
func (w *worker) shutdown() {
	w.dropReady()
	deadline := time.NewTimer(orDefault(w.q.ShutdownTimeout, DefaultShutdownTimeout))
	defer deadline.Stop()
	deadlineC := deadline.C
	for w.inflightN > 0 || w.committing || len(w.pending) > 0 {
		if deadlineC == nil && w.commitFails > 0 && !w.committing && len(w.pending) > 0 {
			w.log.Error("hookqueue: shutdown with results not recorded, their hooks will be delivered again", slog.Int("count", len(w.pending)))
			w.pending = nil
			continue
		}
		w.startCommit()
		var retryC <-chan time.Time
		if w.commitFails > 0 && !w.committing && len(w.pending) > 0 {
			retryC = w.q.after(max(0, w.commitRetryAt.Sub(w.q.now())))
		}
		select {
		case a := <-w.doneC:
			w.finished(a)
		case r := <-w.committedC:
			w.committed(r)
		case <-retryC:
		case <-deadlineC:
			w.log.Info("hookqueue: shutdown timeout, abandoning requests", slog.Int("inflight", w.inflightN))
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
		w.log.Error("hookqueue: removing expired retired hooks", slog.Any("err", err))
	} else if n > 0 {
		w.log.Debug("hookqueue: removed expired retired hooks", slog.Int("count", n))
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
	// Enqueue assigns IDs in submission order: the lowest is the oldest.
	oldest, err := bstore.QueryDB[Hook](w.ctx, q.DB).SortAsc(fieldID).Limit(1).Get()
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
				return fmt.Errorf("hookqueue: getting hook: %w", err)
			}
			outcome, err := q.record(tx, &h, a, now)
			if err != nil {
				return err
			}
			r.stored[i] = storedHook{hook: h, outcome: outcome}
		}
		return nil
	})
	return r
}

// record applies one attempt's result to h: retire it (returning why), or
// schedule the next attempt.
func (q *Queue) record(tx *bstore.Tx, h *Hook, a attempt, now time.Time) (RetireReason, error) {
	h.Results = append(h.Results, a.result)
	var outcome RetireReason
	switch a.verdict {
	case VerdictAbandoned:
		// Shutdown: keep it due, this try does not count.
	case VerdictDelivered:
		outcome = RetiredDelivered
	case VerdictGone:
		outcome = RetiredGone
	case VerdictRefused:
		outcome = RetiredRefused
	default:
		schedule := q.schedule()
		if h.Attempts+1 > int64(len(schedule)) {
			outcome = RetiredFailed
		} else if a.result.RetryAfter > 0 {
			h.NextAttempt = now.Add(a.result.RetryAfter)
		} else {
			h.NextAttempt = now.Add(q.jitter(schedule[h.Attempts]))
		}
	}
	if a.verdict != VerdictAbandoned {
		h.Attempts++
	}
	if outcome == "" {
		if err := tx.Update(h); err != nil {
			return "", fmt.Errorf("hookqueue: updating hook: %w", err)
		}
		return "", nil
	}
	if err := tx.Delete(h); err != nil {
		return "", fmt.Errorf("hookqueue: removing hook: %w", err)
	}
	if err := deleteBody(tx, *h); err != nil {
		return "", err
	}
	keep := q.keepFor(*h)
	return outcome, insertRetired(tx, h.retire(outcome, now, keep), keep)
}

func hookAttrs(h Hook) []any {
	return []any{
		slog.Int64("hookid", h.ID),
		slog.String("account", h.Account),
		slog.String("url", h.URL),
		slog.String("event", logEvent(h)),
		slog.Int64("msgid", h.QueueMsgID),
		slog.Int64("attempts", h.Attempts),
	}
}

// logEvent names the hook's event in logs, "incoming" for a hook about an
// incoming message.
func logEvent(h Hook) string {
	if h.Incoming != nil {
		return "incoming"
	}
	return string(h.Event)
}

// warnAttrs describe a hook for logs above debug level: its URL only by
// host, as the path or query may hold a token.
func warnAttrs(h Hook) []any {
	return []any{
		slog.Int64("hookid", h.ID),
		slog.String("account", h.Account),
		slog.String("host", urlHost(h.URL)),
		slog.String("event", logEvent(h)),
		slog.Int64("msgid", h.QueueMsgID),
		slog.Int64("attempts", h.Attempts),
	}
}

func giveUpAttrs(h Hook, outcome RetireReason, r HookResult) []any {
	return append(warnAttrs(h),
		slog.String("outcome", string(outcome)),
		slog.Int64("code", r.Code),
		slog.String("error", r.Error))
}

// urlHost returns the host (and port, if given) of a URL.
func urlHost(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// hostKey names the connections a URL's requests share in http.Transport:
// scheme, host and port.
func hostKey(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL // Refused when requested.
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

func resultAttrs(r HookResult) []any {
	return []any{
		slog.Int64("code", r.Code),
		slog.String("error", r.Error),
		slog.Duration("duration", r.Duration),
	}
}
