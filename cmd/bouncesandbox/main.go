// Command bouncesandbox runs bouncekit's sandbox for application
// developers: submit mail to its SMTP port, and the recipient's localpart
// chooses what the simulated remote server does; the application receives
// the webhooks it would receive in production. Nothing leaves the machine.
//
// Usage:
//
//	go run ./cmd/bouncesandbox [-webhook-url URL] [-webhook-secret whsec_...] [-speed N] [-dir DIR] [-smtp ADDR] [-http ADDR] [-api-password PW]
//
// With -speed 100 a minute of real time is 100 simulated minutes, so the
// five days of a retry schedule play out in 72 minutes. The conventions
// table is printed at start and by -help (see package sandbox). Stop it
// with an interrupt (Ctrl-C).
//
// The HTTP listener also serves the HTTP API (package webapi) at
// /webapi/v0/, with basic authentication as the sandbox's account and
// -api-password: the suppression list (mox-compatible), the queue, retired
// messages and webhook history of the sandbox, so an application's API
// client can be tried against it too. Nothing in the API sends mail.
package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bouncekit/bouncekit/sandbox"
	"github.com/bouncekit/bouncekit/webapi"
)

// apiPath is where the HTTP API is mounted on the sandbox's HTTP listener.
const apiPath = "/webapi/v0/"

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
	apiPassword := fs.String("api-password", "sandbox", "password of the HTTP API at "+apiPath+" (basic authentication, user: the account)")
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

	mountAPI(sb, *apiPassword, clock.Now)
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
		fmt.Fprintf(w, "api: http://%s%s (basic authentication: user %q, -api-password)\n", a, apiPath, sb.Account())
	}
	host, port, _ := net.SplitHostPort(sub)
	fmt.Fprintf(w, "\nTry:\n")
	fmt.Fprintf(w, "  swaks --server %s --port %s --from app@example.org --to bob-asyncdsn@example.com\n", host, port)
	fmt.Fprintf(w, "  printf 'Subject: hello\\r\\n\\r\\nhi\\r\\n' | curl -sS smtp://%s --mail-from app@example.org --mail-rcpt bob-greylist@example.com -T -\n", sub)
	if a := sb.HTTPAddr(); a != nil {
		fmt.Fprintf(w, "  curl -sS -u %s:PASSWORD http://%s%sSuppressionList -d 'request={}'\n", sb.Account(), a, apiPath)
	}
	fmt.Fprintf(w, "\nThe simulated remote server answers by the recipient's localpart:\n\n%s\nEvents:\n", sandbox.Conventions)
}

// mountAPI serves the HTTP API on the sandbox's HTTP listener, over its
// database, Handler, suppression list and webhook queue, for its one
// account. A change to the queue through the API wakes the delivery loop.
func mountAPI(sb *sandbox.Sandbox, password string, now func() time.Time) {
	account := sb.Account()
	auth := func(_ context.Context, user, pass string) (webapi.Identity, error) {
		userOK := subtle.ConstantTimeCompare([]byte(user), []byte(account))
		passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(password))
		if userOK&passOK != 1 {
			return webapi.Identity{}, webapi.ErrBadCredentials
		}
		return webapi.Identity{Account: account}, nil
	}
	api := &webapi.Server{
		DB:           sb.DB,
		Handler:      sb.Handler,
		Hooks:        sb.Hooks,
		Suppressions: sb.Suppressions,
		Auth:         webapi.BasicAuth(auth),
		QueueChanged: sb.Kick,
		Now:          now,
	}
	sb.Mux.Handle(apiPath, http.StripPrefix(strings.TrimSuffix(apiPath, "/"), api))
}
