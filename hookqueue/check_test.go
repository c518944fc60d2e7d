package hookqueue

import (
	"errors"
	"testing"
)

func TestCheckURL(t *testing.T) {
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
}
