package riverhook_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/postgres/internal/hooknode"
	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/webhook"
)

// EnvLong makes TestMultiNode deliver 100,000 hooks instead of 20,000.
const envLong = "BOUNCEKIT_MULTINODE_LONG"

// watchReceiver is the one endpoint of all nodes. It checks that a
// webhook-id is never in flight twice, and counts arrivals per id.
type watchReceiver struct {
	srv *httptest.Server

	mu        sync.Mutex
	open      map[string]bool
	arrivals  map[string]int
	overlaps  []string  // Ids that arrived while an earlier request of theirs was open.
	killed    time.Time // When a node was killed; zero before.
	early     []string  // Ids that arrived again before the kill.
	distinct  int
	first     time.Time
	last      time.Time
	threshold int
	reached   chan struct{} // Closed when distinct reaches threshold.
	all       int
	allC      chan struct{} // Closed when distinct reaches all.

	// Requests with User-Agent holdUA get no answer until release is
	// closed: the test kills their node while they are open. heldC gets
	// a value per held request.
	holdUA  string
	held    int
	heldC   chan struct{}
	release chan struct{}
}

func newWatchReceiver(all, threshold int) *watchReceiver {
	wr := &watchReceiver{
		open: map[string]bool{}, arrivals: map[string]int{},
		threshold: threshold, reached: make(chan struct{}),
		all: all, allC: make(chan struct{}),
		heldC: make(chan struct{}, 1000), release: make(chan struct{}),
	}
	wr.srv = httptest.NewServer(http.HandlerFunc(wr.serve))
	return wr
}

func (wr *watchReceiver) serve(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(webhook.HeaderID)
	now := time.Now()
	wr.mu.Lock()
	if wr.open[id] {
		wr.overlaps = append(wr.overlaps, id)
	}
	wr.open[id] = true
	wr.arrivals[id]++
	if wr.arrivals[id] == 1 {
		wr.distinct++
		if wr.distinct == wr.threshold {
			close(wr.reached)
		}
		if wr.distinct == wr.all {
			close(wr.allC)
		}
	} else if wr.killed.IsZero() {
		wr.early = append(wr.early, id)
	}
	if wr.first.IsZero() {
		wr.first = now
	}
	wr.last = now
	hold := wr.holdUA != "" && r.UserAgent() == wr.holdUA
	if hold {
		wr.held++
	}
	wr.mu.Unlock()

	if hold {
		select {
		case wr.heldC <- struct{}{}:
		default:
		}
		<-wr.release
	}
	w.WriteHeader(http.StatusNoContent)

	wr.mu.Lock()
	wr.open[id] = false
	wr.mu.Unlock()
}

func (wr *watchReceiver) markKilled() {
	wr.mu.Lock()
	wr.killed = time.Now()
	wr.mu.Unlock()
}

// node is a running node process.
type node struct {
	name  string
	id    string // River client ID.
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startNodes starts n node processes of this test binary on schema, each
// with workers deliveries in flight and the FetchCooldown cooldown (0:
// the default), and lets them all go at once.
func startNodes(tb testing.TB, n, workers int, cooldown time.Duration, connString, schema string) []*node {
	tb.Helper()
	var nodes []*node
	tb.Cleanup(func() {
		for _, nd := range nodes {
			if nd.cmd.ProcessState == nil {
				_ = nd.stdin.Close()
				_ = nd.cmd.Wait()
			}
		}
	})
	var outs []*bufio.Reader
	for i := range n {
		nd := &node{name: "node" + strconv.Itoa(i+1)}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			hooknode.EnvNode+"="+nd.name,
			hooknode.EnvConn+"="+connString,
			hooknode.EnvSchema+"="+schema,
			hooknode.EnvWorkers+"="+strconv.Itoa(workers),
		)
		if cooldown > 0 {
			cmd.Env = append(cmd.Env, hooknode.EnvCooldown+"="+cooldown.String())
		}
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			tb.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			tb.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		nd.cmd, nd.stdin = cmd, stdin
		nodes = append(nodes, nd)
		outs = append(outs, bufio.NewReader(stdout))
	}
	for i, nd := range nodes {
		line, err := outs[i].ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "ready ") {
			tb.Fatalf("%s did not start: %q, %v", nd.name, line, err)
		}
		nd.id = strings.TrimSpace(strings.TrimPrefix(line, "ready "))
	}
	for _, nd := range nodes {
		if _, err := io.WriteString(nd.stdin, "go\n"); err != nil {
			tb.Fatalf("%s: %v", nd.name, err)
		}
	}
	return nodes
}

// stop ends a node the friendly way and checks it exited cleanly.
func (nd *node) stop(tb testing.TB) {
	tb.Helper()
	_ = nd.stdin.Close()
	if err := nd.cmd.Wait(); err != nil {
		tb.Errorf("%s: %v", nd.name, err)
	}
}

// insertJobs inserts n hooks to url in batches, with webhook-ids
// "origin-<i>".
func insertJobs(tb testing.TB, q *riverhook.Queue, n int, url string) {
	tb.Helper()
	const batch = 1000
	for i := 0; i < n; i += batch {
		jobs := make([]riverhook.Job, 0, batch)
		for k := i; k < min(n, i+batch); k++ {
			jobs = append(jobs, riverhook.Job{
				WebhookID: "origin-" + strconv.Itoa(k),
				Account:   "acct" + strconv.Itoa(k%10),
				URL:       url,
				Payload:   webhook.Outgoing{Event: webhook.EventDelivered, QueueMsgID: int64(k + 1)},
			})
		}
		if _, err := q.Insert(context.Background(), jobs...); err != nil {
			tb.Fatalf("insert: %v", err)
		}
	}
}

// sharedSchema opens a pool and an insert-only queue on a new schema and
// returns them with the connection string and schema for nodes.
func sharedSchema(tb testing.TB) (*pgxpool.Pool, *riverhook.Queue, string, string) {
	tb.Helper()
	connString := pgtest.ConnString(tb)
	schema := pgtest.Schema(tb)
	config, err := pgtest.SchemaConfig(connString, schema)
	if err != nil {
		tb.Fatal(err)
	}
	pool := pgtest.Open(tb, config)
	q, err := riverhook.Open(context.Background(), pool, riverhook.Config{Sender: &hookqueue.Sender{Timeout: hooknode.Timeout}, RescueAfter: hooknode.RescueAfter})
	if err != nil {
		tb.Fatal(err)
	}
	return pool, q, connString, schema
}

// pickVictim picks the node to kill: River's leader if leader is set and
// one was elected, else a node that is not the leader. Killing the leader
// adds River's re-election (its TTL) to the time before the dead node's
// jobs are rescued, so the short run kills another node.
func pickVictim(t *testing.T, pool *pgxpool.Pool, nodes []*node, leader bool) (*node, bool) {
	t.Helper()
	var id string
	err := pool.QueryRow(context.Background(), `SELECT leader_id FROM river_leader`).Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("reading the leader: %v", err)
	}
	for _, nd := range nodes {
		if (nd.id == id) == leader {
			return nd, nd.id == id
		}
	}
	return nodes[1], nodes[1].id == id
}

// TestMultiNode runs 4 node processes against one database and one
// receiver, SIGKILLs one mid-run while it has requests open, and checks:
// every hook delivered, none in flight on two nodes at once, a hook sent
// again only after the kill (the killed node's unfinished jobs, rescued by
// River). With BOUNCEKIT_MULTINODE_LONG set it delivers 100,000 hooks and
// kills the leader.
func TestMultiNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	total := 20000
	if os.Getenv(envLong) != "" {
		total = 100000
	}
	pool, q, connString, schema := sharedSchema(t)
	wr := newWatchReceiver(total, total/3)
	defer wr.srv.Close()
	insertJobs(t, q, total, wr.srv.URL)

	start := time.Now()
	nodes := startNodes(t, 4, 0, 0, connString, schema) // riverhook's default Workers.
	deadline := time.After(3 * time.Minute)             // A bound for a broken test, not a timing assertion.
	select {
	case <-wr.reached:
	case <-deadline:
		t.Fatalf("not a third delivered")
	}
	// Hold the victim's next requests open, and kill it while they are:
	// the receiver has them, the node never learns, so River rescues
	// them and another node sends them again, the duplicates expected.
	victim, leader := pickVictim(t, pool, nodes, os.Getenv(envLong) != "")
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(wr.release) }) }
	defer release()
	wr.mu.Lock()
	wr.holdUA = hooknode.UserAgent(victim.name)
	wr.mu.Unlock()
	select {
	case <-wr.heldC:
	case <-deadline:
		t.Fatalf("no request of %s held", victim.name)
	}
	wr.markKilled()
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := victim.cmd.Wait()
	if ws, ok := victim.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s did not die of SIGKILL: %v", victim.name, err)
	}
	killedAt := time.Since(start)
	release()
	wr.mu.Lock()
	held := wr.held
	wr.mu.Unlock()

	select {
	case <-wr.allC:
	case <-deadline:
		t.Fatalf("not all delivered")
	}
	// The killed node's jobs that reached the receiver before it died are
	// still "running" until River's leader rescues them: wait for every
	// job to complete, then the duplicates are all in.
	ctx := context.Background()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var left int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state <> 'completed'`).Scan(&left)
		tcheck(t, err, "counting jobs")
		if left == 0 {
			break
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%d jobs not completed", left)
		}
	}
	elapsed := time.Since(start)
	for _, nd := range nodes {
		if nd != victim {
			nd.stop(t)
		}
	}

	wr.mu.Lock()
	defer wr.mu.Unlock()
	missing, dups := 0, 0
	for i := range total {
		n := wr.arrivals["origin-"+strconv.Itoa(i)]
		if n == 0 {
			missing++
		}
		dups += max(0, n-1)
	}
	perNode := map[string]int{}
	rows, err := pool.Query(ctx, `SELECT node, count(*) FROM bouncekit_hook_attempt GROUP BY node ORDER BY node`)
	tcheck(t, err, "attempts per node")
	for rows.Next() {
		var name string
		var n int
		tcheck(t, rows.Scan(&name, &n), "scan")
		perNode[name] = n
	}
	tcheck(t, rows.Err(), "rows")
	t.Logf("%d hooks, 4 nodes, %s (leader: %v) SIGKILLed after %s with %d requests open: all delivered after %s; %d duplicate requests (all after the kill), attempts recorded per node %v",
		total, victim.name, leader, killedAt.Round(time.Millisecond), held, elapsed.Round(time.Millisecond), dups, perNode)
	if dups < held {
		t.Errorf("%d duplicates, expected at least the %d requests open at the kill", dups, held)
	}
	tcompare(t, missing, 0, "hooks never delivered")
	if len(wr.overlaps) > 0 {
		t.Errorf("%d requests arrived while the same webhook-id was in flight, e.g. %s", len(wr.overlaps), wr.overlaps[0])
	}
	if len(wr.early) > 0 {
		t.Errorf("%d duplicates before the kill, e.g. %s", len(wr.early), wr.early[0])
	}
}
