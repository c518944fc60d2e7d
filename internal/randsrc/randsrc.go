// Package randsrc turns the module's one injectable source of randomness,
// an io.Reader (a Rand field whose nil value means crypto/rand.Reader), into
// the numbers retry jitter needs, so every package draws them the same way.
package randsrc

import (
	"crypto/rand"
	"encoding/binary"
	"io"
)

// Neutral is what Float64 returns when it cannot read: the middle of [0, 1),
// which scales a jittered delay by 1, that is, no jitter.
const Neutral = 0.5

// Float64 returns a number in [0, 1) made from 8 bytes read from r, with
// all 53 bits of a float64's mantissa random. A nil r means
// crypto/rand.Reader. If r fails or ends early, Float64 returns Neutral:
// a broken source costs the spread of retries, never a delivery.
func Float64(r io.Reader) float64 {
	if r == nil {
		r = rand.Reader
	}
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return Neutral
	}
	return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53)
}
