package hookqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/hostile"
	"github.com/bouncekit/bouncekit/webhook"
)

// TestHostileCheckURL runs CheckURL on hostile URLs: an error wrapping
// ErrInvalidURL, or a URL that net/http can send a request to, whose text
// holds no control character (it is logged and stored).
func TestHostileCheckURL(t *testing.T) {
	urls := []string{
		"http://" + strings.Repeat("a", hostile.LongLine) + ".example/",
		"https://example.org/" + strings.Repeat("p", hostile.LongLine),
		"http://[::1", "http://:80", "http://@", "http://user:pass@", "//example.org/x",
		"javascript:alert(1)", "file:///etc/passwd", "HTTP://EXAMPLE.ORG/", "http:example.org",
		"http://example.org/a b", "http://exa mple.org/", "http://example.org/\u202e",
		"http://127.0.0.1:99999/", "http://[fe80::1%25eth0]/",
	}
	for _, s := range hostile.Strings {
		urls = append(urls, s, "http://example.org/"+s, "http://"+s+"/", "https://example.org/?q="+s)
	}
	for i, u := range urls {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			hostile.Check(t, 64<<10+4*uint64(len(u)), func() {
				err := CheckURL(u)
				if err != nil {
					if !errors.Is(err, ErrInvalidURL) {
						t.Fatalf("error %v does not wrap ErrInvalidURL", err)
					}
					return
				}
				if strings.ContainsFunc(u, func(r rune) bool { return r < ' ' || r == 0x7f }) {
					t.Errorf("accepted url %.100q with control character", u)
				}
				if _, err := http.NewRequest("POST", u, nil); err != nil {
					t.Errorf("accepted url %.100q that net/http refuses: %v", u, err)
				}
			})
		})
	}
}

// TestHostileEnqueue enqueues hooks with hostile fields: Enqueue refuses
// what could never be sent with an error starting "hookqueue: " and stores
// nothing; what it accepts is delivered to a loopback receiver as one
// valid, correctly signed JSON body, with the Authorization header as
// given, and the payload's strings as given (invalid UTF-8 replaced).
func TestHostileEnqueue(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	type received struct {
		header http.Header
		body   []byte
	}
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading request: %v", err)
		}
		got <- received{r.Header, body}
	}))
	defer srv.Close()

	type hookCase struct {
		name   string
		mod    func(h *Hook)
		refuse bool
	}
	cases := []hookCase{
		{"plain", func(h *Hook) {}, false},
		{"1MB subject", func(h *Hook) { h.Payload.Subject = strings.Repeat("s", hostile.LongLine) }, false},
		{"100k extra", func(h *Hook) {
			h.Payload.Extra = map[string]string{}
			for i := 0; i < hostile.ManyRecipients; i++ {
				h.Payload.Extra[fmt.Sprint("k", i)] = "v\r\n"
			}
		}, false},
		{"CRLF in url", func(h *Hook) { h.URL += "/x\r\nHost: evil" }, true},
		{"1MB url", func(h *Hook) { h.URL += "/" + strings.Repeat("u", hostile.LongLine) }, false},
		{"empty account", func(h *Hook) { h.Account = "" }, true},
		{"bad secret", func(h *Hook) { h.Secrets = []string{"whsec_\x00"} }, true},
	}
	for i, s := range hostile.Strings {
		cases = append(cases,
			hookCase{fmt.Sprintf("payload string %d", i), func(h *Hook) {
				h.Payload.Subject, h.Payload.Error, h.Payload.MessageID, h.Payload.Recipient = s, s, s, s
				h.Payload.Extra = map[string]string{s: s}
			}, false},
			hookCase{fmt.Sprintf("authorization %d", i), func(h *Hook) { h.Authorization = "Bearer " + s }, strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })},
		)
	}
	hr := newHarness(t, nil)
	hr.start()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := testHook(srv.URL)
			h.Secrets = []string{secret}
			c.mod(&h)
			want := h
			var err error
			hostile.Check(t, 32<<20, func() {
				err = hr.db.Write(context.Background(), func(tx *bstore.Tx) error {
					return hr.q.Enqueue(tx, h)
				})
			})
			if c.refuse {
				if err == nil || !strings.HasPrefix(err.Error(), "hookqueue: ") {
					t.Fatalf("got %v, want a webhook error", err)
				}
				if n := len(hr.pending()); n != 0 {
					t.Fatalf("%d hooks stored after refusal", n)
				}
				return
			}
			tcheck(t, err, "enqueue")
			hr.q.Kick()
			var r received
			select {
			case r = <-got:
			case <-time.After(20 * time.Second):
				t.Fatalf("no request")
			}
			res := hr.next()
			if !res.hook.LastResult().Success {
				t.Fatalf("delivery result %+v", res.hook.LastResult())
			}
			if !json.Valid(r.body) || bytes.ContainsAny(r.body, "\r\n") {
				t.Fatalf("body is not one line of valid JSON: %.200q", r.body)
			}
			if err := webhook.Verify([]string{secret}, r.header, r.body, hr.clk.Now(), 0); err != nil {
				t.Fatalf("verify: %v", err)
			}
			// The receiver trims the value's spaces (RFC 9110 section 5.5).
			if r.header.Get("Authorization") != strings.Trim(want.Authorization, " \t") {
				t.Fatalf("authorization %q, want %q", r.header.Get("Authorization"), want.Authorization)
			}
			var p webhook.Outgoing
			tcheck(t, json.Unmarshal(r.body, &p), "decoding body")
			// encoding/json replaces each byte of invalid UTF-8.
			wantSubject, err := json.Marshal(want.Payload.Subject)
			tcheck(t, err, "encoding subject")
			tcheck(t, json.Unmarshal(wantSubject, &want.Payload.Subject), "decoding subject")
			if p.Subject != want.Payload.Subject || len(p.Extra) != len(want.Payload.Extra) {
				t.Fatalf("payload subject %.100q, %d extra, want %.100q, %d", p.Subject, len(p.Extra), want.Payload.Subject, len(want.Payload.Extra))
			}
		})
	}
}
