package report

import (
	"bytes"
	"io"
	"net/mail"
)

// readText runs the bounce text reader on msg as ReadAt does: the first
// MaxSize bytes, walked by dsn.Parse.
func readText(msg []byte) (*textReport, error) {
	m, _, _ := newMessage(bytes.NewReader(msg), int64(len(msg)))
	return readBounceText(m)
}

// walkBytes returns the header of msg, the parts the text reader collects
// from it, and the error reading the header.
func walkBytes(msg []byte) (mail.Header, *parts, error) {
	m, _, _ := newMessage(bytes.NewReader(msg), int64(len(msg)))
	return m.header, collect(m.r, m.top), m.headerErr
}

// readAll reads up to max bytes as io.ReadAll does: the baseline the
// charset tests compare decoding with.
func readAll(r io.Reader, max int) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, int64(max)))
	return b
}
