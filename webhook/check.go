package webhook

import (
	"errors"
	"fmt"
	"net/url"
)

// Errors of CheckURL and CheckSecret, for errors.Is.
var (
	ErrInvalidURL    = errors.New("webhook: invalid url")
	ErrInvalidSecret = errors.New("webhook: invalid signing secret")
)

// CheckURL returns an error wrapping ErrInvalidURL unless s is an absolute
// http or https URL with a host, as Queue.Enqueue requires. It does not
// resolve the host: the SSRF guard looks at the addresses when the worker
// dials.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q: need http or https with a host", ErrInvalidURL, s)
	}
	return nil
}

// CheckSecret returns an error wrapping ErrInvalidSecret unless s is a
// Standard Webhooks signing secret: "whsec_" (optional) followed by the
// base64 of a non-empty key.
func CheckSecret(s string) error {
	if _, err := parseSecret(s); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSecret, err)
	}
	return nil
}
