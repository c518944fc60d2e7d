package riverhook

import (
	"context"
	"log/slog"
	"time"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/internal/inject"
)

// statsQuery counts the pending jobs of a queue and reads when the oldest
// was submitted, in one statement. The filter on state and queue is the
// leading columns of River's fetch index (river_job_prioritized_fetching_index:
// state, queue, priority, scheduled_at, id), so it reads only pending rows
// of this queue, not the finished jobs River keeps for KeepRetired. The
// oldest is the lowest ID, as in hookqueue: IDs are assigned at insert.
const statsQuery = `SELECT p.n, (SELECT (j.args->>'submitted')::timestamptz FROM river_job j WHERE j.id = p.oldest)
FROM (SELECT count(*) AS n, min(id) AS oldest FROM river_job
	WHERE state = ANY($1::river_job_state[]) AND queue = $2 AND kind = $3) p`

// statsLoop refreshes the gauges at once and then every StatsInterval
// until ctx is canceled. Without Metrics it returns at once.
func (q *Queue) statsLoop(ctx context.Context) {
	if q.cfg.Metrics == nil {
		return
	}
	interval := q.cfg.StatsInterval
	if interval <= 0 {
		interval = hookqueue.DefaultStatsInterval
	}
	for {
		q.stats(ctx)
		select {
		case <-ctx.Done():
			return
		case <-inject.After(q.cfg.After, interval):
		}
	}
}

// stats sets the queue size and oldest-age gauges from River's table: the
// jobs of this Queue's River queue in the states List shows as pending
// (running ones too, as the bstore queue counts hooks in flight), of all
// nodes, since the table is shared. A failed query leaves the gauges as
// they were.
func (q *Queue) stats(ctx context.Context) {
	var n int
	var oldest *time.Time
	err := q.pool.QueryRow(ctx, statsQuery, pendingStateNames(), q.queue(), Kind).Scan(&n, &oldest)
	if err != nil {
		if ctx.Err() == nil {
			q.log.Warn("riverhook: reading the queue size", slog.Any("err", err))
		}
		return
	}
	var age time.Duration
	if oldest != nil {
		age = max(0, q.now().Sub(*oldest))
	}
	q.cfg.Metrics.SetQueue(n, age)
}

// pendingStateNames returns pendingStates as the query's parameter.
func pendingStateNames() []string {
	l := make([]string, len(pendingStates))
	for i, s := range pendingStates {
		l[i] = string(s)
	}
	return l
}
