package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (https://www.standardwebhooks.com/) header names. A
// sender sets all three on a signed request; Verify reads them.
const (
	HeaderID        = "webhook-id"        // Idempotency key of the event, the same on every attempt.
	HeaderTimestamp = "webhook-timestamp" // Unix seconds when the request was signed.
	HeaderSignature = "webhook-signature" // Space-separated "v1,<base64>" signatures.
)

// secretPrefix starts a Standard Webhooks signing secret.
const secretPrefix = "whsec_"

// parseSecret decodes a "whsec_<base64>" signing secret. The prefix is
// optional, as in the reference libraries.
func parseSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, secretPrefix))
	if err != nil {
		return nil, fmt.Errorf("webhook: secret is not whsec_<base64>: %w", err)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("webhook: empty secret")
	}
	return key, nil
}

// Sign returns the webhook-signature header value for a request with
// webhook-id id, webhook-timestamp ts (sent as ts.Unix()) and body: one
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" per secret, separated by
// spaces, so receivers can rotate keys. Secrets are "whsec_" followed by
// base64; the prefix is optional. An invalid secret is an error.
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	var b strings.Builder
	for i, s := range secrets {
		key, err := parseSecret(s)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(signV1(key, id, ts.Unix(), body))
	}
	return b.String(), nil
}

// signV1 returns the base64 of the HMAC-SHA256 of "id.timestamp.body",
// the Standard Webhooks v1 signature, for signing and verifying alike.
func signV1(key []byte, id string, unix int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(unix, 10) + "."))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
