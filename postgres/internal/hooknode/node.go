// Package hooknode is one webhook delivery node for the multi-node test and
// benchmarks of package riverhook: the test binary starts copies of itself
// with EnvNode set, and their TestMain calls Main instead of running tests.
// A node delivers with riverhook.Queue.Run against the schema the parent
// names: it prints "ready <river client id>" once it is open, starts
// delivering when it reads the line "go", and stops when its standard
// input closes (the parent ends it so) or when it is killed.
package hooknode

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
)

// Environment of a node process.
const (
	EnvNode     = "BOUNCEKIT_HOOKNODE"          // The node's name; set, the process is a node.
	EnvConn     = "BOUNCEKIT_HOOKNODE_CONN"     // PostgreSQL connection string.
	EnvSchema   = "BOUNCEKIT_HOOKNODE_SCHEMA"   // Schema of the shared tables.
	EnvWorkers  = "BOUNCEKIT_HOOKNODE_WORKERS"  // Deliveries in flight; 0: riverhook's default.
	EnvCooldown = "BOUNCEKIT_HOOKNODE_COOLDOWN" // Config.FetchCooldown, a time.ParseDuration string; empty: the default.
)

// Timing of test nodes: an attempt lasts at most Timeout plus riverhook's
// allowance for recording it, and a dead node's jobs are rescued after
// RescueAfter, which Open requires to be longer.
const (
	Timeout     = 2 * time.Second
	RescueAfter = 6 * time.Second
)

// IsNode says whether this process was started as a node.
func IsNode() bool { return os.Getenv(EnvNode) != "" }

// Main runs the node until standard input closes and returns its exit
// code.
func Main() int {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "hooknode %s: %v\n", os.Getenv(EnvNode), err)
		return 1
	}
	return 0
}

func run(stdin io.Reader, stdout io.Writer) error {
	ctx := context.Background()
	name := os.Getenv(EnvNode)
	config, err := pgxpool.ParseConfig(os.Getenv(EnvConn))
	if err != nil {
		return err
	}
	config.ConnConfig.RuntimeParams["search_path"] = os.Getenv(EnvSchema)
	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		return err
	}
	defer pool.Close()
	workers, _ := strconv.Atoi(os.Getenv(EnvWorkers))
	var cooldown time.Duration
	if s := os.Getenv(EnvCooldown); s != "" {
		if cooldown, err = time.ParseDuration(s); err != nil {
			return err
		}
	}
	q, err := riverhook.Open(ctx, pool, riverhook.Config{
		Sender: &hookqueue.Sender{
			Transport: hookqueue.NewTransport(Loopback(), max(workers, riverhook.DefaultWorkers)),
			Timeout:   Timeout,
			UserAgent: UserAgent(name),
		},
		// Rescued jobs are retried soon, so the test need not wait.
		Schedule:      []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond},
		Workers:       workers,
		FetchCooldown: cooldown,
		Node:          name,
		RescueAfter:   RescueAfter,
	})
	if err != nil {
		return err
	}
	// All nodes start delivering together, when the parent says "go":
	// a benchmark measures them all, not the first one up.
	fmt.Fprintf(stdout, "ready %s\n", q.Client().ID())
	in := bufio.NewReader(stdin)
	if line, err := in.ReadString('\n'); err != nil || line != "go\n" {
		return nil // Ended before it began.
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- q.Run(runCtx) }()
	_, _ = io.Copy(io.Discard, in)
	cancel()
	return <-done
}

// UserAgent is the User-Agent of a node's requests, so the receiver of a
// test knows which node sent a request.
func UserAgent(node string) string { return "bouncekit-hooknode/" + node }

// Loopback is the networks a test node may deliver to.
func Loopback() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}
