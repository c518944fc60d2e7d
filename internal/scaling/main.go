// Command scaling measures the cost of every bouncekit operation on
// databases of growing size: 0, 10,000, 100,000 and 1,000,000 retired
// messages (with a tenth as many queued messages and as many suppression
// entries and retired webhooks). The databases are built once and kept in
// the directory given by -dir (scripts/scale: $BOUNCEKIT_SCALE_DIR or
// ~/.cache/bouncekit-scale); measuring changes them a little each run.
//
// Each operation runs -n times per round, one write transaction with its
// commit (and fsync) per operation unless the table says "read"; rows
// ending in "before commit" show the time spent in the transaction before
// its commit. The table shows, per operation and database size, the median
// over -rounds rounds (which take the sizes in turn) of each round's
// median, and the ratio of the largest size to 10,000. The files are read
// once before measuring, so the page cache is warm, and before each round
// every page of the file is mapped into bbolt's memory mapping
// (warmMapping), for every operation and size alike, as in a server that
// has run a while: otherwise the first read of each page in the process
// pays a page fault, and a random lookup in a larger file meets more pages
// not read before. -cold leaves that out. Pending webhooks are removed
// before each timed run of an operation (drainHooks), as a worker that
// keeps up would have delivered them. -pages also counts the pages each write transaction writes. It
// is not part of CI: run scripts/scale.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("scale: ")
	dir := flag.String("dir", "", "directory for the databases (required)")
	sizesFlag := flag.String("sizes", "0,10000,100000,1000000", "database sizes (retired messages), comma separated")
	n := flag.Int("n", 50, "runs of each operation per size and round")
	rounds := flag.Int("rounds", 5, "rounds over all sizes; the table shows the median of the rounds' medians")
	incomingOnly := flag.Bool("incoming", false, "measure only the bare update and ProcessIncoming")
	cold := flag.Bool("cold", false, "do not map the whole database file into memory before each round: each page's first read in the run pays a page fault")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	pages := flag.Bool("pages", false, "also count the pages each write transaction writes (adds a system call to each timed write)")
	buckets := flag.Bool("buckets", false, "list the pages one bare update and one ProcessIncoming by FromID write, per bucket, and measure nothing")
	flag.Parse()
	if *dir == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	var sizes []int64
	for _, s := range strings.Split(*sizesFlag, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || v < 0 {
			log.Fatalf("bad size %q", s)
		}
		sizes = append(sizes, v)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}

	ctx := context.Background()
	var runners []*runner
	for _, size := range sizes {
		db, err := openDB(ctx, *dir, size)
		if err != nil {
			log.Fatalf("database of %d: %v", size, err)
		}
		defer db.Close()
		if *buckets {
			r := &runner{ctx: ctx, db: db, path: dbPath(*dir, size), size: size}
			if err := r.listBuckets(); err != nil {
				log.Fatalf("size %d: %v", size, err)
			}
			continue
		}
		runners = append(runners, &runner{ctx: ctx, db: db, path: dbPath(*dir, size), n: *n, size: size, incomingOnly: *incomingOnly, pages: *pages, cold: *cold})
	}
	// Rounds go over the sizes in turn, so a burst of load from elsewhere
	// on the machine (fsync times vary most) does not land on one size.
	perRound := map[int64]map[string][]time.Duration{}
	pagesRound := map[int64]map[string][]float64{}
	var order []string
	for round := range *rounds {
		for _, r := range runners {
			log.Printf("round %d, size %d", round+1, r.size)
			if err := r.measure(); err != nil {
				log.Fatalf("size %d: %v", r.size, err)
			}
			if perRound[r.size] == nil {
				perRound[r.size] = map[string][]time.Duration{}
			}
			for op, d := range r.res {
				perRound[r.size][op] = append(perRound[r.size][op], d)
			}
			if pagesRound[r.size] == nil {
				pagesRound[r.size] = map[string][]float64{}
			}
			for op, p := range r.pageRes {
				pagesRound[r.size][op] = append(pagesRound[r.size][op], p)
			}
			order = r.order
		}
	}
	results := map[int64]map[string]time.Duration{}
	for size, ops := range perRound {
		results[size] = map[string]time.Duration{}
		for op, l := range ops {
			results[size][op] = median(l)
		}
	}
	printTable(sizes, order, results)
	if *pages {
		printPages(sizes, order, pagesRound)
	}
}

// printPages writes the median over the rounds of the pages written per
// write transaction (per DSN for the batched row).
func printPages(sizes []int64, order []string, perRound map[int64]map[string][]float64) {
	fmt.Printf("\npages written per write transaction (median; 4 KiB)\n\n")
	printHeader("operation", sizes, "")
	for _, op := range order {
		if _, ok := perRound[sizes[0]][op]; !ok {
			continue
		}
		fmt.Printf("| %-50s |", op)
		for _, s := range sizes {
			l := perRound[s][op]
			sort.Float64s(l)
			v := 0.0
			if len(l) > 0 {
				v = l[len(l)/2]
			}
			fmt.Printf(" %10.1f |", v)
		}
		fmt.Println()
	}
}

// printTable writes the medians, the ratio of the largest size to 10,000
// (or the smallest), and ProcessIncoming against the bare update.
func printTable(sizes []int64, order []string, results map[int64]map[string]time.Duration) {
	sorted := append([]int64(nil), sizes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	from := sorted[0]
	for _, s := range sorted {
		if s == 10000 {
			from = s
		}
	}
	to := sorted[len(sorted)-1]

	fmt.Printf("\nmedian per operation (µs) by retired messages in the database\n\n")
	printHeader("operation", sizes, fmtSize(to)+"/"+fmtSize(from))
	for _, op := range order {
		fmt.Printf("| %-50s |", op)
		for _, s := range sizes {
			fmt.Printf(" %10.1f |", float64(results[s][op].Nanoseconds())/1e3)
		}
		ratio := float64(results[to][op]) / float64(results[from][op])
		fmt.Printf(" %*.2f |\n", len(fmtSize(to))+len(fmtSize(from))+1, ratio)
	}
	fmt.Printf("\nProcessIncoming (one-recipient DSNs, one per transaction unless the row says) / bare one-record update transaction\n\n")
	printHeader("match", sizes, "")
	for _, op := range order {
		if !strings.HasPrefix(op, "ProcessIncoming") && op != opFloor || strings.HasSuffix(op, inTx) {
			continue
		}
		fmt.Printf("| %-50s |", op)
		for _, s := range sizes {
			fmt.Printf(" %10.2f |", float64(results[s][op])/float64(results[s][opBare]))
		}
		fmt.Println()
	}
}

func fmtSize(n int64) string {
	switch {
	case n >= 1000000 && n%1000000 == 0:
		return fmt.Sprintf("%dM", n/1000000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.FormatInt(n, 10)
}

// median returns the median of l, which it sorts.
func median(l []time.Duration) time.Duration {
	if len(l) == 0 {
		return 0
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l[len(l)/2]
}

// printHeader writes a table's column names, first, the sizes and a last
// column when last is not empty, and the separator line below them.
func printHeader(first string, sizes []int64, last string) {
	fmt.Printf("| %-50s |", first)
	for _, s := range sizes {
		fmt.Printf(" %10s |", fmtSize(s))
	}
	if last != "" {
		fmt.Printf(" %s |", last)
	}
	fmt.Printf("\n|%s|", strings.Repeat("-", 52))
	for range sizes {
		fmt.Printf("%s|", strings.Repeat("-", 12))
	}
	if last != "" {
		fmt.Printf("%s|", strings.Repeat("-", len(last)+2))
	}
	fmt.Println()
}
