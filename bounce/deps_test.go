package bounce_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies checks that package bounce stays a leaf: it depends on
// the standard library only, and on go-smtp to recognise its error type.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	// One line per dependency: its import path and whether it is in the
	// standard library.
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", "github.com/bouncekit/bouncekit/bounce").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := func(path string) bool {
		return path == "github.com/bouncekit/bouncekit/bounce" ||
			path == "github.com/emersion/go-smtp" ||
			// go-smtp's own imports.
			strings.HasPrefix(path, "github.com/emersion/go-sasl")
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("go list line %q", line)
		}
		n++
		if std != "true" && !allowed(path) {
			t.Errorf("package bounce depends on %s, outside the standard library", path)
		}
	}
	if n < 10 {
		t.Fatalf("go list gave %d dependencies, output %q", n, out)
	}
}
