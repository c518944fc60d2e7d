// Package inject holds the defaults of what bouncekit's types let a host
// inject: the clock, timers and the logger. Handler, hookqueue.Queue and
// suppression.Store each have Now, After and Logger fields whose zero value
// means the real clock and no logging; this package is the one definition
// of those defaults.
package inject

import (
	"context"
	"log/slog"
	"time"
)

// Now returns now(), or time.Now() when now is nil.
func Now(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// After returns after(d), or time.After(d) when after is nil.
func After(after func(time.Duration) <-chan time.Time, d time.Duration) <-chan time.Time {
	if after != nil {
		return after(d)
	}
	return time.After(d)
}

// Logger returns l, or a logger that discards everything when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return discard
}

var discard = slog.New(discardHandler{})

// discardHandler drops all records (slog.DiscardHandler needs Go 1.24).
type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (d discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discardHandler) WithGroup(string) slog.Handler           { return d }
