// Package webhook defines the delivery events applications receive over HTTP
// and the durable queue that delivers them.
package webhook
