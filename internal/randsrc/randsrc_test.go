package randsrc

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
	"testing/iotest"
)

func TestFloat64(t *testing.T) {
	tests := []struct {
		name string
		r    io.Reader
		want float64
	}{
		{"zeros", bytes.NewReader(make([]byte, 8)), 0},
		{"ones", bytes.NewReader(bytes.Repeat([]byte{0xff}, 8)), 1 - math.Pow(2, -53)},
		{"half", bytes.NewReader([]byte{0x80, 0, 0, 0, 0, 0, 0, 0}), 0.5},
		{"quarter", bytes.NewReader([]byte{0x40, 0, 0, 0, 0, 0, 0, 0}), 0.25},
		{"low bits dropped", bytes.NewReader([]byte{0, 0, 0, 0, 0, 0, 0x07, 0xff}), 0},
		{"lowest kept bit", bytes.NewReader([]byte{0, 0, 0, 0, 0, 0, 0x08, 0}), math.Pow(2, -53)},
		{"failing reader", iotest.ErrReader(errors.New("broken")), Neutral},
		{"short reader", bytes.NewReader([]byte{1, 2, 3}), Neutral},
		{"empty reader", bytes.NewReader(nil), Neutral},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Float64(tc.r); got != tc.want {
				t.Errorf("Float64 = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFloat64OneByteReads checks that a reader returning one byte per Read
// still yields the full 8 bytes.
func TestFloat64OneByteReads(t *testing.T) {
	r := iotest.OneByteReader(bytes.NewReader([]byte{0x80, 0, 0, 0, 0, 0, 0, 0}))
	if got := Float64(r); got != 0.5 {
		t.Errorf("Float64 = %v, want 0.5", got)
	}
}

// TestFloat64Nil checks that nil reads crypto/rand: values in [0, 1) that
// are not all the same.
func TestFloat64Nil(t *testing.T) {
	seen := map[float64]bool{}
	for range 16 {
		f := Float64(nil)
		if !(f >= 0 && f < 1) {
			t.Fatalf("Float64(nil) = %v, not in [0, 1)", f)
		}
		seen[f] = true
	}
	if len(seen) < 2 {
		t.Errorf("Float64(nil) returned the same value 16 times: %v", seen)
	}
}
