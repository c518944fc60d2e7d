package webhook

import (
	"errors"
	"testing"
)

func TestCheckURLAndSecret(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://app.example.org/hook", true},
		{"http://127.0.0.1:8080/x", true},
		{"ftp://app.example.org/", false},
		{"https:///nohost", false},
		{"://bad", false},
		{"", false},
		{"app.example.org/hook", false},
	} {
		err := CheckURL(tc.url)
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrInvalidURL) {
			t.Errorf("CheckURL(%q): %v, want ok %v", tc.url, err, tc.ok)
		}
	}
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
