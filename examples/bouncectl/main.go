package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program but for the process: it parses args, runs the
// command and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	hostname, _ := os.Hostname()
	c := &cli{
		stdin:    os.Stdin,
		stdout:   stdout,
		stderr:   stderr,
		now:      time.Now,
		loc:      time.Local,
		hostname: hostname,
		getenv:   os.Getenv,
	}
	return c.run(ctx, args)
}
