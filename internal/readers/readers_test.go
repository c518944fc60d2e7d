package readers

import (
	"io"
	"strings"
	"testing"
)

// TestGetPut: a reader lent after another was given back reads its own
// source from the start, with the full buffer size, and nothing of the
// earlier one.
func TestGetPut(t *testing.T) {
	br := Get(strings.NewReader("first line\nrest"))
	line, err := br.ReadString('\n')
	if err != nil || line != "first line\n" {
		t.Fatalf("first reader: %q, %v", line, err)
	}
	Put(br)
	for range 3 {
		br := Get(strings.NewReader("second"))
		if br.Size() != Size {
			t.Fatalf("size %d, want %d", br.Size(), Size)
		}
		b, err := io.ReadAll(br)
		if err != nil || string(b) != "second" {
			t.Fatalf("lent again: %q, %v", b, err)
		}
		Put(br)
	}
}
