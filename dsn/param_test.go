package dsn

import (
	"errors"
	"strings"
	"testing"
)

func TestParseNotify(t *testing.T) {
	cases := []struct {
		in   string
		want Notify
		err  string // Part of the error; empty: no error.
	}{
		{in: "", want: ""},
		{in: "NEVER", want: NotifyNever},
		{in: "never", want: NotifyNever},
		{in: "SUCCESS", want: NotifySuccess},
		{in: "FAILURE", want: NotifyFailure},
		{in: "DELAY", want: NotifyDelay},
		{in: "FAILURE,DELAY", want: "FAILURE,DELAY"},
		{in: "delay,failure", want: "FAILURE,DELAY"},
		{in: "failure, delay", want: "FAILURE,DELAY"},
		{in: "DELAY,SUCCESS", want: "SUCCESS,DELAY"},
		{in: "Delay,Failure,Success", want: "SUCCESS,FAILURE,DELAY"},
		{in: "FAILURE,FAILURE", want: NotifyFailure},
		{in: " SUCCESS\t", want: NotifySuccess},

		{in: "NEVER,FAILURE", err: `dsn: invalid notify "NEVER,FAILURE": NEVER combined with other keywords`},
		{in: "DELAY,never", err: "NEVER combined"},
		{in: "BOGUS", err: `dsn: invalid notify "BOGUS": unknown keyword "BOGUS"`},
		{in: "FAILURE,WARN", err: `unknown keyword "WARN"`},
		{in: "FAILURE,", err: `dsn: invalid notify "FAILURE,": empty keyword`},
		{in: ",", err: "empty keyword"},
		{in: " ", err: "empty keyword"},
		{in: "FAILURE;DELAY", err: `unknown keyword "FAILURE;DELAY"`},
		{in: "FAILURE DELAY", err: "unknown keyword"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseNotify(tc.in)
			if tc.err != "" {
				if !errors.Is(err, ErrNotify) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %q, %v; want error wrapping ErrNotify containing %q", got, err, tc.err)
				}
				if got != "" {
					t.Fatalf("value %q with error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
			if !got.Valid() {
				t.Fatalf("result %q not Valid", got)
			}
			if again, err := ParseNotify(string(got)); err != nil || again != got {
				t.Fatalf("parsing the canonical form again: %q, %v", again, err)
			}
		})
	}
}

func TestNewNotify(t *testing.T) {
	cases := []struct {
		kinds []Notify
		want  Notify
		err   string
	}{
		{kinds: []Notify{NotifyNever}, want: NotifyNever},
		{kinds: []Notify{NotifyFailure}, want: NotifyFailure},
		{kinds: []Notify{NotifyDelay, NotifyFailure}, want: "FAILURE,DELAY"},
		{kinds: []Notify{NotifyDelay, NotifySuccess, NotifyFailure, NotifyDelay}, want: "SUCCESS,FAILURE,DELAY"},

		{kinds: nil, err: "dsn: invalid notify: no kinds"},
		{kinds: []Notify{NotifyNever, NotifyFailure}, err: "NEVER combined"},
		{kinds: []Notify{NotifyFailure, NotifyNever}, err: "NEVER combined"},
		{kinds: []Notify{"failure"}, err: `"failure" is not a kind`},
		{kinds: []Notify{"FAILURE,DELAY"}, err: "is not a kind"},
		{kinds: []Notify{""}, err: `"" is not a kind`},
	}
	for _, tc := range cases {
		got, err := NewNotify(tc.kinds...)
		if tc.err != "" {
			if !errors.Is(err, ErrNotify) || !strings.Contains(err.Error(), tc.err) || got != "" {
				t.Errorf("%q: got %q, %v; want error containing %q", tc.kinds, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.kinds, got, err, tc.want)
		}
	}
}

func TestNotifyValid(t *testing.T) {
	valid := []Notify{"", "NEVER", "SUCCESS", "FAILURE", "DELAY", "SUCCESS,FAILURE", "SUCCESS,DELAY", "FAILURE,DELAY", "SUCCESS,FAILURE,DELAY"}
	for _, n := range valid {
		if !n.Valid() {
			t.Errorf("%q not valid", n)
		}
	}
	invalid := []Notify{"never", "failure", "DELAY,FAILURE", "FAILURE, DELAY", "FAILURE,FAILURE", "NEVER,FAILURE", "BOGUS", ",", " "}
	for _, n := range invalid {
		if n.Valid() {
			t.Errorf("%q valid", n)
		}
	}
}

// TestNotifyHas covers the default of RFC 3461 section 4.1 and values not
// in canonical form, which Has reads as they were read before Notify was a
// type.
func TestNotifyHas(t *testing.T) {
	cases := []struct {
		notify                  Notify
		success, failure, delay bool
	}{
		{"", false, true, true},
		{"NEVER", false, false, false},
		{"SUCCESS", true, false, false},
		{"failure,delay", false, true, true},
		{"FAILURE", false, true, false},
		{"SUCCESS, DELAY", true, false, true},
		{"SUCCESS,FAILURE,DELAY", true, true, true},
		{"BOGUS,DELAY", false, false, true},
		{"BOGUS", false, false, false},
	}
	for _, c := range cases {
		s, f, d := c.notify.Has(NotifySuccess), c.notify.Has(NotifyFailure), c.notify.Has(NotifyDelay)
		if s != c.success || f != c.failure || d != c.delay {
			t.Errorf("notify %q: got %v %v %v, want %v %v %v", c.notify, s, f, d, c.success, c.failure, c.delay)
		}
	}

	// Only the three kinds are asked about.
	for _, kind := range []Notify{NotifyNever, "", "failure", "FAILURE,DELAY"} {
		for _, n := range []Notify{"", NotifyNever, "SUCCESS,FAILURE,DELAY", "failure,delay"} {
			if n.Has(kind) {
				t.Errorf("%q.Has(%q) is true", n, kind)
			}
		}
	}
}

func TestParseRet(t *testing.T) {
	cases := []struct {
		in   string
		want Ret
		err  bool
	}{
		{"", RetDefault, false},
		{"FULL", RetFull, false},
		{"full", RetFull, false},
		{"HDRS", RetHeaders, false},
		{"Hdrs", RetHeaders, false},
		{"HEADERS", "", true},
		{"FULL,HDRS", "", true},
		{" FULL", "", true},
	}
	for _, tc := range cases {
		got, err := ParseRet(tc.in)
		if tc.err {
			if !errors.Is(err, ErrRet) || !strings.HasPrefix(err.Error(), "dsn: invalid ret ") || got != "" {
				t.Errorf("%q: got %q, %v; want error wrapping ErrRet", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want || !got.Valid() {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, r := range []Ret{"full", "hdrs", "HEADERS", " "} {
		if r.Valid() {
			t.Errorf("Ret %q valid", r)
		}
	}
}
