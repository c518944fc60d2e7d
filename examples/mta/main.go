// Command mta is the bouncekit demo: a complete outbound mail flow on
// 127.0.0.1, with nothing to set up.
//
// It opens a bstore database, starts a "remote" SMTP server (go-smtp) that
// answers per recipient like real providers (accept, 550 5.1.1, 452 4.2.2
// then accept, 451 4.7.1 greylisting, 554 5.7.1 blocklist, a multi-line
// 550-5.7.26, 421, a reply without enhanced code), and a webhook receiver
// that verifies Standard Webhooks signatures and fails its first request.
// It queues messages and runs a real delivery loop (Due, SMTP with go-smtp's
// client, DeliveredMsgs or FailMsgs, commit) on a simulated clock that jumps
// to the next due time, so days of retries play out in seconds. DSNs land
// in a Maildir; one DSN arriving after acceptance is matched back through
// ProcessIncoming. At the end it prints what happened.
//
// Usage:
//
//	go run ./examples/mta [-policy default|mox] [-dir DIR] [-db PATH] [-metrics ADDR] [-q]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("mta: ")
	dir := flag.String("dir", "", "working directory for the database and Maildir (default: a new temporary directory)")
	dbPath := flag.String("db", "", "database file to use and keep (default: DIR/bouncekit.db)")
	policy := flag.String("policy", "default", "retry policy: default (RFC 5321, 5 days) or mox")
	metrics := flag.String("metrics", "", "serve Prometheus metrics on this address, e.g. 127.0.0.1:9090")
	quiet := flag.Bool("q", false, "no progress lines, only the summary")
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}

	cfg := config{Dir: *dir, DBPath: *dbPath, Policy: *policy, Progress: os.Stdout}
	if *quiet {
		cfg.Progress = nil
	}
	if cfg.Dir == "" {
		d, err := tempDir()
		if err != nil {
			log.Fatal(err)
		}
		cfg.Dir = d
	}
	if *metrics != "" {
		cfg.Registry = prometheus.NewRegistry()
		l, err := net.Listen("tcp", *metrics)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("metrics on http://%s/metrics\n", l.Addr())
		go func() {
			err := http.Serve(l, promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
			if err != nil && !errors.Is(err, net.ErrClosed) {
				log.Print(err)
			}
		}()
	}

	fmt.Printf("bouncekit demo: %s retry policy, simulated clock starting %s\n", cfg.Policy, start.Format("2006-01-02 15:04 MST"))
	s, err := run(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	s.Print(os.Stdout)
}
