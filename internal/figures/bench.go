package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// results holds, per benchmark name (without the -N suffix), every value
// measured per unit ("ns/op", "allocs/op", "ns/msg", ...).
type results map[string]map[string][]float64

// runBenchmarks runs the named benchmarks of pkg count times each.
func runBenchmarks(pkg string, names []string, count int) (results, error) {
	pattern := "^(" + strings.Join(names, "|") + ")$"
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", strconv.Itoa(count), pkg)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go test -bench %s %s: %w\n%s", pattern, pkg, err, out)
	}
	r := parseBench(out)
	for _, n := range names {
		found := false
		for name := range r {
			found = found || name == n || strings.HasPrefix(name, n+"/")
		}
		if !found {
			return nil, fmt.Errorf("%s: benchmark %s printed no result", pkg, n)
		}
	}
	return r, nil
}

var benchSuffix = regexp.MustCompile(`-[0-9]+$`)

// parseBench reads go test -bench output: "BenchmarkX-2  N  v unit  v unit ...".
func parseBench(out []byte) results {
	r := results{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := benchSuffix.ReplaceAllString(f[0], "")
		if r[name] == nil {
			r[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			r[name][f[i+1]] = append(r[name][f[i+1]], v)
		}
	}
	return r
}

// median of vs; NaN when empty.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// duration formats nanoseconds in the unit a reader expects: ns, µs or ms,
// with one decimal below ten of the unit.
func duration(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e4:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case ns < 1e6:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	case ns < 1e7:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	default:
		return fmt.Sprintf("%.0f ms", ns/1e6)
	}
}

// spread formats the median of a time unit, with the range when runs
// differ by more than a tenth.
func spread(vs []float64) string {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	m := median(s)
	lo, hi := s[0], s[len(s)-1]
	if hi-lo > m/10 {
		return fmt.Sprintf("%s (%s-%s)", duration(m), duration(lo), duration(hi))
	}
	return duration(m)
}
