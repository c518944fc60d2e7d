package webhook

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far webhook-timestamp may be from the receiver's
// clock, either way, when Verify is given a zero tolerance. The Standard
// Webhooks reference libraries use the same.
const DefaultTolerance = 5 * time.Minute

// Errors from Verify, for errors.Is.
var (
	ErrNoSignature       = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrBadTimestamp      = errors.New("webhook: webhook-timestamp invalid or outside the tolerance")
	ErrSignatureMismatch = errors.New("webhook: no signature matches")
)

// Verify checks the Standard Webhooks signature of a received webhook: the
// webhook-id, webhook-timestamp and webhook-signature headers in header,
// over the request body exactly as received. It returns nil if one of the
// "v1,<base64>" signatures in webhook-signature is the HMAC-SHA256 of
// "id.timestamp.body" with one of secrets, and the timestamp is within
// tolerance of now (0: DefaultTolerance), which limits replays.
//
// Several secrets let a receiver rotate keys: accept the old and the new
// secret until senders use only the new one. The sender may also sign with
// several secrets; other signature versions are ignored. Signatures are
// compared in constant time. Secrets are "whsec_" followed by base64, as
// the sender's (hookqueue.Hook.Secrets); the prefix is optional. An invalid
// secret is an error, whatever the request.
//
// Errors wrap ErrNoSignature, ErrBadTimestamp or ErrSignatureMismatch.
// Receivers answer such a request with 401 and no further detail.
func Verify(secrets []string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secrets) == 0 {
		return errors.New("webhook: no secrets to verify with")
	}
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		k, err := parseSecret(s)
		if err != nil {
			return err
		}
		keys[i] = k
	}

	id := header.Get(HeaderID)
	ts := header.Get(HeaderTimestamp)
	sigs := header.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrNoSignature
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrBadTimestamp, ts)
	}
	// Compared in seconds: not every int64 of them fits a time.Time.
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	tol := int64(tolerance / time.Second)
	if secs < now.Unix()-tol || secs > now.Unix()+tol {
		return fmt.Errorf("%w: %d, now %d", ErrBadTimestamp, secs, now.Unix())
	}

	// The expected signatures, encoded as senders write them, so the
	// received text is compared as it is and never decoded. The signed
	// timestamp is the number, as the reference libraries format it.
	expected := make([][]byte, len(keys))
	for i, k := range keys {
		expected[i] = []byte(signV1(k, id, secs, body))
	}
	for _, sig := range strings.Split(sigs, " ") {
		v, ok := strings.CutPrefix(sig, "v1,")
		if !ok {
			continue
		}
		for _, e := range expected {
			if hmac.Equal([]byte(v), e) {
				return nil
			}
		}
	}
	return ErrSignatureMismatch
}
