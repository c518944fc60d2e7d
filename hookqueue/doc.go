/*
Package hookqueue delivers webhooks: a durable queue of events in the
host's own bstore database ([Queue], with bstore types [Hook],
[HookRetired] and [HookBody]) and a worker ([Queue.Run]) that POSTs
them, signed, until the application accepts them. [Queue.Enqueue] runs
in the caller's transaction, so an event exists exactly when the state
change that caused it was committed. The payload, the event names,
signing and the receiver's [webhook.Verify] are package webhook, which an
application that receives the events imports alone; delivery concerns
(URL policy, SSRF guard, retries, retention, metrics) live here.

Standards: RFC 9110 (HTTP semantics, Retry-After in section 10.2.3), the
Standard Webhooks specification (webhook-id, webhook-timestamp,
webhook-signature).

# Requests

Each attempt is an HTTP POST of the JSON payload (Hook.Payload, a
webhook.Outgoing, or Hook.Incoming for a message that arrived for the
account) with headers:

  - Content-Type: application/json; charset=utf-8, and User-Agent
    (Queue.UserAgent).
  - webhook-id and Idempotency-Key: "bkh_<Hook.ID>", the same on every
    attempt, so receivers can drop duplicates. Delivery is at least once.
  - X-Mox-Webhook-ID and X-Mox-Webhook-Attempt, as mox sends them.
  - Authorization: Hook.Authorization, if set.
  - If Hook.Secrets is set, Standard Webhooks signatures: webhook-timestamp
    (Unix seconds) and webhook-signature, "v1,<base64 HMAC-SHA256 of
    id.timestamp.body>" for each secret, space separated, so a receiver
    can rotate keys ([webhook.Sign]). Secrets are "whsec_" followed by
    base64.

[Sender] makes these requests, one attempt per call; Queue.Run uses one,
and so does the River queue of the postgres module (package riverhook),
which passes its own webhook-id, unique among nodes.

Every request the endpoint sees is a recorded attempt. net/http re-sends
a POST that carries Idempotency-Key on a new connection when a kept-alive
one dies before the response, although the endpoint may have read it; the
queue's requests are made so that net/http never re-sends them, and such an
attempt is recorded as failed and retried on the schedule.

# Retries

Any 2xx is success (mox accepts only 200). 410 Gone stops retrying: the
hook is retired with RetiredGone. A URL that is invalid or resolves to a
forbidden address is retired with RetiredRefused. Everything else is
retried: other statuses, redirects (never followed), connection errors,
timeouts (Queue.Timeout, default 30s) and responses cut off mid-body. After
failed attempt n the next is due Schedule[n-1] later, with +-10% jitter;
the default is mox's schedule, 1m, 2m, 4m, 7.5m, 15m, 30m, 1h, 2h, 4h, 8h,
16h, so a hook is given up (RetiredFailed) after 12 failed attempts. A 429
or 503 with Retry-After (seconds or an HTTP date) sets the next attempt
instead, at most MaxRetryAfter later (default 24h), also when the number
of seconds is too large for any integer type. Each attempt is kept in
Hook.Results with start, duration, status code, error and the first 512
bytes of the response; at most 64 KiB more is read to reuse the
connection, a longer body closes it.

# Why a hook was retired

[RetireReason] says why a hook left the queue: [RetiredDelivered],
[RetiredFailed], [RetiredGone], [RetiredRefused], [RetiredCanceled] or
[RetiredSuperseded]. It is a different word from queue.Outcome (what a
Handler call did to a message) and from the webhook event (what happened
to the mail): a "failed" event can be delivered, and then its hook is
retired with RetiredDelivered.

# Ordering and supersession

mox delivers only the latest event for a message: a new event retires the
older ones still queued, so an application can miss, say, a delayed event
before a failed one. This queue delivers every event by default. Set
Queue.Supersede to get mox's behaviour (older pending hooks for the same
account, URL and QueueMsgID are retired with RetiredSuperseded). Hooks are
started oldest NextAttempt first, but with several requests in flight per
URL, and retries, receivers must not rely on arrival order: use
WebhookQueued.

# Concurrency and group commit

Queue.Run keeps up to Concurrency requests in flight per URL (default 4),
HostConcurrency per host over all of its URLs (default 16), and
MaxConcurrency in total (default 64). The default Transport keeps
HostConcurrency connections per host, so many URLs on one host (one
application, one path per account) do not queue for connections. A
request that still got no connection within Timeout (a custom Transport
with fewer connections, or one shared with other traffic) never reached
the endpoint: it is logged at WARN and not counted as an attempt, and the
hook is tried again at once. Due hooks are buffered per URL
(at most 256 each; an incoming hook without its payload, which can be
megabytes and is read when its request starts), so a slow or dead
endpoint holds only its own slots and never delays hooks for other URLs.
Results are written by one committer goroutine: while it commits,
finished results collect, and the next transaction writes all of them
(group commit), instead of one transaction per hook as in mox.

# Database errors

If the results cannot be written (a full disk, a failing database), they
are kept in memory and written again after 1s, doubling up to 1 minute,
each failure logged at ERROR. Meanwhile no new request starts, and a hook
the endpoint acknowledged is not sent again: once a write succeeds, the
acknowledged result is the one recorded. Results still unwritten
ShutdownTimeout after Run's context is canceled are dropped; their hooks
stay due and are delivered again.

# Logging

Logs go to Queue.Logger. Giving up on a hook (failed, gone or refused) is
logged at WARN with the hook ID, account, the URL's host, event, message
ID, attempts, outcome (the RetireReason), and the last status code and
error. Logs above DEBUG name the URL only by its host, as its path or
query may hold a token. Each delivery and retry is logged at DEBUG.

# Retention

A delivered, failed, gone, refused, canceled or superseded hook becomes a
HookRetired (without the Authorization value and secrets), kept for
Hook.KeepFor (per account: the host sets it when enqueuing; zero means
Queue.KeepRetired, default 7 days; negative means not kept). Queue.Cleanup
removes expired records; Run calls it every CleanupInterval.

# Listing, canceling and transactions

List and ListRetired take a Filter and a paging.Page and return a page
ordered by ID with the cursor of the next one, like every listing in the
module (package paging). Cancel (retire as canceled) and Retry (make due
now) take a Filter. Each has two forms, as in package suppression: List,
ListRetired, Cancel, Retry and Cleanup run their own transaction on
Queue.DB (ErrNoDB when it is nil); ListTx, ListRetiredTx, CancelTx,
RetryTx and CleanupTx join the caller's transaction, so a host can list or
change hooks together with its own changes. Enqueue always takes the
caller's transaction. After committing a transaction that called Enqueue,
CancelTx or RetryTx, call Kick.

# SSRF guard

By default the worker refuses to connect to loopback, private (RFC 1918,
RFC 4193), link-local, multicast, unspecified and other reserved addresses,
including those reached through NAT64 or IPv4-mapped IPv6. The check runs
on the IP address being dialed (net.Dialer.Control), after name resolution,
so a name that resolves or rebinds to an internal address is refused too.
No HTTP proxy is used. Networks in Queue.AllowNetworks are allowed. A
refused hook fails permanently with an error wrapping ErrForbiddenAddress.
A custom Queue.Transport keeps the guard only if it dials with NewDialer.

# Shutdown

When the context passed to Run is canceled, no new requests start. Run
waits up to ShutdownTimeout (default 10s) for requests in flight, then
cancels them. Every completed result is committed before Run returns. An
abandoned request is recorded as an Interrupted result; the hook stays due
and the attempt does not count. A crash loses at most the results not yet
committed; those hooks are simply delivered again.

# Clock and testing

Time comes from Queue.Now and Queue.After (real time if nil), jitter from
Queue.Rand, an io.Reader as in package queue (crypto/rand if nil; a reader
that fails means no jitter). With a fake clock, advance it and call Kick; the worker then
looks again. Queue.OnResult reports each committed result, so tests wait on
a channel instead of sleeping. The per-request Timeout and the
ShutdownTimeout use the real clock.

# Metrics

NewMetrics registers, on a registry the host passes: request duration,
results by status class, queue size, oldest pending age and commit batch
size. Nothing is registered on the default registry; NewMetrics(nil)
registers nothing and returns metrics that count; a nil Metrics is off.

# Performance

BenchmarkDeliver POSTs signed hooks to a loopback endpoint with state in an
on-disk database; the figures are in the README. Requests to one URL run
Concurrency at a time and results are committed in batches, where mox's
design (one request in flight per URL, one transaction per hook) is bounded
by one fsync per hook.

# Layout

  - queue.go: Queue, its defaults, ErrNoDB, Enqueue and supersession, jitter.
  - hook.go: the bstore types Hook, HookRetired, HookBody, HookResult, RetireReason; DBTypes.
  - run.go: the worker: buffering per URL, concurrency, group commit, shutdown.
  - attempt.go: one HTTP request: headers, signing, response, Retry-After.
  - guard.go: the SSRF guard, NewDialer.
  - check.go: CheckURL, the URL policy.
  - list.go: Filter; List, ListRetired, Cancel, Retry, Cleanup and their Tx forms.
  - metrics.go: the Prometheus collectors, registered with internal/promreg.
*/
package hookqueue
