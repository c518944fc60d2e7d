package dsn

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	cases := []struct {
		in   string
		want string // RFC 3339, "" for an error.
	}{
		{"Thu, 29 Apr 2015 23:34:45 +0900", "2015-04-29T23:34:45+09:00"},
		{"Thu, 29 Apr 2015 23:34:45 +0900 (JST)", "2015-04-29T23:34:45+09:00"},
		{"Thu,  2 Jul 2020 06:04:42 -0400 (EDT)", "2020-07-02T06:04:42-04:00"},
		{"2 Jul 2020 06:04 GMT", "2020-07-02T06:04:00Z"},
		{"Thu, 02 Jul 26 18:55:38 UTC", "2026-07-02T18:55:38Z"},
		{"Sat, 1 Jan 99 00:00:00 PST", "1999-01-01T00:00:00-08:00"},
		{"Mon, 1 Feb 2010 10:00:00 XYZ", "2010-02-01T10:00:00Z"}, // Unknown zone: -0000.
		{"mon, 1 FEB 2010 10:00:00 -0000", "2010-02-01T10:00:00Z"},
		{"2013-07-08 18-21-01", ""},
		{"Thu, 32 Apr 2015 23:34:45 +0900", ""},
		{"Thu, 29 Foo 2015 23:34:45 +0900", ""},
		{"", ""},
	}
	for _, tc := range cases {
		got, err := parseDate(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: got %v, expected error", tc.in, got)
			}
			continue
		}
		want, _ := time.Parse(time.RFC3339, tc.want)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: got %v %v, expected %v", tc.in, got, err, want)
		}
		if _, off := got.Zone(); err == nil && func() int { _, o := want.Zone(); return o }() != off {
			t.Errorf("%q: offset %d", tc.in, off)
		}
	}
}
