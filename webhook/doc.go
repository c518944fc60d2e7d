/*
Package webhook is what an application receiving our webhooks needs: the
event names ([OutgoingEvent]), the JSON payloads ([Outgoing], [Incoming]), Standard
Webhooks signing ([Sign]) and the receiver's check ([Verify]). It depends
on the standard library only, so a receiver imports neither bstore nor
Prometheus nor the mail queue. The durable queue that delivers the events
over HTTP is package hookqueue, which imports this one.

The payload is wire-compatible with the outgoing webhooks of the mox mail
server (same event names and JSON field names, Version 0): an application
written for mox decodes it unchanged. New events (complained) and fields
(Reason, Recipient, Attempt) are additions, left out of the JSON when
empty.

Standards: the Standard Webhooks specification
(https://www.standardwebhooks.com/: webhook-id, webhook-timestamp,
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

Produced by the Handler, as queued; the hookqueue worker adds Attempt
(from 1) to each delivery. Package queue's TestWebhookDocExamples checks
them.

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
	  "Recipient": "nobody@example.com",
	  "RemoteMTA": "mx.example.com"
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

# Incoming messages

A message that arrives for an account is posted as one [Incoming] object,
wire-compatible with mox's incoming webhook (Version 0, the same field
names): the addresses, subject, Message-ID, In-Reply-To, References and
Date of its header, its readable text and HTML, its MIME [Structure], and
[IncomingMeta] with the SMTP transaction (MAIL FROM, RCPT TO, remote IP),
the authentication results (SPF, DKIM domains, DMARC alignment), when and
where it was stored, and whether it was automated. Empty lists and maps
are [] and {}, never null. Incoming requests carry the same headers and
signatures as outgoing events. testdata/incoming-full.golden holds a
payload with every field set.

# Signing

A signed request carries three headers ([HeaderID], [HeaderTimestamp],
[HeaderSignature]): webhook-id, the same on every attempt of one event so
receivers can drop duplicates; webhook-timestamp, Unix seconds; and
webhook-signature, "v1,<base64 HMAC-SHA256 of id.timestamp.body>" for each
secret, space separated, so a sender can sign with the old and the new key
during a rotation. Secrets are "whsec_" followed by base64 ([CheckSecret]);
the prefix is optional, as in the reference libraries.

# Receiving

[Verify] checks a received request's Standard Webhooks signature with one
or more secrets (during a key rotation, the old and the new), refuses a
webhook-timestamp more than a tolerance (default 5 minutes) from the
receiver's clock, and compares signatures in constant time. It accepts
exactly what the reference libraries accept.

# Layout

  - event.go: the event names and the Outgoing payload.
  - incoming.go: the Incoming payload.
  - sign.go: Standard Webhooks header names and Sign.
  - verify.go: Verify, for receivers.
  - check.go: CheckSecret, for configuration.
*/
package webhook
