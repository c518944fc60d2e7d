package promreg

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func counter(name string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: name})
}

// names returns the names of the metrics gathered from reg.
func names(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var l []string
	for _, mf := range mfs {
		l = append(l, mf.GetName())
	}
	return strings.Join(l, ",")
}

func TestRegister(t *testing.T) {
	for _, tc := range []struct {
		name      string
		existing  []string // Registered before.
		register  []string
		wantErr   bool
		wantNames string // Registered after.
	}{
		{"all", nil, []string{"a_total", "b_total"}, false, "a_total,b_total"},
		{"none", nil, nil, false, ""},
		{"clash undoes the others", []string{"b_total"}, []string{"a_total", "b_total", "c_total"}, true, "b_total"},
		{"clash on the first", []string{"a_total"}, []string{"a_total"}, true, "a_total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			for _, n := range tc.existing {
				reg.MustRegister(counter(n))
			}
			var cs []prometheus.Collector
			for _, n := range tc.register {
				cs = append(cs, counter(n))
			}
			err := Register(reg, "pkg", cs...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				var already prometheus.AlreadyRegisteredError
				if !strings.HasPrefix(err.Error(), "pkg: registering metrics: ") || !errors.As(err, &already) {
					t.Fatalf("error %q: no package prefix or not wrapped", err)
				}
			}
			if got := names(t, reg); got != tc.wantNames {
				t.Fatalf("registered %q, want %q", got, tc.wantNames)
			}
		})
	}
}

// A nil registry registers nothing and is no error.
func TestRegisterNil(t *testing.T) {
	if err := Register(nil, "pkg", counter("a_total")); err != nil {
		t.Fatalf("nil registry: %v", err)
	}
}
