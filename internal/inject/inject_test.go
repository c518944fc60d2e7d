package inject

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := Now(func() time.Time { return fixed }); !got.Equal(fixed) {
		t.Errorf("Now with a clock = %v", got)
	}
	before := time.Now()
	if got := Now(nil); got.Before(before) {
		t.Errorf("Now(nil) = %v, before %v", got, before)
	}

	c := make(chan time.Time, 1)
	c <- fixed
	if got := <-After(func(d time.Duration) <-chan time.Time {
		if d != time.Hour {
			t.Errorf("After passed %v", d)
		}
		return c
	}, time.Hour); !got.Equal(fixed) {
		t.Errorf("After with a timer func = %v", got)
	}
	if got := <-After(nil, 0); got.IsZero() {
		t.Errorf("After(nil, 0) gave the zero time")
	}

	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	if Logger(l) != l {
		t.Errorf("Logger(l) is not l")
	}
	d := Logger(nil)
	d.Error("dropped")
	if d.Handler().Enabled(context.Background(), slog.LevelError) {
		t.Errorf("discarding logger enabled")
	}
	if d.With("a", 1).WithGroup("g").Handler().Enabled(context.Background(), slog.LevelError) {
		t.Errorf("derived discarding logger enabled")
	}
}
