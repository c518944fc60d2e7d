package queue

// IncomingSeen is the stored record of a report processed (SeenReport),
// for the external tests that count them.
type IncomingSeen = incomingSeen

// IncomingSeenV1 is the record of a report processed as an earlier
// version stored it (IncomingSeen).
type IncomingSeenV1 = incomingSeenV1

// SeenV1Gone reports whether h noted that no IncomingSeen record is left.
func (h *Handler) SeenV1Gone() bool { return h.seenV1Gone.Load() }
