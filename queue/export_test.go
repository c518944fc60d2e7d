package queue

// IncomingSeen is the stored record of a report processed, for the
// external tests that count them.
type IncomingSeen = incomingSeen
