package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"go.uber.org/goleak"

	"github.com/bouncekit/bouncekit/sandbox"
	"github.com/bouncekit/bouncekit/webapi"
	"github.com/bouncekit/bouncekit/webhook"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds waits in real time: a safety net that fails the test.
const wait = 30 * time.Second

// TestRun starts the command on free ports, submits a message, receives
// its webhook, and stops it by canceling ctx.
func TestRun(t *testing.T) {
	hooks := make(chan webhook.Outgoing, 10)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var out webhook.Outgoing
		if err := json.NewDecoder(r.Body).Decode(&out); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		hooks <- out
	}))
	defer app.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-smtp", "127.0.0.1:0", "-http", "127.0.0.1:0", "-dir", t.TempDir(), "-speed", "100", "-webhook-url", app.URL + "/hook"}, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(pr)
		for s.Scan() {
			lines <- s.Text()
		}
	}()
	next := func(prefix string) string {
		t.Helper()
		timeout := time.After(wait)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("output ended before %q", prefix)
				}
				if strings.Contains(l, prefix) {
					return l
				}
			case <-timeout:
				t.Fatalf("no line with %q", prefix)
			}
		}
	}
	sub := next("submission: smtp://")
	addr, _, _ := strings.Cut(strings.TrimPrefix(sub, "submission: smtp://"), " ")
	apiLine := next("api: http://")
	apiURL, _, _ := strings.Cut(strings.TrimPrefix(apiLine, "api: "), " ")
	next("swaks --server")
	next("asyncdsn")
	next("Events:")

	const rcpt = "bob@remote.example"
	msg := "From: app@app.example\r\nSubject: hi\r\n\r\nhello\r\n"
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("app@app.example", []string{rcpt}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	select {
	case o := <-hooks:
		if o.Event != webhook.EventDelivered || o.Recipient != rcpt {
			t.Errorf("webhook %s for %s", o.Event, o.Recipient)
		}
	case <-time.After(wait):
		t.Fatal("no webhook")
	}
	for _, kind := range []sandbox.EventKind{sandbox.EventSubmitted, sandbox.EventAttempt, sandbox.EventWebhook} {
		if l := next(" " + string(kind) + " "); !strings.Contains(l, rcpt) {
			t.Errorf("event line %q does not name %s", l, rcpt)
		}
	}

	// The HTTP API on the same listener sees the delivered message, for
	// the sandbox's account and password only.
	client := webapi.Client{BaseURL: apiURL, Username: sandbox.DefaultAccount, Password: "sandbox"}
	res, err := client.RetiredList(ctx, webapi.RetiredListRequest{Recipient: rcpt})
	if err != nil {
		t.Fatalf("api: %v", err)
	}
	if len(res.Messages) != 1 || res.Messages[0].RecipientAddress != rcpt || !res.Messages[0].Success {
		t.Errorf("api retired list: %+v, want the one delivered message to %s", res.Messages, rcpt)
	}
	client.Password = "wrong"
	if _, err := client.RetiredList(ctx, webapi.RetiredListRequest{}); err == nil {
		t.Errorf("api accepted a wrong password")
	}

	cancel()
	for range lines {
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("run did not return after cancel")
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want error
	}{
		{[]string{"-help"}, flag.ErrHelp},
		{[]string{"-nosuchflag"}, errUsage},
		{[]string{"extra"}, errUsage},
		{[]string{"-speed", "0.5"}, errUsage},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tc.args, io.Discard, &stderr)
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if tc.want == flag.ErrHelp && !strings.Contains(stderr.String(), sandbox.Conventions) {
				t.Errorf("-help does not print the conventions:\n%s", stderr.String())
			}
		})
	}
}
