package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseFact(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string // file index status code reason hard another engine group
		err       bool
	}{
		{
			name: "lhost groups, positions, secretlist and comments skipped",
			src: `func TestLhostqmail(t *testing.T) {
	publiclist := [][]IsExpected{
		// Label, Index, Status, ReplyCode, Reason, HardBounce, AnotherOne
		{{"01",   1, "5.5.0",   "550", "userunknown",      true, ""}},
//		{{"02",   1, "5.1.1",   "550", "userunknown",      true, ""}},
		{{"25",   1, "5.2.2",   "552", "mailboxfull",     false, ""},
		 {"25",   1, "5.1.1",   "550", "userunknown",      true, ""}},
	}; EngineTest(t, "qmail", publiclist, true)

	secretlist := [][]IsExpected{
		{{"1001", 1, "5.1.1",   "550", "userunknown",      true, ""}},
	}; EngineTest(t, "qmail", secretlist, false)
}`,
			want: []string{
				"lhost-qmail-01.eml 1 5.5.0 550 userunknown true  qmail 1",
				"lhost-qmail-25.eml 1 5.2.2 552 mailboxfull false  qmail 2",
				"lhost-qmail-25.eml 2 5.1.1 550 userunknown true  qmail 2",
			},
		},
		{
			name: "rhost prefix",
			src: `func TestRhostGoogle(t *testing.T) {
	publiclist := [][]IsExpected{
		{{"01",   1, "5.2.1",   "550", "suspend",         false, ""}},
	}; EngineTest(t, "Google", publiclist, true)
}`,
			want: []string{"rhost-google-01.eml 1 5.2.1 550 suspend false  Google 1"},
		},
		{
			name: "no prefix, spaces before a comma, feedback type",
			src: `func TestARF(t *testing.T) {
	publiclist := [][]IsExpected{
		{{"36",   1, "4.0.0",   ""   , "expired",         false, ""}},
		{{"12",   1, "",        "",    "feedback",        false, "opt-out"}},
	}; EngineTest(t, "ARF", publiclist, true)
}`,
			want: []string{
				"arf-36.eml 1 4.0.0  expired false  ARF 1",
				"arf-12.eml 1   feedback false opt-out ARF 2",
			},
		},
		{
			name: "table without its EngineTest call",
			src: `func TestLhostX(t *testing.T) {
	publiclist := [][]IsExpected{
		{{"01",   1, "5.1.1",   "550", "userunknown",      true, ""}},
	}
}`,
			err: true,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, err := parseFact([]byte(c.src), "fact/x_test.go")
			if c.err {
				if err == nil {
					t.Fatalf("no error, rows %v", rows)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				if r.source != "fact/x_test.go" {
					t.Errorf("source %q", r.source)
				}
				got = append(got, fmt.Sprintf("%s %s %s %s %s %s %s %s %d", r.file, r.index, r.status, r.code, r.reason, r.hard, r.another, r.engine, r.group))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
