/*
Package riverhook delivers webhooks from several sending nodes that share
one PostgreSQL database, on River (github.com/riverqueue/river), a
PostgreSQL job queue: leader election, retries, snooze, unique jobs and
LISTEN/NOTIFY come from River; the HTTP attempt is hookqueue.Sender, the
same code the bstore queue (hookqueue.Queue.Run) uses, so both send the
same requests: signed per Standard Webhooks, with the same timeouts, no
redirects, the SSRF guard, the capped stored response and Retry-After
parsing (RFC 9110 section 10.2.3). Jobs are checked at insert by
hookqueue.Prepare, so both queues accept the same hooks.

# Inserting

A webhook is a Job (River's job arguments). Queue.InsertTx inserts jobs in
the caller's pgx transaction, Queue.Insert in one of its own; a node that
only inserts opens a Queue and never calls Run. Each job carries its own
WebhookID, sent as webhook-id and Idempotency-Key: a node's local hook ID
is not unique among nodes, so the relay that moves a node's outbox to
PostgreSQL names it ("<node>-<outbox id>"). The WebhookID is the job's
River unique key in every state, so inserting a batch again after a crash
inserts nothing new: the relay is at least once, the insert idempotent,
for as long as finished jobs are kept (Config.KeepRetired, default 7 days,
as hookqueue keeps retired hooks).

# Delivering

Queue.Run starts River's client on this node: up to Config.Workers
deliveries in flight, fetched from the shared table; River locks a job
while a node runs it, so a hook is in flight on one node at a time. Per
attempt:

  - 2xx: the job completes.
  - 410 Gone, an invalid URL or a forbidden address: canceled.
  - 429 or 503 with Retry-After: snoozed for that long (at most
    Sender.MaxRetryAfter).
  - Anything else: retried Config.Schedule[n-1] after failed attempt n
    (default hookqueue.DefaultSchedule: 1m doubling to 16h, +-10% jitter),
    the worker's NextRetry; the job's MaxAttempts is len(Schedule)+1.
  - The last attempt failing gives up: canceled with outcome "failed".
    River does not count snoozes as attempts, the endpoint did, so the
    worker counts them itself (a snooze at shutdown counts too).
  - Shutdown while in flight (Config.ShutdownTimeout): snoozed 0, due
    again at once; the try is recorded as interrupted.

A node that dies with jobs running leaves them "running" until River's
leader rescues them, Config.RescueAfter after their attempt started, at
the leader's next rescue pass (every 30s in River, not configurable), and
retries them on the schedule. Open refuses a RescueAfter not longer than
an attempt may last (the Sender's Timeout plus the time to record it), so
a rescued job's earlier request is never still in flight. The endpoint may
get the same webhook-id again: delivery is at least once, and duplicates
come only from a node that died (or a result that could not be written).

A node starts at most Workers jobs per fetch and fetches at most once per
Config.FetchCooldown (River's, default 100ms): with endpoints that answer
at once, Workers/FetchCooldown bounds one node's rate. Beyond that, nodes
add throughput until the database or the CPUs are saturated; the README
has the figures.

# Hook history

Hook history comes from River's job table, not a table of ours: the state
of a hook (pending, delivered, given up, canceled) is the state of its
job, which River changes in the same statements that schedule, complete
or cancel it, so a second copy could only disagree with it. Pending is
River's available, scheduled, retryable, running and pending states;
retired is completed (RetiredDelivered), cancelled (RetiredGone,
RetiredRefused or RetiredFailed by the last attempt's outcome, else
RetiredCanceled by an operator) and discarded (RetiredFailed: River gave
up on a rescued job). River's retention periods (Config.KeepRetired) are
the history's: its cleaner removes finished jobs.

River keeps only an error string per failed attempt, so the attempt
records, the same hookqueue.HookResult as the bstore queue's (start,
duration, status code, error, first 512 bytes of the response,
Retry-After, interrupted), are ours: table bouncekit_hook_attempt, one row
per request with the node that made it, removed with their job (a foreign
key ON DELETE CASCADE). A record is written by the worker after the
request and before River records the job's new state; the two are not
one transaction: a node dying between them leaves a record of a try that
River then rescues and repeats, which is what the endpoint saw.

List and ListRetired page (package paging) by job ID through River's
JobList, with hookqueue.Filter; an account's page reads an index of ours
on River's table, (args->>'account', id) for this job kind. Listings never
return Authorization or Secrets. Unlike hookqueue's HookRetired, the job's
arguments keep them until River removes the job. Cancel and Retry use
River's JobCancel and JobRetry; Retry also sends a given-up or canceled
hook again, which River can since it keeps the job. RetryPending retries
pending hooks only, as hookqueue.Queue.Retry; webapi's HookRetry uses it
(package pgapi).

# Schema

Open applies River's migrations (rivermigrate) under a session advisory
lock, since one of them cannot run in a transaction and River's migrator
takes no lock, then ours with package migrate, in the pool's current
schema (search_path).

# Metrics

Config.Metrics counts attempts and request durations as the bstore queue
does (hookqueue.Metrics.ObserveAttempt). Run also sets the queue size and
oldest-pending-age gauges (hookqueue.Metrics.SetQueue), at start and then
every Config.StatsInterval on the injected clock (Config.After): the jobs
of this Queue's River queue in the pending states of the listings
(running included, as the bstore queue counts hooks in flight), and the
age of the lowest ID's Submitted. The queue is River's table, shared by
all nodes, so every node running with Metrics reports the figures of the
whole queue, not its own share: aggregate them with max, not sum. One statement reads them through River's fetch index (state,
queue, ...), so its cost grows with the pending jobs, not with the
finished ones River keeps.

# Layout

  - job.go: Job, the River job arguments, and their checks.
  - queue.go: Config, Queue, Open, Run, Insert, InsertTx.
  - worker.go: the River worker: one attempt, its outcome, its record.
  - history.go: List, ListRetired, Cancel, Retry, RetryPending.
  - stats.go: the queue gauges.
  - schema.go: River's migrations and ours.
*/
package riverhook
