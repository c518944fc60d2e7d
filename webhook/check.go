package webhook

import (
	"errors"
	"fmt"
)

// ErrInvalidSecret is returned (wrapped) by CheckSecret.
var ErrInvalidSecret = errors.New("webhook: invalid signing secret")

// CheckSecret returns an error wrapping ErrInvalidSecret unless s is a
// Standard Webhooks signing secret: "whsec_" (optional) followed by the
// base64 of a non-empty key.
func CheckSecret(s string) error {
	if _, err := parseSecret(s); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSecret, err)
	}
	return nil
}
