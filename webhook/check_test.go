package webhook

import (
	"errors"
	"testing"
)

func TestCheckSecret(t *testing.T) {
	for _, tc := range []struct {
		secret string
		ok     bool
	}{
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true},
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true},
		{"whsec_", false},
		{"whsec_not base64!", false},
	} {
		err := CheckSecret(tc.secret)
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrInvalidSecret) {
			t.Errorf("CheckSecret(%q): %v, want ok %v", tc.secret, err, tc.ok)
		}
	}
}
