package sandbox

import (
	"time"
)

// Clock is the sandbox's time: the Handler, the webhook queue, the delivery
// loop, the client's SMTP timeouts and the simulator's later events all use
// it. *queuetest.Clock implements it for tests; ScaledClock runs real time,
// or faster.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// ScaledClock is a clock that runs Speed times faster than real time from
// a start: now is start plus the real time elapsed since the clock was made,
// times Speed. Its timers are real timers of the duration divided by Speed,
// so a retry due in an hour fires after 36 real seconds at speed 100.
type ScaledClock struct {
	start     time.Time
	speed     float64
	realStart time.Time
	realNow   func() time.Time
	afterFunc func(time.Duration, func())
}

var _ Clock = (*ScaledClock)(nil)

// NewScaledClock returns a clock that starts at start (zero: now) and runs
// speed times faster than real time (speed at most 1: real time).
func NewScaledClock(start time.Time, speed float64) *ScaledClock {
	return newScaledClock(start, speed, time.Now, func(d time.Duration, f func()) { time.AfterFunc(d, f) })
}

// newScaledClock is NewScaledClock on a given real clock.
func newScaledClock(start time.Time, speed float64, now func() time.Time, afterFunc func(time.Duration, func())) *ScaledClock {
	if speed < 1 {
		speed = 1
	}
	realStart := now()
	if start.IsZero() {
		start = realStart
	}
	return &ScaledClock{start: start, speed: speed, realStart: realStart, realNow: now, afterFunc: afterFunc}
}

// Speed returns how many times faster than real time the clock runs.
func (c *ScaledClock) Speed() float64 { return c.speed }

// Now returns the clock's time.
func (c *ScaledClock) Now() time.Time {
	elapsed := c.realNow().Sub(c.realStart)
	return c.start.Add(time.Duration(float64(elapsed) * c.speed))
}

// After returns a channel that receives the clock's time once d has passed
// on the clock, like time.After. No goroutine waits for it: a timer that
// is never read does not keep one alive.
func (c *ScaledClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.afterFunc(time.Duration(float64(d)/c.speed), func() { ch <- c.Now() })
	return ch
}
