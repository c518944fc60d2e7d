package dsn

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// TestParseMemory checks that a 50 MB DSN (a huge returned message) does not
// make Parse allocate more than a small multiple of its size. In fact Parse
// streams, so it allocates far less.
func TestParseMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB input")
	}
	const size = 50 << 20
	var b bytes.Buffer
	b.Grow(size + 4096)
	b.WriteString("Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; a\r\n\r\nFinal-Recipient: rfc822; a@x\r\nAction: failed\r\nStatus: 5.0.0\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <big@x>\r\n\r\n")
	line := strings.Repeat("x", 998) + "\r\n"
	for b.Len() < size-len(line) {
		b.WriteString(line)
	}
	// A long line without line break, and many would-be boundaries.
	b.WriteString(strings.Repeat("y", 1<<20) + "\r\n--bb\r\n--b\r\n\r\n--b--\r\n")
	input := b.Bytes()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, _, err := Parse(bytes.NewReader(input))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if m.OriginalMessageID != "<big@x>" || len(m.Recipients) != 1 {
		t.Fatalf("bad result %#v", m)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("parsing %d bytes allocated %d bytes", len(input), alloc)
	if alloc > 4*uint64(len(input)) {
		t.Fatalf("allocated %d bytes for %d bytes of input", alloc, len(input))
	}
	// Streaming: much less than the input.
	if alloc > 1<<20 {
		t.Fatalf("allocated %d bytes, expected streaming to stay under 1 MiB", alloc)
	}

	// A huge delivery-status part is cut off at MaxStatusSize.
	huge := bytes.Replace(input, []byte("Content-Type: message/rfc822\r\n\r\n"), []byte("\r\n"), 1)
	huge = bytes.Replace(huge, []byte("Status: 5.0.0\r\n--b\r\n"), []byte("Status: 5.0.0\r\n"), 1)
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err = Parse(bytes.NewReader(huge))
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatalf("no error for huge delivery-status part")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*uint64(len(huge)) {
		t.Fatalf("allocated %d bytes for %d bytes of input", alloc, len(huge))
	}
}
