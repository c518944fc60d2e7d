// Package queue holds the outbound queue records of a Go mail server and the
// decisions made when a delivery attempt fails: Classify turns an error into
// a Failure (permanent or not, SMTP codes, a reason), RetryPolicy decides when
// to try again or to give up.
//
// RFCs: RFC 5321 (SMTP replies, section 4.2 and 4.5.4.1 retry strategy),
// RFC 3463 (enhanced status codes), RFC 3461 (DSN parameters NOTIFY, RET,
// ENVID, ORCPT).
package queue
