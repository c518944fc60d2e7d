// Package promreg registers a package's Prometheus collectors the one way
// every NewMetrics in the module does: on the registry the host passes
// (nil: none, the collectors still count), all or none, with the error
// naming the package.
package promreg

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers cs on reg. A nil reg registers nothing. If one
// collector cannot be registered (typically: the same names are already
// registered), the ones registered before it are unregistered again, so a
// failed NewMetrics leaves reg as it was, and the error, wrapped, starts
// with pkg, e.g. "queue: registering metrics: ...".
func Register(reg prometheus.Registerer, pkg string, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return fmt.Errorf("%s: registering metrics: %w", pkg, err)
		}
	}
	return nil
}
