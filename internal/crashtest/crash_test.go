package crashtest

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/goleak"

	"github.com/bouncekit/bouncekit/webhook"
)

var (
	killsFlag = flag.Int("crash.kills", 32, "number of SIGKILLs (scripts/crash: 500)")
	seedFlag  = flag.Uint64("crash.seed", 1, "seed of the kill moments and the workload (env BOUNCEKIT_CRASH_SEED overrides)")
	maxWait   = flag.Duration("crash.maxwait", 400*time.Millisecond, "longest real time between a child's start and its kill")
	dirFlag   = flag.String("crash.dir", "", "working directory to keep (default: a temporary one)")
)

// Environment of the child process.
const (
	envChild   = "BOUNCEKIT_CRASH_CHILD"
	envDir     = "BOUNCEKIT_CRASH_DIR"
	envSeed    = "BOUNCEKIT_CRASH_SEED"
	envHookURL = "BOUNCEKIT_CRASH_HOOKURL"
	envRun     = "BOUNCEKIT_CRASH_RUN"
	envDrain   = "BOUNCEKIT_CRASH_DRAIN"
	envSubs    = "BOUNCEKIT_CRASH_SUBS"
)

// TestMain runs the child workload when the test binary is re-executed by
// TestCrash.
func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		os.Exit(childMain())
	}
	// No reader of a child's output outlives its test.
	goleak.VerifyTestMain(m)
}

func childMain() int {
	seed, err := strconv.ParseUint(os.Getenv(envSeed), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child: seed:", err)
		return 2
	}
	run, err := strconv.Atoi(os.Getenv(envRun))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child: run:", err)
		return 2
	}
	cfg := ChildConfig{
		Dir:     os.Getenv(envDir),
		Seed:    seed,
		HookURL: os.Getenv(envHookURL),
		Run:     run,
		Drain:   os.Getenv(envDrain) == "1",
		Out:     os.Stdout,
	}
	if s := os.Getenv(envSubs); s != "" {
		if cfg.Subs, err = strconv.ParseInt(s, 10, 64); err != nil {
			fmt.Fprintln(os.Stderr, "crash child: subs:", err)
			return 2
		}
	}
	if err := RunChild(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	return 0
}

// receiver is the parent's webhook endpoint: it outlives the child's
// kills and records every request. The first attempt of about one hook
// in eight is answered 503, so retries are part of the run.
type receiver struct {
	seed     uint64
	mu       sync.Mutex
	receipts []HookReceipt
	seen     map[string]bool
}

const keepSecret = "whsec_Y3Jhc2gtdGVzdC1zaWduaW5nLXNlY3JldC0xMjM0"

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var p webhook.Outgoing
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	account := strings.TrimPrefix(r.URL.Path, "/")
	id := r.Header.Get("webhook-id")
	rec := HookReceipt{WebhookID: id, Account: account, Event: p.Event, MsgID: p.QueueMsgID, Recipient: p.Recipient, Status: http.StatusOK}
	if account == AccountKeep {
		rec.BadSig = webhook.Verify([]string{keepSecret}, r.Header, body, time.Now(), 20*365*24*time.Hour) != nil
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.seen[id] && chance(rc.seed, "503/"+id, 8) {
		rec.Status = http.StatusServiceUnavailable
	}
	rc.seen[id] = true
	rc.receipts = append(rc.receipts, rec)
	w.WriteHeader(rec.Status)
}

// httptestServer serves rc on 127.0.0.1 until the test ends and returns
// its URL.
func httptestServer(t *testing.T, rc *receiver) string {
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (rc *receiver) list() []HookReceipt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]HookReceipt(nil), rc.receipts...)
}

// TestCrash kills the child workload at random moments, checks the
// database after every kill and the whole history at the end. See the
// package documentation.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts processes; skipped with -short")
	}
	seed := *seedFlag
	if s := os.Getenv(envSeed); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", envSeed, err)
		}
		seed = v
	}
	dir := *dirFlag
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{seed: seed, seen: map[string]bool{}}
	hookURL := httptestServer(t, rc)

	t.Logf("seed %d (rerun with -crash.seed=%d or %s=%d), dir %s", seed, seed, envSeed, seed, dir)
	rnd := rand.New(rand.NewPCG(seed, 0xc4a5))
	var checks, broken int
	runs := 0
	start := func(drain bool) *childProc {
		runs++
		cp, err := startChild(t, exe, dir, seed, hookURL, runs, drain, 0)
		if err != nil {
			t.Fatalf("seed %d: starting run %d: %v", seed, runs, err)
		}
		return cp
	}
	for kill := 1; kill <= *killsFlag; kill++ {
		cp := start(false)
		wait := time.Duration(rnd.Int64N(int64(*maxWait)))
		if rnd.IntN(8) > 0 {
			// Most kills land in the workload, counted from readiness; the
			// others may land while the child opens the database.
			if err := cp.waitLine("ready"); err != nil {
				t.Fatalf("seed %d: run %d: %v; stderr: %s", seed, runs, err, cp.stderr())
			}
		}
		select {
		case <-time.After(wait):
		case <-cp.exited:
			t.Fatalf("seed %d: run %d exited before its kill: %s", seed, runs, cp.stderr())
		}
		cp.kill()
		checks++
		if err := boltCheck(filepath.Join(dir, dbFile)); err != nil {
			broken++
			t.Errorf("seed %d: bbolt check after kill %d: %v", seed, kill, err)
		}
	}

	cp := start(true)
	if err := cp.waitLine("done"); err != nil {
		t.Fatalf("seed %d: draining run: %v; stderr: %s", seed, err, cp.stderr())
	}
	if err := cp.wait(); err != nil {
		t.Fatalf("seed %d: draining run: %v; stderr: %s", seed, err, cp.stderr())
	}
	checks++
	if err := boltCheck(filepath.Join(dir, dbFile)); err != nil {
		broken++
		t.Errorf("seed %d: bbolt check after the drain: %v", seed, err)
	}

	rep, err := Check(context.Background(), dir, rc.list(), *killsFlag, runs, checks, broken)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	var b strings.Builder
	rep.Print(&b)
	t.Logf("seed %d, %d kills:\n%s", seed, *killsFlag, b.String())
	if rep.Failed() {
		t.Errorf("seed %d: %d invariants broken (see the table)", seed, len(rep.Violations))
	}
	if os.Getenv("BOUNCEKIT_CRASH_TABLE") != "" {
		if err := os.WriteFile(os.Getenv("BOUNCEKIT_CRASH_TABLE"), []byte(fmt.Sprintf("seed %d, %d kills\n%s", seed, *killsFlag, b.String())), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// childProc is one run of the child.
type childProc struct {
	cmd    *exec.Cmd
	lines  chan string // Lines of stdout.
	exited chan struct{}
	err    error // Set before exited is closed.
	errBuf *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startChild(t *testing.T, exe, dir string, seed uint64, hookURL string, run int, drain bool, subs int64) (*childProc, error) {
	cmd := exec.Command(exe, "-test.run=^$")
	drainEnv := "0"
	if drain {
		drainEnv = "1"
	}
	cmd.Env = append(os.Environ(),
		envChild+"=1",
		envDir+"="+dir,
		envSeed+"="+strconv.FormatUint(seed, 10),
		envHookURL+"="+hookURL,
		envRun+"="+strconv.Itoa(run),
		envDrain+"="+drainEnv,
		envSubs+"="+strconv.FormatInt(subs, 10),
	)
	cp := &childProc{cmd: cmd, lines: make(chan string, 4), exited: make(chan struct{}), errBuf: &syncBuffer{}}
	cmd.Stderr = cp.errBuf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// The reader ends when the child's stdout closes, at its exit; Wait
	// follows, and exited is closed. Cleanup kills and waits for it.
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			cp.lines <- sc.Text()
		}
		close(cp.lines)
		cp.err = cmd.Wait()
		close(cp.exited)
	}()
	t.Cleanup(func() {
		cp.kill()
	})
	return cp, nil
}

// waitLine waits for a line of the child's stdout.
func (cp *childProc) waitLine(want string) error {
	timeout := time.NewTimer(5 * time.Minute) // A safety net for a hung child; never reached when it works.
	defer timeout.Stop()
	for {
		select {
		case l, ok := <-cp.lines:
			if !ok {
				<-cp.exited
				return fmt.Errorf("child exited before %q: %v", want, cp.err)
			}
			if l == want {
				return nil
			}
		case <-timeout.C:
			return fmt.Errorf("no %q from the child", want)
		}
	}
}

// kill SIGKILLs the child and waits until it is gone.
func (cp *childProc) kill() {
	select {
	case <-cp.exited:
		return
	default:
	}
	_ = cp.cmd.Process.Signal(syscall.SIGKILL)
	for range cp.lines {
	}
	<-cp.exited
}

func (cp *childProc) wait() error {
	for range cp.lines {
	}
	<-cp.exited
	return cp.err
}

func (cp *childProc) stderr() string {
	return cp.errBuf.String()
}

// boltCheck opens the database file with bbolt and runs its consistency
// check: page reachability, freelist, key order.
func boltCheck(path string) error {
	if fi, err := os.Stat(path); os.IsNotExist(err) || err == nil && fi.Size() == 0 {
		// Killed before the database was created or initialized: the next
		// run initializes it.
		return nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("opening: %w", err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		var errs []string
		for err := range tx.Check() {
			errs = append(errs, err.Error())
		}
		if len(errs) > 0 {
			return fmt.Errorf("%d errors: %s", len(errs), strings.Join(errs, "; "))
		}
		return nil
	})
}
