package queue

// Failure is the classification of a failed delivery attempt, as returned by
// Classify. The retry policy, the DSN composer and the suppression policy all
// decide from it.
type Failure struct {
	// Permanent is true when retrying cannot help (a 5xx reply, an unknown
	// domain). It follows the reply code class except for the documented
	// exceptions in Classify.
	Permanent bool

	// Code is the SMTP reply code, e.g. 550. Zero when the failure was not an
	// SMTP reply (DNS, network, TLS).
	Code int

	// EnhancedCode is the RFC 3463 enhanced status code without the class
	// digit's context, e.g. "5.1.1". Empty when the reply had none.
	EnhancedCode string

	// Reason says why, in sisimai's taxonomy.
	Reason Reason

	// Lines is the full reply text, one element per reply line, without the
	// code prefixes. Nil when the failure was not an SMTP reply.
	Lines []string

	// Err is the error that was classified.
	Err error
}
