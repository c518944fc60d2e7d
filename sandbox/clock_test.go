package sandbox

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/queue/queuetest"
)

func TestScaledClock(t *testing.T) {
	realStart := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	simStart := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	real := realStart
	var timers []time.Duration
	var fire []func()
	c := newScaledClock(simStart, 100, func() time.Time { return real }, func(d time.Duration, f func()) {
		timers = append(timers, d)
		fire = append(fire, f)
	})
	if got := c.Now(); !got.Equal(simStart) {
		t.Errorf("now at start %v", got)
	}
	real = realStart.Add(36 * time.Second)
	if got, want := c.Now(), simStart.Add(time.Hour); !got.Equal(want) {
		t.Errorf("after 36 real seconds at speed 100: %v, want %v", got, want)
	}
	ch := c.After(5 * 24 * time.Hour)
	if len(timers) != 1 || timers[0] != 72*time.Minute {
		t.Fatalf("real timers %v, want 1h12m for 5 days at speed 100", timers)
	}
	select {
	case <-ch:
		t.Fatalf("timer fired early")
	default:
	}
	real = real.Add(72 * time.Minute)
	fire[0]()
	if got, want := <-ch, simStart.Add(time.Hour+5*24*time.Hour); !got.Equal(want) {
		t.Errorf("timer value %v, want %v", got, want)
	}

	for _, speed := range []float64{0, -3, 0.5} {
		if got := newScaledClock(simStart, speed, time.Now, nil).Speed(); got != 1 {
			t.Errorf("speed %v gives %v, want 1", speed, got)
		}
	}
	if got := NewScaledClock(time.Time{}, 1).Now(); time.Since(got) > time.Minute || time.Until(got) > time.Minute {
		t.Errorf("zero start is not now: %v", got)
	}
}

// TestClockDeadline checks that a connection's deadline expires on the
// clock, and that a deadline replaced or cleared in time does not.
func TestClockDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	clock := queuetest.NewClock(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	d := newClockDialer(clock)
	c, err := d.DialContext(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	defer server.Close()
	cc := d.lookup(server.RemoteAddr().String())
	if cc == nil {
		t.Fatalf("connection not found by the server's view of its address")
	}

	// Cleared before the clock passes it: a read later gets its data.
	if err := c.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := cc.readDeadline(context.Background()).Sub(clock.Now()); got <= 59*time.Second || got > time.Minute {
		t.Errorf("read deadline %v after now on the clock, want a minute", got)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := server.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if _, err := c.Read(buf); err != nil {
		t.Fatalf("read after a cleared deadline: %v", err)
	}

	// Armed: the blocked read fails with a timeout once the clock passes
	// the deadline, not before.
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		readErr <- err
	}()
	clock.Advance(10 * time.Minute)
	err = <-readErr
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read error %v, want a timeout", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d.lookup(server.RemoteAddr().String()) != nil {
		t.Errorf("closed connection still registered")
	}
	if at := cc.readDeadline(context.Background()); !at.IsZero() {
		t.Errorf("closed connection has read deadline %v", at)
	}
}
