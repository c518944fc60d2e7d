// Command soak runs the bouncekit soak: a simulated delivery loop that
// pushes many messages through the default retry schedule on a simulated
// clock, on an on-disk bstore database, with 10% permanent and 30%
// temporary failures, 5% late DSNs matched by FromID, webhooks POSTed to a
// loopback receiver by hookqueue.Queue.Run and DSNs delivered by
// Handler.Run. It prints a ledger that must balance (delivered + failed +
// suppressed + still queued = added; webhooks delivered = committed; DSNs
// delivered = committed), throughput per phase, peak RSS and the database
// size, and exits 1 when an equation fails.
//
// It is opt-in: scripts/soak runs it with a million messages; go test
// runs a small smoke test.
//
// Usage:
//
//	go run ./internal/soak [-n messages] [-seed n] [-dir dir] [-rate per-minute]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
)

func main() {
	os.Exit(soakMain())
}

// soakMain runs the soak from the command line and returns the exit code:
// 2 when it could not be completed, 1 when the ledger does not balance.
func soakMain() int {
	var cfg config
	flag.Int64Var(&cfg.Msgs, "n", 10000, "messages (recipients) to add")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "workload seed")
	flag.StringVar(&cfg.Dir, "dir", "", "directory for the database (kept); default a temporary directory, removed after")
	flag.Int64Var(&cfg.Rate, "rate", 1000, "messages added per simulated minute")
	flag.IntVar(&cfg.AddTx, "addtx", 500, "messages added per write transaction")
	flag.IntVar(&cfg.DueTx, "duetx", 500, "due messages attempted per write transaction")
	flag.DurationVar(&cfg.Tick, "tick", time.Minute, "least simulated time per round after the last message was added")
	quiet := flag.Bool("q", false, "no progress lines")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	// An interrupt ends the run (and writes the profile) without a report.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Printf("soak: %d messages, seed %d\n\n", rep.msgs, rep.seed)
	rep.print(os.Stdout)
	if !rep.ok() {
		fmt.Fprintln(os.Stderr, "soak: ledger broken")
		return 1
	}
	return 0
}
