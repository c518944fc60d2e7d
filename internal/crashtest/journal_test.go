package crashtest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTrimTorn checks that only a last line without newline is cut.
func TestTrimTorn(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"whole lines", "a\nb\n", "a\nb\n"},
		{"torn last line", "a\nb\n{\"seq\":3,\"ru", "a\nb\n"},
		{"only a torn line", "{\"seq\":1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, []byte(tc.in), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := trimTorn(path); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if err := trimTorn(filepath.Join(t.TempDir(), "absent")); err != nil {
		t.Errorf("absent file: %v", err)
	}
}
