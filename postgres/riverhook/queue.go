package riverhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/internal/inject"
)

// Defaults for zero Config fields.
const (
	DefaultWorkers         = hookqueue.DefaultMaxConcurrency
	DefaultRescueAfter     = 5 * time.Minute
	DefaultShutdownTimeout = hookqueue.DefaultShutdownTimeout
	DefaultKeepRetired     = hookqueue.DefaultKeepRetired
)

// riverFetchCooldown is River's default FetchCooldown, which must not be
// longer than the PollInterval.
const riverFetchCooldown = 100 * time.Millisecond

// recordSlack is what a job may run beyond the request Timeout: recording
// the attempt. River cancels a job after Timeout plus this.
const recordSlack = 3 * time.Second

// Config configures a Queue. The zero value of every field is its
// documented default.
type Config struct {
	// Sender makes the requests, the same as hookqueue.Queue.Run's.
	// Nil: a Sender with the SSRF guard on (no AllowNetworks), the
	// default timeouts, and as many connections per host as Workers.
	Sender *hookqueue.Sender

	// Schedule is the delay before retry n after failed attempt n, as
	// hookqueue.Queue.Schedule: River's retry policy for these jobs, with
	// +-10% jitter, and len(Schedule)+1 is their MaxAttempts. Nil:
	// hookqueue.DefaultSchedule().
	Schedule []time.Duration

	Queue   string // River queue name. Default DefaultQueue.
	Workers int    // Deliveries in flight on this node. Default DefaultWorkers.

	// Node names this node in attempt records. Default: River's client
	// ID (host name and start time).
	Node string

	// RescueAfter is how long a job may be running before River's leader
	// takes it for lost (its node died) and retries it on the schedule.
	// It must be longer than the Sender's Timeout plus the time to record
	// an attempt, or a request still in flight would be sent again by a
	// second node; Open refuses shorter. Default DefaultRescueAfter.
	RescueAfter time.Duration

	// PollInterval is how often this node looks for due jobs without
	// being told (River's FetchPollInterval; inserts notify at once with
	// LISTEN/NOTIFY). Zero: River's default.
	PollInterval time.Duration

	// FetchCooldown is the shortest time between two fetches of due jobs
	// by this node (River's FetchCooldown). A node starts at most Workers
	// jobs per fetch, so Workers/FetchCooldown bounds its rate when the
	// endpoints answer fast. Zero: River's default, or PollInterval if
	// that is shorter.
	FetchCooldown time.Duration

	// KeepRetired is how long delivered, given-up and canceled jobs stay
	// in River's table (its retention periods), and with them their
	// attempt records and their unique key. Default DefaultKeepRetired.
	KeepRetired time.Duration

	ShutdownTimeout time.Duration // How long Run waits for deliveries in flight. Default DefaultShutdownTimeout.

	// Rand is the source of retry jitter, as hookqueue.Queue.Rand. Nil:
	// crypto/rand.
	Rand io.Reader

	// Now is the clock for retry times, Submitted and the oldest-age
	// gauge. Nil: time.Now.
	Now func() time.Time

	// After is the timer of the gauge refresh, on the clock of Now, as
	// hookqueue.Queue.After. Nil: time.After.
	After func(d time.Duration) <-chan time.Time

	// StatsInterval is how often Run refreshes the queue gauges of
	// Metrics. Default hookqueue.DefaultStatsInterval.
	StatsInterval time.Duration

	Logger  *slog.Logger       // Nil: discard.
	Metrics *hookqueue.Metrics // Nil: no metrics.
}

// Queue is webhook delivery on River for several nodes sharing one
// PostgreSQL database. Every node may Insert; nodes that deliver call Run.
// See the package documentation.
type Queue struct {
	pool     *pgxpool.Pool
	cfg      Config
	sender   *hookqueue.Sender
	schedule []time.Duration
	client   *river.Client[pgx.Tx]
	log      *slog.Logger
	node     string
}

// Open migrates the schema (River's tables and ours, see the package doc)
// in the pool's current schema and returns a Queue that inserts and, once
// Run is called, delivers.
func Open(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Queue, error) {
	q := &Queue{pool: pool, cfg: cfg, log: inject.Logger(cfg.Logger)}
	q.schedule = cfg.Schedule
	if q.schedule == nil {
		q.schedule = hookqueue.DefaultSchedule()
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	q.sender = cfg.Sender
	if q.sender == nil {
		q.sender = &hookqueue.Sender{Transport: hookqueue.NewTransport(nil, workers)}
	}
	rescue := cfg.RescueAfter
	if rescue <= 0 {
		rescue = DefaultRescueAfter
	}
	if rescue <= q.jobTimeout() {
		return nil, fmt.Errorf("riverhook: RescueAfter %s is not longer than a job's timeout %s: a request in flight would be sent again", rescue, q.jobTimeout())
	}
	keep := cfg.KeepRetired
	if keep <= 0 {
		keep = DefaultKeepRetired
	}
	if err := migrateSchema(ctx, pool); err != nil {
		return nil, err
	}

	workerSet := river.NewWorkers()
	if err := river.AddWorkerSafely(workerSet, &worker{q: q}); err != nil {
		return nil, fmt.Errorf("riverhook: adding the worker: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:                      map[string]river.QueueConfig{q.queue(): {MaxWorkers: workers}},
		Workers:                     workerSet,
		JobTimeout:                  q.jobTimeout(),
		RescueStuckJobsAfter:        rescue,
		FetchPollInterval:           cfg.PollInterval,
		FetchCooldown:               q.fetchCooldown(),
		CompletedJobRetentionPeriod: keep,
		CancelledJobRetentionPeriod: keep,
		DiscardedJobRetentionPeriod: keep,
		MaxAttempts:                 q.maxAttempts(),
		Logger:                      q.log,
	})
	if err != nil {
		return nil, fmt.Errorf("riverhook: creating the river client: %w", err)
	}
	q.client = client
	q.node = cfg.Node
	if q.node == "" {
		q.node = client.ID()
	}
	return q, nil
}

func (q *Queue) queue() string {
	if q.cfg.Queue != "" {
		return q.cfg.Queue
	}
	return DefaultQueue
}

func (q *Queue) fetchCooldown() time.Duration {
	c := q.cfg.FetchCooldown
	if c <= 0 {
		c = riverFetchCooldown
	}
	if p := q.cfg.PollInterval; p > 0 && p < c {
		c = p
	}
	return c
}

func (q *Queue) now() time.Time { return inject.Now(q.cfg.Now) }

func (q *Queue) maxAttempts() int { return len(q.schedule) + 1 }

// jobTimeout bounds one attempt: the request and recording its result.
func (q *Queue) jobTimeout() time.Duration {
	t := q.sender.Timeout
	if t <= 0 {
		t = hookqueue.DefaultTimeout
	}
	return t + recordSlack
}

// Client returns the River client, for what this package does not wrap
// (subscriptions, queue pausing). Do not Start or Stop it: Run does.
func (q *Queue) Client() *river.Client[pgx.Tx] { return q.client }

// Run delivers webhooks on this node until ctx is canceled, then stops
// fetching, waits up to ShutdownTimeout for deliveries in flight, cancels
// the rest (they are due again at once, not counted as attempts) and
// returns. Other nodes keep delivering meanwhile. With Metrics set, Run
// also refreshes the queue gauges every StatsInterval.
func (q *Queue) Run(ctx context.Context) error {
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("riverhook: starting: %w", err)
	}
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		q.statsLoop(ctx)
	}()
	<-ctx.Done()
	<-statsDone
	timeout := q.cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := q.client.Stop(stopCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		q.log.Info("riverhook: shutdown timeout, canceling deliveries in flight")
		err = q.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	q.sender.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("riverhook: stopping: %w", err)
	}
	return nil
}

// Insert inserts jobs in a transaction of its own; see InsertTx.
func (q *Queue) Insert(ctx context.Context, jobs ...Job) (inserted int, err error) {
	tx, err := q.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("riverhook: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(ctx) // The error that matters is err.
		}
	}()
	n, err := q.InsertTx(ctx, tx, jobs...)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("riverhook: commit: %w", err)
	}
	return n, nil
}

// InsertTx inserts jobs in the caller's transaction tx, for delivery once
// tx commits, and returns how many were new. A job whose WebhookID is
// already in the table, in any state, is skipped: inserting the same jobs
// again (a relay that repeats a batch after a crash) inserts nothing, as
// long as the earlier jobs are kept (Config.KeepRetired). Jobs are checked
// as hookqueue.Queue.Enqueue checks hooks (account, URL, event, secrets,
// authorization; plus a WebhookID of visible ASCII, at most 255 bytes); a
// bad job fails the call with ErrBadJob before anything is inserted.
// Insert fills Event, QueueMsgID, Payload.WebhookQueued and Submitted
// when zero.
func (q *Queue) InsertTx(ctx context.Context, tx pgx.Tx, jobs ...Job) (int, error) {
	if len(jobs) == 0 {
		return 0, nil
	}
	now := q.now()
	params := make([]river.InsertManyParams, 0, len(jobs))
	seen := make(map[string]struct{}, len(jobs))
	for i, j := range jobs {
		if err := j.prepare(now); err != nil {
			return 0, fmt.Errorf("%w (job %d)", err, i)
		}
		// PostgreSQL cannot upsert one key twice in a statement.
		if _, ok := seen[j.WebhookID]; ok {
			continue
		}
		seen[j.WebhookID] = struct{}{}
		params = append(params, river.InsertManyParams{Args: j, InsertOpts: q.insertOpts()})
	}
	res, err := q.client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return 0, fmt.Errorf("riverhook: inserting jobs: %w", err)
	}
	n := 0
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			n++
		}
	}
	return n, nil
}

func (q *Queue) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       q.queue(),
		MaxAttempts: q.maxAttempts(),
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: allStates},
	}
}
