package queue

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
)

// TestSMTPDiagnostic checks that a DSN's Diagnostic-Code keeps each reply
// line with its code and continuation mark, as the remote sent it.
func TestSMTPDiagnostic(t *testing.T) {
	cases := []struct {
		name string
		f    bounce.Failure
		want string
	}{
		{"one line", bounce.Failure{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Lines: []string{"no such user"}}, "550 5.1.1 no such user"},
		{"multi-line", bounce.Failure{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 7, 1}, Lines: []string{"Greylisted, see", "https://example.net/grey", "try again later"}},
			"451-4.7.1 Greylisted, see\n451-4.7.1 https://example.net/grey\n451 4.7.1 try again later"},
		{"no enhanced code", bounce.Failure{Code: 554, Lines: []string{"first", "", "last"}}, "554-first\n554-\n554 last"},
		{"empty line with enhanced code", bounce.Failure{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 7, 26}, Lines: []string{"a", "", "b"}}, "550-5.7.26 a\n550-5.7.26\n550 5.7.26 b"},
		{"no text", bounce.Failure{Code: 421}, "421"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := smtpDiagnostic(tc.f); got != tc.want {
				t.Fatalf("got %q, expected %q", got, tc.want)
			}
		})
	}
}

// TestDefaultComposerRemote composes a DSN with the default composer and
// reads back the multi-line reply and the remote IP.
func TestDefaultComposerRemote(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	m := Msg{RecipientAddress: "bob@example.net", MessageID: "orig-1@example.com", Queued: now, LastAttempt: now}
	m.Attempt = Attempt{RemoteMTA: "mx.example.net", RemoteIP: netip.MustParseAddr("192.0.2.25")}
	f := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Lines: []string{"blocked,", "see https://example.net/why"}}
	out, err := defaultComposer{}.ComposeDSN(DSNRequest{
		Kind: DSNFailed, From: "postmaster@mx.example.org", To: "alice@example.com", MessageID: "dsn-1@mx.example.org",
		Date: now, Hostname: "mx.example.org", Msg: m, Recipients: []DSNRecipient{{Msg: m, Failure: f}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Remote-MTA: dns; mx.example.net (192.0.2.25)\r\n",
		"Diagnostic-Code: smtp; 550-5.7.1 blocked,\r\n 550 5.7.1 see https://example.net/why\r\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	pm, _, err := dsn.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if r := pm.Recipients[0]; r.RemoteIP != m.Attempt.RemoteIP || r.DiagnosticCode != "550-5.7.1 blocked, 550 5.7.1 see https://example.net/why" {
		t.Fatalf("read back %v %q", r.RemoteIP, r.DiagnosticCode)
	}
}
