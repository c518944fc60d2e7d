package main

import (
	"sync"
	"time"
)

// simClock is the demo's simulated clock. The delivery loop moves it forward
// to the next due time, so days of retries play out in seconds. Timers made
// with After fire when the clock passes them.
type simClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []simWaiter
}

type simWaiter struct {
	at time.Time
	c  chan time.Time
}

func newSimClock(start time.Time) *simClock {
	return &simClock{now: start}
}

// Now returns the simulated time.
func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the simulated time once the clock
// has moved d past now.
func (c *simClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := c.now.Add(d)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, simWaiter{at, ch})
	return ch
}

// Set moves the clock to t (never backwards) and fires the timers due.
func (c *simClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			keep = append(keep, w)
		} else {
			w.c <- c.now
		}
	}
	c.waiters = keep
}
