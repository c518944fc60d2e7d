package hostile

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// TestRepeated checks that ReadAt gives the same bytes as Bytes at any
// offset and length, and io.EOF at the end.
func TestRepeated(t *testing.T) {
	for _, r := range []*Repeated{
		NewRepeated("head", "0123456789", "tail", 1000),
		NewRepeated("", "x", "", 10),
		NewRepeated("h", "fill", "", 3), // At least one Fill.
		BigDSN(1 << 16),
	} {
		all := r.Bytes()
		if int64(len(all)) != r.Size() {
			t.Fatalf("Bytes has %d bytes, Size %d", len(all), r.Size())
		}
		if got, err := io.ReadAll(r.Reader()); err != nil || !bytes.Equal(got, all) {
			t.Fatalf("Reader gave %d bytes, %v; want %d", len(got), err, len(all))
		}
		rnd := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 1000; i++ {
			off := rnd.IntN(len(all) + 2)
			buf := make([]byte, rnd.IntN(50))
			n, err := r.ReadAt(buf, int64(off))
			want := all[min(off, len(all)):min(off+len(buf), len(all))]
			if !bytes.Equal(buf[:n], want) {
				t.Fatalf("ReadAt(%d, %d) = %q, want %q", off, len(buf), buf[:n], want)
			}
			if (n < len(buf)) != (err == io.EOF) {
				t.Fatalf("ReadAt(%d, %d): %d bytes, error %v", off, len(buf), n, err)
			}
		}
	}
	if _, err := NewRepeated("a", "b", "c", 5).ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatalf("no error for negative offset")
	}
}

var sink []byte

// TestAllocs checks that Allocs sees an allocation and its size.
func TestAllocs(t *testing.T) {
	n := Allocs(func() { sink = make([]byte, 1<<20) })
	if n < 1<<20 || n > 2<<20 {
		t.Fatalf("allocating 1 MiB counted %d bytes", n)
	}
	sink = nil
}
