// Package readers lends buffered readers, so that reading a report, which
// takes several of them (the MIME walk, the delivery-status fields, the
// report's own header and the returned one), does not allocate a new
// buffer for each. A reader goes back with Put once nothing read through
// it refers into its buffer: callers copy what they keep into strings.
package readers

import (
	"bufio"
	"io"
	"sync"
)

// Size is the buffer size of every reader lent: a line longer than it is
// read in pieces.
const Size = 4096

var pool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, Size) }}

// Get returns a buffered reader of r; give it back with Put.
func Get(r io.Reader) *bufio.Reader {
	br := pool.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// Put returns br to the pool, without its source. br must not be used
// after.
func Put(br *bufio.Reader) {
	br.Reset(nil)
	pool.Put(br)
}
