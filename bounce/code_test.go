package bounce_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/bouncekit/bouncekit/bounce"
)

func TestParseEnhancedCode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bounce.EnhancedCode
		ok   bool
	}{
		{"5.1.1", bounce.EnhancedCode{5, 1, 1}, true},
		{"4.7.28", bounce.EnhancedCode{4, 7, 28}, true},
		{"2.0.0", bounce.EnhancedCode{2, 0, 0}, true},
		{"5.999.999", bounce.EnhancedCode{5, 999, 999}, true},
		{"5.01.1", bounce.EnhancedCode{5, 1, 1}, true}, // Leading zeros are read, String drops them.
		{"", bounce.EnhancedCode{}, false},
		{"3.1.1", bounce.EnhancedCode{}, false}, // No class 3 (RFC 3463 section 2).
		{"5.1", bounce.EnhancedCode{}, false},
		{"5.1.", bounce.EnhancedCode{}, false},
		{"5..1", bounce.EnhancedCode{}, false},
		{"5.1000.1", bounce.EnhancedCode{}, false},
		{"5.1.1000", bounce.EnhancedCode{}, false},
		{"5.1.1 ", bounce.EnhancedCode{}, false},
		{" 5.1.1", bounce.EnhancedCode{}, false},
		{"5.1.1.1", bounce.EnhancedCode{}, false},
		{"#5.1.1", bounce.EnhancedCode{}, false}, // Only CutEnhancedCode accepts Exchange's "#".
		{"5.x.1", bounce.EnhancedCode{}, false},
	} {
		got, err := bounce.ParseEnhancedCode(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseEnhancedCode(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, bounce.ErrEnhancedCode) {
			t.Errorf("ParseEnhancedCode(%q): error %v is not ErrEnhancedCode", tc.in, err)
		}
	}
}

func TestEnhancedCodeMethods(t *testing.T) {
	c := bounce.EnhancedCode{5, 1, 10}
	if c.String() != "5.1.10" || c.Class() != 5 || c.Subject() != 1 || c.Detail() != 10 || !c.Permanent() || c.Temporary() || c.IsZero() || !c.Valid() {
		t.Fatalf("methods of %v wrong", c)
	}
	if got := c.WithClass(4); got != (bounce.EnhancedCode{4, 1, 10}) {
		t.Fatalf("WithClass(4) = %v", got)
	}
	var zero bounce.EnhancedCode
	if zero.String() != "" || !zero.IsZero() || zero.Valid() || zero.WithClass(5) != zero {
		t.Fatalf("zero value: %q valid %v", zero.String(), zero.Valid())
	}
	for _, bad := range []bounce.EnhancedCode{{9, 9, 9}, {5, -1, 0}, {5, 1000, 1}, {-1, -1, -1}} {
		if bad.Valid() {
			t.Errorf("%v is valid", bad)
		}
	}
}

// TestEnhancedCodeJSON checks the text form in JSON: "5.1.1", "" for none,
// and an error for what is not a code.
func TestEnhancedCodeJSON(t *testing.T) {
	type v struct{ C bounce.EnhancedCode }
	b, err := json.Marshal(v{bounce.EnhancedCode{5, 7, 1}})
	if err != nil || string(b) != `{"C":"5.7.1"}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	b, err = json.Marshal(v{})
	if err != nil || string(b) != `{"C":""}` {
		t.Fatalf("marshal zero: %s, %v", b, err)
	}
	var got v
	if err := json.Unmarshal([]byte(`{"C":"4.2.2"}`), &got); err != nil || got.C != (bounce.EnhancedCode{4, 2, 2}) {
		t.Fatalf("unmarshal: %v, %v", got, err)
	}
	if err := json.Unmarshal([]byte(`{"C":""}`), &got); err != nil || !got.C.IsZero() {
		t.Fatalf("unmarshal empty: %v, %v", got, err)
	}
	if err := json.Unmarshal([]byte(`{"C":"5.1"}`), &got); !errors.Is(err, bounce.ErrEnhancedCode) {
		t.Fatalf("unmarshal bad code: %v", err)
	}
}

func TestCutEnhancedCode(t *testing.T) {
	for _, tc := range []struct {
		in, rest string
		want     bounce.EnhancedCode
		ok       bool
	}{
		{"5.1.1 User unknown", "User unknown", bounce.EnhancedCode{5, 1, 1}, true},
		{"#5.1.0 Address rejected", "Address rejected", bounce.EnhancedCode{5, 1, 0}, true},
		{"4.2.2\tover quota", "over quota", bounce.EnhancedCode{4, 2, 2}, true},
		{"5.1.1", "", bounce.EnhancedCode{5, 1, 1}, true},
		{"5.1.1: no", "5.1.1: no", bounce.EnhancedCode{}, false},
		{"5.1.1.1 no", "5.1.1.1 no", bounce.EnhancedCode{}, false},
		{"User unknown", "User unknown", bounce.EnhancedCode{}, false},
	} {
		got, rest, ok := bounce.CutEnhancedCode(tc.in)
		if got != tc.want || rest != tc.rest || ok != tc.ok {
			t.Errorf("CutEnhancedCode(%q) = %v, %q, %v; want %v, %q, %v", tc.in, got, rest, ok, tc.want, tc.rest, tc.ok)
		}
	}
}

// FuzzParseEnhancedCode checks that what ParseEnhancedCode accepts is a
// valid code whose String parses back to it, and that CutEnhancedCode
// agrees with it.
func FuzzParseEnhancedCode(f *testing.F) {
	for _, s := range []string{"5.1.1", "4.7.28", "2.0.0", "5.01.001", "", "5.1", "3.1.1", "5.1.1.1", "#5.1.0 x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := bounce.ParseEnhancedCode(s)
		if err != nil {
			if !c.IsZero() {
				t.Fatalf("%q: error %v with code %v", s, err, c)
			}
			return
		}
		if !c.Valid() {
			t.Fatalf("%q: parsed to invalid %v", s, c)
		}
		back, err := bounce.ParseEnhancedCode(c.String())
		if err != nil || back != c {
			t.Fatalf("%q: String %q parses to %v, %v", s, c.String(), back, err)
		}
		if cut, rest, ok := bounce.CutEnhancedCode(s); !ok || cut != c || rest != "" {
			t.Fatalf("%q: CutEnhancedCode %v %q %v", s, cut, rest, ok)
		}
	})
}
