package main

import (
	"strings"
	"testing"
)

func TestParseBench(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkA-2   	 3310694	       358.5 ns/op	      24 B/op	       2 allocs/op
BenchmarkA-2   	 3310694	       350.5 ns/op	      24 B/op	       2 allocs/op
BenchmarkDeliver/concurrency=4-2 	   10000	    95000 ns/op	 10500 hooks/s	  2000 B/op	  20 allocs/op
PASS
`)
	r := parseBench(out)
	if got := r["BenchmarkA"]["ns/op"]; len(got) != 2 || got[0] != 358.5 || got[1] != 350.5 {
		t.Errorf("BenchmarkA ns/op = %v", got)
	}
	if got := r["BenchmarkDeliver/concurrency=4"]["hooks/s"]; len(got) != 1 || got[0] != 10500 {
		t.Errorf("sub-benchmark hooks/s = %v", got)
	}
	if got := median(r["BenchmarkA"]["ns/op"]); got != 354.5 {
		t.Errorf("median = %v", got)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		ns   float64
		want string
	}{{350, "350 ns"}, {4200, "4.2 µs"}, {461000, "461 µs"}, {1.3e6, "1.3 ms"}, {25e6, "25 ms"}} {
		if got := duration(c.ns); got != c.want {
			t.Errorf("duration(%v) = %q, want %q", c.ns, got, c.want)
		}
	}
	if got := spread([]float64{100, 101, 102}); got != "101 ns" {
		t.Errorf("narrow spread = %q", got)
	}
	if got := spread([]float64{100, 150, 200}); got != "150 ns (100 ns-200 ns)" {
		t.Errorf("wide spread = %q", got)
	}
	if got := thousands(1234567.4); got != "1,234,567" {
		t.Errorf("thousands = %q", got)
	}
}

func TestReplaceSection(t *testing.T) {
	doc := "# x\n<!-- figures:performance -->\nold\n<!-- /figures:performance -->\nafter\n"
	got, err := replaceSection([]byte(doc), "performance", "new table")
	if err != nil {
		t.Fatal(err)
	}
	want := "# x\n<!-- figures:performance -->\nnew table\n<!-- /figures:performance -->\nafter\n"
	if string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := replaceSection([]byte(doc), "accuracy", "x"); err == nil || !strings.Contains(err.Error(), "accuracy") {
		t.Errorf("missing section: err = %v", err)
	}
}
