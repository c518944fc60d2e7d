package sandbox

import (
	"context"
	"net"
	"sync"
	"time"
)

// clockDialer dials TCP connections whose deadlines run on a Clock: a
// deadline set d from now (real time, as the delivery client and go-smtp
// compute it) expires when d has passed on the clock. So the client's SMTP
// timeouts take their simulated length: minutes at real speed, seconds at
// speed 100, and exactly when a test moves a manual clock.
type clockDialer struct {
	clock Clock

	mu    sync.Mutex
	conns map[string]*clockConn // By local address: the simulator sees it as the remote address.
}

func newClockDialer(clock Clock) *clockDialer {
	return &clockDialer{clock: clock, conns: map[string]*clockConn{}}
}

// DialContext implements delivery.Dialer.
func (d *clockDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	c := &clockConn{Conn: nc, d: d, changed: make(chan struct{})}
	d.mu.Lock()
	d.conns[nc.LocalAddr().String()] = c
	d.mu.Unlock()
	return c, nil
}

// lookup returns the connection with local address addr, or nil.
func (d *clockDialer) lookup(addr string) *clockConn {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conns[addr]
}

// clockConn is a connection whose deadlines run on the dialer's clock.
type clockConn struct {
	net.Conn
	d *clockDialer

	mu      sync.Mutex
	read    deadline
	write   deadline
	closed  bool
	changed chan struct{} // Closed and replaced when the read deadline changes.
}

// deadline is one armed deadline: a goroutine waits on the clock until at,
// unless stop is closed first.
type deadline struct {
	at   time.Time // On the clock; zero: none.
	stop chan struct{}
}

// SetDeadline implements net.Conn.
func (c *clockConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline implements net.Conn.
func (c *clockConn) SetReadDeadline(t time.Time) error {
	return c.set(&c.read, t, c.Conn.SetReadDeadline)
}

// SetWriteDeadline implements net.Conn.
func (c *clockConn) SetWriteDeadline(t time.Time) error {
	return c.set(&c.write, t, c.Conn.SetWriteDeadline)
}

// set replaces deadline dl by t, a real time, on the clock.
func (c *clockConn) set(dl *deadline, t time.Time, apply func(time.Time) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if dl.stop != nil {
		close(dl.stop)
		*dl = deadline{}
	}
	if dl == &c.read {
		close(c.changed)
		c.changed = make(chan struct{})
	}
	// Clear an expired deadline of the real connection.
	if err := apply(time.Time{}); err != nil || t.IsZero() || c.closed {
		return err
	}
	d := time.Until(t)
	stop := make(chan struct{})
	*dl = deadline{at: c.d.clock.Now().Add(d), stop: stop}
	timer := c.d.clock.After(d)
	go func() {
		select {
		case <-timer:
			c.mu.Lock()
			defer c.mu.Unlock()
			if dl.stop == stop {
				// A deadline in the past fails the pending and next
				// operations with os.ErrDeadlineExceeded, as the real
				// deadline would.
				apply(time.Unix(1, 0))
			}
		case <-stop:
		}
	}()
	return nil
}

// readDeadline waits until a read deadline is armed and returns it (on the
// clock), or the zero time when ctx is done or the connection is closed.
func (c *clockConn) readDeadline(ctx context.Context) time.Time {
	for {
		c.mu.Lock()
		at, closed, changed := c.read.at, c.closed, c.changed
		c.mu.Unlock()
		if !at.IsZero() || closed {
			return at
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return time.Time{}
		}
	}
}

// Close implements net.Conn; it stops the deadline timers.
func (c *clockConn) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		for _, dl := range []*deadline{&c.read, &c.write} {
			if dl.stop != nil {
				close(dl.stop)
				*dl = deadline{}
			}
		}
		close(c.changed)
		c.changed = make(chan struct{})
	}
	c.mu.Unlock()
	c.d.mu.Lock()
	if c.d.conns[c.LocalAddr().String()] == c {
		delete(c.d.conns, c.LocalAddr().String())
	}
	c.d.mu.Unlock()
	return c.Conn.Close()
}
