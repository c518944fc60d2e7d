// Command mta is the bouncekit demo. For now it classifies a few sample
// delivery errors, shows what the default retry policy does with each, and
// prints the retry schedules of DefaultPolicy and MoxPolicy. The full
// end-to-end demo follows.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/bouncekit/bouncekit/queue"
)

func main() {
	samples := []error{
		&queue.SMTPError{Code: 550, EnhancedCode: "5.1.1", Command: "rcpt", Line: "The email account that you tried to reach does not exist."},
		&queue.SMTPError{Code: 450, EnhancedCode: "4.2.0", Command: "rcpt", Line: "<bob@example.com>: Recipient address rejected: Greylisted"},
		&queue.SMTPError{Code: 452, EnhancedCode: "4.2.2", Command: "rcpt", Line: "Mailbox full"},
		fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
		&net.DNSError{Err: "no such host", Name: "example.invalid", IsNotFound: true},
		errors.New("something unexpected"),
	}

	queued := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	m := queue.Msg{Queued: queued, SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com"}
	policy := queue.DefaultPolicy()
	fmt.Println("Classify, then DefaultPolicy's decision after a first failed attempt:")
	for _, err := range samples {
		f := queue.Classify(err)
		d := policy.Decide(m, f, queued, nil)
		then := "give up: " + string(d.GiveUp)
		if d.Retry {
			then = "retry in " + d.NextAttempt.Sub(queued).String()
		}
		fmt.Printf("  %-60.60q permanent=%-5v code=%d %-5s reason=%-12s %s\n", err.Error(), f.Permanent, f.Code, f.EnhancedCode, f.Reason, then)
	}

	for _, p := range []struct {
		name   string
		policy queue.RetryPolicy
	}{{"DefaultPolicy", queue.DefaultPolicy()}, {"MoxPolicy", queue.MoxPolicy()}} {
		fmt.Printf("\n%s: attempts of a message that never gets through (no jitter):\n", p.name)
		for i, a := range p.policy.Plan(queued, 0) {
			line := fmt.Sprintf("  %2d  +%-10v", i+1, a.At.Sub(queued))
			if a.DelayedDSN {
				line += "  then a delayed DSN"
			}
			if a.GiveUp != "" {
				line += "  then give up: " + string(a.GiveUp)
			}
			fmt.Println(strings.TrimRight(line, " "))
		}
	}
}
