// Command figures measures what the README's performance and accuracy
// tables report and writes them into README.md, so that no figure is
// typed by hand and none lives in a doc comment where it would go stale.
//
// It runs the benchmarks named in spec.go (go test -bench, -benchmem,
// -count runs each) and the tests that print figures, then replaces the
// text between "<!-- figures:NAME -->" and "<!-- /figures:NAME -->" in
// README.md for each table it knows. A test prints a figure with a log
// line "figure KEY: VALUE" (t.Logf); run with -v, the line is found in its
// output. scripts/figures runs it; it is not part of CI.
//
// Layout: main.go (flags, README rewriting), bench.go (running and
// reading benchmarks), spec.go (the rows of each table).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("figures: ")
	readme := flag.String("readme", "README.md", "the file whose marked sections are rewritten")
	count := flag.Int("count", 5, "runs of each benchmark (-count)")
	only := flag.String("only", "", "rewrite only this table (performance, accuracy, formats or memory)")
	dry := flag.Bool("n", false, "print the tables instead of rewriting the file")
	flag.Parse()

	data, err := os.ReadFile(*readme)
	if err != nil {
		log.Fatal(err)
	}
	tables := map[string]func() (string, error){
		"performance": func() (string, error) { return performanceTable(*count) },
		"accuracy":    accuracyTable,
		"formats":     formatsTable,
		"memory":      memoryTable,
	}
	for _, name := range []string{"performance", "accuracy", "formats", "memory"} {
		if *only != "" && *only != name {
			continue
		}
		log.Printf("measuring %s", name)
		text, err := tables[name]()
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		if *dry {
			fmt.Printf("%s:\n%s\n", name, text)
			continue
		}
		data, err = replaceSection(data, name, text)
		if err != nil {
			log.Fatal(err)
		}
	}
	if !*dry {
		if err := os.WriteFile(*readme, data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// replaceSection puts text between the begin and end markers of name.
func replaceSection(doc []byte, name, text string) ([]byte, error) {
	begin := []byte("<!-- figures:" + name + " -->\n")
	end := []byte("<!-- /figures:" + name + " -->")
	i := bytes.Index(doc, begin)
	j := bytes.Index(doc, end)
	if i < 0 || j < i {
		return nil, fmt.Errorf("no section %q in the readme: want %q ... %q", name, begin, end)
	}
	var b bytes.Buffer
	b.Write(doc[:i+len(begin)])
	b.WriteString(text)
	if !strings.HasSuffix(text, "\n") {
		b.WriteByte('\n')
	}
	b.Write(doc[j:])
	return b.Bytes(), nil
}

// machine describes where the figures were measured.
func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			load = ", load average " + f[0]
		}
	}
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%s, %d cores, %s/%s, %s%s, %s", cpu, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, goVersion, load, time.Now().UTC().Format("2006-01-02"))
}
