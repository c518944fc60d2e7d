package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/internal/hostile"
)

// TestHostileCheckSecret runs CheckSecret, and Verify with the secret, on
// hostile secrets: an error wrapping ErrInvalidSecret from CheckSecret
// exactly when Verify refuses the secret too.
func TestHostileCheckSecret(t *testing.T) {
	secrets := []string{"whsec_", "whsec_=", "whsec_====", "whsec_AA", "whsec_AA==\r\n", "whsec_QUFB\r\nQUFB", "whsec_whsec_QUFB",
		"whsec_" + strings.Repeat("QUFB", hostile.LongLine/4), "whsec_" + strings.Repeat("\n", 1000)}
	secrets = append(secrets, hostile.Strings...)
	for i, s := range secrets {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			hostile.Check(t, 64<<10+2*uint64(len(s)), func() {
				err := CheckSecret(s)
				if err != nil && !errors.Is(err, ErrInvalidSecret) {
					t.Fatalf("error %v does not wrap ErrInvalidSecret", err)
				}
				verr := Verify([]string{s}, http.Header{}, nil, time.Now(), 0)
				if (err == nil) != errors.Is(verr, ErrNoSignature) {
					t.Fatalf("CheckSecret: %v, but Verify: %v", err, verr)
				}
			})
		})
	}
}

// TestHostileVerify runs Verify on hostile requests: each is refused with
// an error wrapping ErrNoSignature, ErrBadTimestamp or ErrSignatureMismatch,
// allocating at most its bound whatever the body's size; the request signed
// correctly is accepted, also with a 150 MB body.
func TestHostileVerify(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Unix(1_700_000_000, 0)
	key, err := parseSecret(secret)
	tcheck(t, err, "parse secret")
	big := make([]byte, hostile.BigMessage)
	for i := range big {
		big[i] = byte(i)
	}
	signed := func(body []byte) http.Header {
		h := http.Header{}
		h.Set(HeaderID, "msg_1")
		h.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
		h.Set(HeaderSignature, "v1,"+signV1(key, "msg_1", now.Unix(), body))
		return h
	}
	with := func(name, value string) http.Header {
		h := signed([]byte("{}"))
		h.Set(name, value)
		return h
	}
	cases := []struct {
		name   string
		header http.Header
		body   []byte
		bound  uint64
		want   error // nil: accepted
	}{
		{"signed", signed([]byte("{}")), []byte("{}"), 64 << 10, nil},
		{"signed 150MB", signed(big), big, 64 << 10, nil},
		{"unsigned 150MB", with(HeaderSignature, "v1,AAAA"), big, 64 << 10, ErrSignatureMismatch},
		{"nil header", nil, nil, 64 << 10, ErrNoSignature},
		{"nil body", signed([]byte("{}")), nil, 64 << 10, ErrSignatureMismatch},
		{"1MB id", with(HeaderID, strings.Repeat("i", hostile.LongLine)), []byte("{}"), 4 << 20, ErrSignatureMismatch},
		{"1MB signature", with(HeaderSignature, "v1,"+strings.Repeat("s", hostile.LongLine)), []byte("{}"), 4 << 20, ErrSignatureMismatch},
		{"100k signatures", with(HeaderSignature, strings.Repeat("v1,AAAA ", hostile.ManyRecipients)), []byte("{}"), 4 << 20, ErrSignatureMismatch},
		{"100k empty signatures", with(HeaderSignature, strings.Repeat(" ", hostile.ManyRecipients)), []byte("{}"), 4 << 20, ErrSignatureMismatch},
		{"huge timestamp", with(HeaderTimestamp, "99999999999999999999999"), []byte("{}"), 64 << 10, ErrBadTimestamp},
		{"max timestamp", with(HeaderTimestamp, "9223372036854775807"), []byte("{}"), 64 << 10, ErrBadTimestamp},
		{"min timestamp", with(HeaderTimestamp, "-9223372036854775808"), []byte("{}"), 64 << 10, ErrBadTimestamp},
		{"1MB timestamp", with(HeaderTimestamp, strings.Repeat("1", hostile.LongLine)), []byte("{}"), 8 << 20, ErrBadTimestamp},
		{"NUL timestamp", with(HeaderTimestamp, "1700000000\x00"), []byte("{}"), 64 << 10, ErrBadTimestamp},
		{"CRLF in id", with(HeaderID, "msg_1\r\nX: y"), []byte("{}"), 64 << 10, ErrSignatureMismatch},
		{"invalid UTF-8 body", signed([]byte("{}")), []byte("{\xff}"), 64 << 10, ErrSignatureMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			hostile.Check(t, c.bound, func() { err = Verify([]string{secret}, c.header, c.body, now, 0) })
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// BenchmarkHostileVerify measures Verify of a 150 MB body: its time bound.
func BenchmarkHostileVerify(b *testing.B) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Unix(1_700_000_000, 0)
	big := make([]byte, hostile.BigMessage)
	h := http.Header{}
	h.Set(HeaderID, "msg_1")
	h.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
	h.Set(HeaderSignature, strings.Repeat("v1,AAAA ", 100)+"v1,x")
	b.ReportAllocs()
	b.SetBytes(int64(len(big)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Verify([]string{secret}, h, big, now, 0)
	}
}
