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

// Standard Webhooks (https://www.standardwebhooks.com/) headers.
const (
	headerWebhookID        = "webhook-id"
	headerWebhookTimestamp = "webhook-timestamp"
	headerWebhookSignature = "webhook-signature"
	secretPrefix           = "whsec_"
)

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

// signature returns the webhook-signature header value: one
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" per secret, separated by
// spaces, so receivers can rotate keys.
func signature(secrets []string, id string, ts time.Time, body []byte) (string, error) {
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

// webhookID is the idempotency key of a hook: the same for every attempt.
func webhookID(id int64) string {
	return "bkh_" + strconv.FormatInt(id, 10)
}
