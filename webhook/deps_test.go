package webhook

import (
	"os/exec"
	"strings"
	"testing"
)

// An application receiving our webhooks imports this package alone: it
// must pull in nothing but the standard library (no bstore, Prometheus or
// queue). go list -deps names every package the build needs; standard
// library packages are the ones marked Standard. It needs the go command
// on PATH.
func TestStandardLibraryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var others []string
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/bouncekit/bouncekit/webhook" {
			others = append(others, p)
		}
	}
	if len(others) > 0 {
		t.Fatalf("webhook depends on packages outside the standard library: %s", strings.Join(others, ", "))
	}
}
