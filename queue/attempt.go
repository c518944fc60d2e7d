package queue

// AttemptStatus says what one delivery attempt did for one message.
type AttemptStatus string

const (
	// AttemptDelivered: the server accepted the message for the recipient
	// (the reply to the final "." or BDAT LAST, RFC 5321 section 4.1.1.4).
	AttemptDelivered AttemptStatus = "delivered"

	// AttemptFailed: the attempt failed for the recipient, with
	// AttemptResult.Err saying how (a refused RCPT TO, a failure after
	// DATA, a connection that could not be made).
	AttemptFailed AttemptStatus = "failed"

	// AttemptNotTried: the message was part of the batch but the attempt
	// never got to it (the transaction ended for a reason that is not about
	// this message, or the batch was split); it stays queued as it was,
	// without counting an attempt.
	AttemptNotTried AttemptStatus = "not-tried"
)

// AttemptResult is the outcome of one delivery attempt (one SMTP
// transaction, or the try to open one) for one message of a batch. A
// delivery client returns one per message it was given; the Handler applies
// them together, so that the failed recipients of one submission get one
// DSN and the webhooks of the attempt go out in one transaction.
type AttemptResult struct {
	// Msg is the message as Due returned it. The client may set DialedIPs
	// and Attempt (RemoteMTA, RemoteIP: they go into the DSN's Remote-MTA
	// field and the webhook).
	Msg Msg

	Status AttemptStatus

	// Delivery describes the server's reply, for AttemptDelivered.
	Delivery Delivery

	// Err is the failure, for AttemptFailed: best a *bounce.SMTPError with
	// its Stage set, so bounce.Classify can tell a reply about the
	// recipient (RCPT TO) from one about the sender (MAIL FROM) or the
	// connection (greeting, EHLO).
	Err error
}
