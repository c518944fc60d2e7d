package queue

import "errors"

// defaultComposer composes DSNs with package dsn, in English.
type defaultComposer struct {
	h *Handler
}

// ComposeDSN implements DSNComposer.
func (c defaultComposer) ComposeDSN(req DSNRequest) ([]byte, error) {
	return nil, errors.New("queue: default dsn composer not yet available")
}
