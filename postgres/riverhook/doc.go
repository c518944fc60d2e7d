/*
Package riverhook delivers webhooks from several sending nodes that share
one PostgreSQL database, on River (github.com/riverqueue/river), a
PostgreSQL job queue: leader election, retries, snooze, unique jobs and
LISTEN/NOTIFY come from River; the HTTP attempt is hookqueue.Sender, the
same code the bstore queue (hookqueue.Queue.Run) uses, so both send the
same signed requests (Standard Webhooks), with the same timeouts, SSRF
guard, capped stored response and Retry-After parsing (RFC 9110 section
10.2.3).

# Inserting

A webhook is a Job (River's job arguments). Queue.InsertTx inserts jobs in
the caller's pgx transaction, Queue.Insert in one of its own. Each job
carries its own WebhookID, sent as webhook-id and Idempotency-Key: a node's
local ID is not unique among nodes, so the relay that moves a node's
outbox to PostgreSQL names it ("<node>-<outbox id>"). The WebhookID is the
job's River unique key in every state, so inserting a batch again after a
crash inserts nothing new: the relay is at least once, the insert
idempotent, for as long as finished jobs are kept (Config.KeepRetired).

# Delivering

Queue.Run starts River's client on this node: up to Config.Workers
deliveries in flight, fetched from the shared table, each job on one node
at a time (River locks it while running). Per attempt (see worker.Work):

  - 2xx: completed.
  - 410 Gone, an invalid URL or a forbidden address: canceled.
  - 429 or 503 with Retry-After: snoozed for that long, at most
    Sender.MaxRetryAfter.
  - Anything else: retried after Config.Schedule[n-1] (default
    hookqueue.DefaultSchedule, 1m doubling to 16h, +-10% jitter) as the
    worker's NextRetry; after len(Schedule)+1 attempts, snoozes included,
    given up (canceled with outcome "failed").
  - Shutdown while in flight: snoozed 0, due again at once.

A node that dies with jobs running leaves them "running" until River's
leader rescues them, Config.RescueAfter after their attempt started; Open
refuses a RescueAfter not longer than an attempt may last, so a rescued
job's request is never still in flight. The endpoint may then get the same
webhook-id again: delivery is at least once.
*/
package riverhook
