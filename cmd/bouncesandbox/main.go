// Command bouncesandbox runs bouncekit's sandbox for application
// developers: submit mail to its SMTP port, and the recipient's localpart
// chooses what the simulated remote server does; the application receives
// the webhooks it would receive in production. Nothing leaves the machine.
//
// Usage:
//
//	go run ./cmd/bouncesandbox [-webhook-url URL] [-webhook-secret whsec_...] [-speed N] [-dir DIR] [-smtp ADDR] [-http ADDR]
//
// With -speed 100 a minute of real time is 100 simulated minutes, so the
// five days of a retry schedule play out in 72 minutes. The conventions
// table is printed at start and by -help (see package sandbox). Stop it
// with an interrupt (Ctrl-C).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/bouncekit/bouncekit/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	} else if errors.Is(err, errUsage) {
		os.Exit(2)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "bouncesandbox:", err)
		os.Exit(1)
	}
}

// errUsage is returned by run for bad command-line arguments, after the
// usage is printed.
var errUsage = errors.New("bad usage")

// run runs the sandbox until ctx is done, printing to stdout what to do and
// one line per event.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (rerr error) {
	fs := flag.NewFlagSet("bouncesandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	webhookURL := fs.String("webhook-url", "", "URL that receives the webhooks, e.g. http://127.0.0.1:8080/hook (loopback allowed); empty: none are sent")
	secret := fs.String("webhook-secret", "", `Standard Webhooks signing secret ("whsec_" and base64); empty: unsigned`)
	speed := fs.Float64("speed", 1, "how many times faster than real time the clock runs")
	dir := fs.String("dir", "", "directory for the database and DSNs (default: a new temporary directory, kept)")
	smtpAddr := fs.String("smtp", "127.0.0.1:1587", "submission listener address (SMTP, no authentication)")
	httpAddr := fs.String("http", "127.0.0.1:1080", "HTTP listener address; empty: none")
	account := fs.String("account", sandbox.DefaultAccount, "account every submitted message belongs to")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: bouncesandbox [flags]\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nThe simulated remote server answers by the recipient's localpart:\n\n%s", sandbox.Conventions)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() != 0 || *speed < 1 {
		fs.Usage()
		return errUsage
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "bouncesandbox-")
		if err != nil {
			return err
		}
		*dir = d
	}

	var mu sync.Mutex
	clock := sandbox.NewScaledClock(time.Time{}, *speed)
	sb, err := sandbox.New(sandbox.Config{
		Dir:            *dir,
		SubmissionAddr: *smtpAddr,
		HTTPAddr:       *httpAddr,
		WebhookURL:     *webhookURL,
		WebhookSecret:  *secret,
		Account:        *account,
		Clock:          clock,
		OnEvent: func(e sandbox.Event) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(stdout, e)
		},
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := sb.Close(); err != nil && rerr == nil {
			rerr = err
		}
	}()

	// The HTTP API's methods that send nothing are to be mounted on sb.Mux
	// here, over sb.DB, sb.Handler, sb.Suppressions and sb.Hooks, for
	// sb.Account().
	mu.Lock()
	printStart(stdout, sb, clock, *dir, *webhookURL)
	mu.Unlock()
	return sb.Run(ctx)
}

// printStart says what the sandbox is and what to do next.
func printStart(w io.Writer, sb *sandbox.Sandbox, clock *sandbox.ScaledClock, dir, webhookURL string) {
	sub := sb.SubmissionAddr().String()
	fmt.Fprintf(w, "bouncekit sandbox, clock at %s, speed %g\n", clock.Now().UTC().Format("2006-01-02 15:04:05"), clock.Speed())
	fmt.Fprintf(w, "directory: %s (database bouncekit.db, DSNs to senders in dsn/)\n", dir)
	fmt.Fprintf(w, "submission: smtp://%s (no authentication; account %q)\n", sub, sb.Account())
	if webhookURL != "" {
		fmt.Fprintf(w, "webhooks: POST %s\n", webhookURL)
	} else {
		fmt.Fprintf(w, "webhooks: none (set -webhook-url to receive them)\n")
	}
	if a := sb.HTTPAddr(); a != nil {
		fmt.Fprintf(w, "http: http://%s/\n", a)
	}
	host, port, _ := net.SplitHostPort(sub)
	fmt.Fprintf(w, "\nTry:\n")
	fmt.Fprintf(w, "  swaks --server %s --port %s --from app@example.org --to bob-asyncdsn@example.com\n", host, port)
	fmt.Fprintf(w, "  printf 'Subject: hello\\r\\n\\r\\nhi\\r\\n' | curl -sS smtp://%s --mail-from app@example.org --mail-rcpt bob-greylist@example.com -T -\n", sub)
	fmt.Fprintf(w, "\nThe simulated remote server answers by the recipient's localpart:\n\n%s\nEvents:\n", sandbox.Conventions)
}
