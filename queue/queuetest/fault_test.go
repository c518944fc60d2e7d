package queuetest

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
)

// TestFaultSchedule checks which calls a Fault fails.
func TestFaultSchedule(t *testing.T) {
	errOwn := errors.New("own")
	for _, tc := range []struct {
		name  string
		f     *Fault
		heal  int // Heal before this call (from 1); 0: never.
		fails []bool
		err   error
	}{
		{"nil fails none", nil, 0, []bool{false, false, false}, nil},
		{"zero fails all", &Fault{}, 0, []bool{true, true, true}, ErrInjected},
		{"skip", &Fault{Skip: 2}, 0, []bool{false, false, true, true}, ErrInjected},
		{"times", &Fault{Times: 2}, 0, []bool{true, true, false, false}, ErrInjected},
		{"skip and times", &Fault{Skip: 1, Times: 1, Err: errOwn}, 0, []bool{false, true, false}, errOwn},
		{"heal", &Fault{}, 3, []bool{true, true, false, false}, ErrInjected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []bool
			for i := range tc.fails {
				if i+1 == tc.heal {
					tc.f.Heal()
				}
				err := tc.f.before()
				if err != nil && err != tc.err {
					t.Fatalf("call %d: error %v, want %v", i+1, err, tc.err)
				}
				got = append(got, err != nil)
			}
			if !reflect.DeepEqual(got, tc.fails) {
				t.Fatalf("failing calls %v, want %v", got, tc.fails)
			}
			failed := 0
			for _, b := range tc.fails {
				if b {
					failed++
				}
			}
			if tc.f != nil && (tc.f.Calls() != len(tc.fails) || tc.f.Failed() != failed) {
				t.Fatalf("counted %d calls, %d failed; want %d, %d", tc.f.Calls(), tc.f.Failed(), len(tc.fails), failed)
			}
		})
	}
}

// TestFaultLate checks that a Late fault lets the call reach Next, and an
// early one does not.
func TestFaultLate(t *testing.T) {
	for _, late := range []bool{false, true} {
		c := &Composer{}
		fc := FaultyComposer{Next: c, Fault: &Fault{Late: late}}
		if _, err := fc.ComposeDSN(queue.DSNRequest{Kind: queue.DSNFailed}); !errors.Is(err, ErrInjected) {
			t.Fatalf("late %v: got %v, want the injected error", late, err)
		}
		if got := len(c.Requests); got != map[bool]int{false: 0, true: 1}[late] {
			t.Fatalf("late %v: next got %d calls", late, got)
		}
	}
	if _, err := (FaultyComposer{}).ComposeDSN(queue.DSNRequest{}); !errors.Is(err, ErrNoNext) {
		t.Fatalf("without next: got %v", err)
	}
}

// TestFaultyOpenerReader checks the reader of a ReadFault: ReadAfter bytes,
// then the injected error.
func TestFaultyOpenerReader(t *testing.T) {
	ms := &Messages{Default: []byte("Subject: hi\r\n\r\nbody\r\n")}
	o := FaultyOpener{Next: ms, ReadFault: &Fault{Times: 1}, ReadAfter: 4}
	for i, want := range []string{"Subj", "Subject: hi\r\n\r\nbody\r\n"} {
		r, err := o.OpenMessage((*bstore.Tx)(nil), queue.Msg{ID: 1})
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if string(data) != want || (i == 0) != errors.Is(err, ErrInjected) {
			t.Fatalf("open %d: read %q, %v; want %q", i+1, data, err, want)
		}
	}
}

// TestClockWaitTimers checks that WaitTimers returns once a timer is
// pending, and gives up with ctx.
func TestClockWaitTimers(t *testing.T) {
	c := NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	done := make(chan error, 1)
	go func() { done <- c.WaitTimers(context.Background(), 1) }()
	ch := c.After(time.Minute)
	if err := <-done; err != nil {
		t.Fatalf("wait: %v", err)
	}
	if c.Timers() != 1 {
		t.Fatalf("%d timers, want 1", c.Timers())
	}
	c.Advance(time.Minute)
	<-ch
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.WaitTimers(ctx, 1); err == nil || !strings.Contains(err.Error(), "waiting for 1 timers") {
		t.Fatalf("wait with canceled ctx: %v", err)
	}
}
