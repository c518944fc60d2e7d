/*
Package webhook tells applications over HTTP what happened to the mail they
sent: every delivery, delay, failure, suppression and complaint, as a signed
JSON POST that is retried until it is accepted and is never lost.

It has two halves: the event payload ([Outgoing], [OutgoingEvent]), which is
wire-compatible with the outgoing webhooks of the mox mail server, and a
durable queue ([Queue], with bstore types [Hook] and [HookRetired]) whose
worker delivers the events. The queue lives in the host's own bstore
database: [Queue.Enqueue] runs in the caller's transaction, so an event
exists exactly when the state change that caused it was committed.

Receiving applications written in Go check signatures with [Verify].

Standards: RFC 9110 (HTTP semantics, Retry-After in section 10.2.3), the
Standard Webhooks specification (webhook-id, webhook-timestamp,
webhook-signature), RFC 3464 (the DSN actions behind the events), RFC 5965
(feedback reports, for complained).

# Events

Each POST carries one [Outgoing] object. Its Event is one of:

  - delivered: a next-hop server accepted the message.
  - suppressed: not sent, the recipient is on the suppression list.
  - delayed: an attempt failed temporarily, delivery is retried.
  - failed: delivery failed permanently or gave up; see Suppressing.
  - relayed: delivered into a system that sends no DSNs.
  - expanded: delivered to the members of an alias or list.
  - canceled: removed from the queue by an operator or the application.
  - unrecognized: an incoming message matched to this message was not
    understood (a DSN with an unknown action, or not a DSN).
  - complained: a recipient reported the message as spam (feedback loop).
    An addition: mox has no such event.

# Payload fields

The JSON field names are the Go field names, as in mox. Receivers must
ignore fields they do not know: more may be added.

  - Version: payload format, always 0.
  - Event: one of the events above.
  - DSN: true if the event comes from an incoming delivery status
    notification rather than from our own delivery attempt.
  - Suppressing: true if this failure added the recipient to the
    account's suppression list.
  - QueueMsgID: the message's ID in the host's queue.
  - FromID: the unique ID in the message's MAIL FROM address, if any.
  - MessageID: the Message-ID header of the message, with <>.
  - Subject: the Subject of the message.
  - WebhookQueued: when the event was first queued (RFC 3339).
  - SMTPCode: for errors, the SMTP reply code (e.g. 451, 550), else 0
    (250 for delivered when known).
  - SMTPEnhancedCode: for errors, the RFC 3463 code (e.g. "5.1.1").
  - Error: for errors, the reply text or local error.
  - Extra: application data attached to the message at submission; an
    object, never null.

Additions (omitted when empty, so a mox receiver sees exactly mox's shape):

  - Reason: the failure's classification, e.g. "userunknown", "mailboxfull",
    "blocked", "spamdetected", "expired".
  - Recipient: the RCPT TO address the event is about.
  - Attempt: the delivery attempt of this webhook, starting at 1.

# Example payloads

Produced by the Handler, as queued; the worker adds Attempt (from 1) to
each delivery. Package queue's TestWebhookDocExamples checks them.

delivered:

	{
	  "Version": 0,
	  "Event": "delivered",
	  "DSN": false,
	  "Suppressing": false,
	  "QueueMsgID": 1,
	  "FromID": "AQIDBAUGBwgJCgsMDQ4PEA",
	  "MessageID": "<k3q9x@app.example>",
	  "Subject": "Your receipt",
	  "WebhookQueued": "2026-11-25T10:00:00Z",
	  "SMTPCode": 250,
	  "SMTPEnhancedCode": "2.0.0",
	  "Error": "",
	  "Extra": {
	    "order": "1234"
	  },
	  "Reason": "delivered",
	  "Recipient": "alice@example.net"
	}

suppressed:

	{
	  "Version": 0,
	  "Event": "suppressed",
	  "DSN": false,
	  "Suppressing": false,
	  "QueueMsgID": 2,
	  "FromID": "ERITFBUWFxgZGhscHR4fIA",
	  "MessageID": "<r7t2m@app.example>",
	  "Subject": "Newsletter",
	  "WebhookQueued": "2026-11-25T10:00:00Z",
	  "SMTPCode": 0,
	  "SMTPEnhancedCode": "",
	  "Error": "recipient address is on the sender's suppression list",
	  "Extra": {},
	  "Reason": "suppressed",
	  "Recipient": "gone@example.org"
	}

delayed:

	{
	  "Version": 0,
	  "Event": "delayed",
	  "DSN": false,
	  "Suppressing": false,
	  "QueueMsgID": 3,
	  "FromID": "ISIjJCUmJygpKissLS4vMA",
	  "MessageID": "<a1b2@app.example>",
	  "Subject": "Welcome",
	  "WebhookQueued": "2026-11-25T10:15:00Z",
	  "SMTPCode": 451,
	  "SMTPEnhancedCode": "4.7.1",
	  "Error": "451 4.7.1 Greylisted, please try again later",
	  "Extra": {},
	  "Reason": "onhold",
	  "Recipient": "bob@example.net"
	}

failed (from an incoming DSN, address suppressed):

	{
	  "Version": 0,
	  "Event": "failed",
	  "DSN": true,
	  "Suppressing": true,
	  "QueueMsgID": 4,
	  "FromID": "OTo7PD0-P0BBQkNERUZHSA",
	  "MessageID": "<QnxzgulZK51utga6agH_rg@app.example>",
	  "Subject": "Invoice",
	  "WebhookQueued": "2026-11-25T11:00:00Z",
	  "SMTPCode": 550,
	  "SMTPEnhancedCode": "5.1.1",
	  "Error": "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown",
	  "Extra": {
	    "order": "1234"
	  },
	  "Reason": "userunknown",
	  "Recipient": "nobody@example.com"
	}

relayed (from an incoming DSN):

	{
	  "Version": 0,
	  "Event": "relayed",
	  "DSN": true,
	  "Suppressing": false,
	  "QueueMsgID": 5,
	  "FromID": "SUpLTE1OT1BRUlNUVVZXWA",
	  "MessageID": "<x9@app.example>",
	  "Subject": "Report",
	  "WebhookQueued": "2026-11-25T11:00:00Z",
	  "SMTPCode": 0,
	  "SMTPEnhancedCode": "2.0.0",
	  "Error": "",
	  "Extra": {
	    "order": "1234"
	  },
	  "Reason": "delivered",
	  "Recipient": "fax@legacy.example"
	}

expanded (from an incoming DSN):

	{
	  "Version": 0,
	  "Event": "expanded",
	  "DSN": true,
	  "Suppressing": false,
	  "QueueMsgID": 6,
	  "FromID": "WVpbXF1eX2BhYmNkZWZnaA",
	  "MessageID": "<y8@app.example>",
	  "Subject": "Team update",
	  "WebhookQueued": "2026-11-25T11:00:00Z",
	  "SMTPCode": 0,
	  "SMTPEnhancedCode": "2.0.0",
	  "Error": "",
	  "Extra": {
	    "order": "1234"
	  },
	  "Reason": "delivered",
	  "Recipient": "team@example.org"
	}

canceled:

	{
	  "Version": 0,
	  "Event": "canceled",
	  "DSN": false,
	  "Suppressing": false,
	  "QueueMsgID": 3,
	  "FromID": "ISIjJCUmJygpKissLS4vMA",
	  "MessageID": "<a1b2@app.example>",
	  "Subject": "Welcome",
	  "WebhookQueued": "2026-11-25T10:15:00Z",
	  "SMTPCode": 0,
	  "SMTPEnhancedCode": "",
	  "Error": "451 4.7.1 Greylisted, please try again later",
	  "Extra": {},
	  "Recipient": "bob@example.net"
	}

unrecognized (an auto-reply):

	{
	  "Version": 0,
	  "Event": "unrecognized",
	  "DSN": false,
	  "Suppressing": false,
	  "QueueMsgID": 7,
	  "FromID": "aWprbG1ub3BxcnN0dXZ3eA",
	  "MessageID": "<w6@app.example>",
	  "Subject": "Hello",
	  "WebhookQueued": "2026-11-25T11:00:00Z",
	  "SMTPCode": 0,
	  "SMTPEnhancedCode": "",
	  "Error": "automatic reply, subject \"Out of office\"",
	  "Extra": {
	    "order": "1234"
	  },
	  "Reason": "vacation",
	  "Recipient": "erin@example.com"
	}

complained (addition):

	{
	  "Version": 0,
	  "Event": "complained",
	  "DSN": false,
	  "Suppressing": true,
	  "QueueMsgID": 8,
	  "FromID": "eXp7fH1-f4CBgoOEhYaHiA",
	  "MessageID": "<v5@app.example>",
	  "Subject": "Weekly deals",
	  "WebhookQueued": "2026-11-26T11:00:00Z",
	  "SMTPCode": 0,
	  "SMTPEnhancedCode": "",
	  "Error": "",
	  "Extra": {
	    "order": "1234"
	  },
	  "Reason": "feedback",
	  "Recipient": "dave@example.com"
	}

# Requests

Each attempt is an HTTP POST of the JSON payload with headers:

  - Content-Type: application/json; charset=utf-8, and User-Agent
    (Queue.UserAgent).
  - webhook-id and Idempotency-Key: "bkh_<Hook.ID>", the same on every
    attempt, so receivers can drop duplicates. Delivery is at least once.
  - X-Mox-Webhook-ID and X-Mox-Webhook-Attempt, as mox sends them.
  - Authorization: Hook.Authorization, if set.
  - If Hook.Secrets is set, Standard Webhooks signatures: webhook-timestamp
    (Unix seconds) and webhook-signature, "v1,<base64 HMAC-SHA256 of
    id.timestamp.body>" for each secret, space separated, so a receiver
    can rotate keys. Secrets are "whsec_" followed by base64.

Every request the endpoint sees is a recorded attempt. net/http re-sends
a POST that carries Idempotency-Key on a new connection when a kept-alive
one dies before the response, although the endpoint may have read it; the
queue's requests are made so that net/http never re-sends them, and such an
attempt is recorded as failed and retried on the schedule.

# Retries

Any 2xx is success (mox accepts only 200). 410 Gone stops retrying: the
hook is retired with OutcomeGone. A URL that is invalid or resolves to a
forbidden address is retired with OutcomeRefused. Everything else is
retried: other statuses, redirects (never followed), connection errors,
timeouts (Queue.Timeout, default 30s) and responses cut off mid-body. After
failed attempt n the next is due Schedule[n-1] later, with +-10% jitter;
the default is mox's schedule, 1m, 2m, 4m, 7.5m, 15m, 30m, 1h, 2h, 4h, 8h,
16h, so a hook is given up (OutcomeFailed) after 12 failed attempts. A 429
or 503 with Retry-After (seconds or an HTTP date) sets the next attempt
instead, at most MaxRetryAfter later (default 24h), also when the number
of seconds is too large for any integer type. Each attempt is kept in
Hook.Results with start, duration, status code, error and the first 512
bytes of the response; at most 64 KiB more is read to reuse the
connection, a longer body closes it.

# Ordering and supersession

mox delivers only the latest event for a message: a new event retires the
older ones still queued, so an application can miss, say, a delayed event
before a failed one. This queue delivers every event by default. Set
Queue.Supersede to get mox's behaviour (older pending hooks for the same
account, URL and QueueMsgID are retired with OutcomeSuperseded). Hooks are
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
(at most 256 each), so a slow or dead endpoint holds only its own slots and
never delays hooks for other URLs. Results are written by one committer
goroutine: while it commits, finished results collect, and the next
transaction writes all of them (group commit), instead of one transaction
per hook as in mox.

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
ID, attempts, outcome, and the last status code and error. Logs above
DEBUG name the URL only by its host, as its path or query may hold a
token. Each delivery and retry is logged at DEBUG.

# Retention

A delivered, failed, gone, refused, canceled or superseded hook becomes a
HookRetired (without the Authorization value and secrets), kept for
Hook.KeepFor (per account: the host sets it when enqueuing; zero means
Queue.KeepRetired, default 7 days; negative means not kept). Queue.Cleanup
removes expired records; Run calls it every CleanupInterval. List and
ListRetired take a Filter and a Page (ID cursor); Cancel takes a Filter.

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
Queue.Rand. With a fake clock, advance it and call Kick; the worker then
looks again. Queue.OnResult reports each committed result, so tests wait on
a channel instead of sleeping. The per-request Timeout and the
ShutdownTimeout use the real clock.

# Metrics

NewMetrics registers, on a registry the host passes: request duration,
results by status class, queue size, oldest pending age and commit batch
size. Nothing is registered on the default registry; NewMetrics(nil)
registers nothing and returns metrics that count; a nil Metrics is off.

# Receiving

[Verify] checks a received request's Standard Webhooks signature with one
or more secrets (during a key rotation, the old and the new), refuses a
webhook-timestamp more than a tolerance (default 5 minutes) from the
receiver's clock, and compares signatures in constant time. It accepts
exactly what the reference libraries accept.

# Performance

BenchmarkDeliver POSTs signed hooks to a loopback endpoint with state in an
on-disk database; the figures are in the README. Requests to one URL run
Concurrency at a time and results are committed in batches, where mox's
design (one request in flight per URL, one transaction per hook) is bounded
by one fsync per hook.
*/
package hookqueue
