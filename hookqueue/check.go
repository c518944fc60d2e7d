package hookqueue

import (
	"errors"
	"fmt"
	"net/url"
)

// ErrInvalidURL is returned (wrapped) by CheckURL and Queue.Enqueue.
var ErrInvalidURL = errors.New("hookqueue: invalid url")

// CheckURL returns an error wrapping ErrInvalidURL unless s is an absolute
// http or https URL with a host, as Queue.Enqueue requires. It does not
// resolve the host: the SSRF guard looks at the addresses when the worker
// dials.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: parsing url: %w", ErrInvalidURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q: need http or https with a host", ErrInvalidURL, s)
	}
	return nil
}
