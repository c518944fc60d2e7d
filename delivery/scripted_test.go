package delivery_test

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/delivery"
)

// startScripted starts a hand-written SMTP server on 127.0.0.1:0 for what
// go-smtp's server cannot be made to do (no 8BITMIME, AUTH without
// go-sasl). replies maps a command's first word ("EHLO", "AUTH", "MAIL",
// "RCPT", "DATA", "." for the end of data) to its reply lines; a command
// not in replies gets "250 ok". It returns the address and a func giving
// the command lines received.
func startScripted(t *testing.T, replies map[string]string) (string, func() []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				w := bufio.NewWriter(c)
				r := bufio.NewReader(c)
				send := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
				send("220 scripted.example ESMTP")
				inData := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimRight(line, "\r\n")
					verb := strings.ToUpper(strings.Fields(line + " x")[0])
					if inData {
						if line != "." {
							continue
						}
						inData, verb = false, "."
					}
					mu.Lock()
					got = append(got, line)
					mu.Unlock()
					if rep, ok := replies[verb]; ok {
						send(rep)
					} else if verb == "DATA" {
						send("354 go on")
					} else if verb == "QUIT" {
						send("221 bye")
						return
					} else {
						send("250 ok")
					}
					if rep, ok := replies["DATA"]; verb == "DATA" && (!ok || strings.HasPrefix(rep, "354")) {
						inData = true
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// A message with 8-bit data fails permanently before MAIL FROM at a
// server without 8BITMIME; this client does not convert.
func TestNo8BITMIME(t *testing.T) {
	addr, got := startScripted(t, map[string]string{"EHLO": "250-scripted.example\r\n250 SIZE 100000"})
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	m := msgs("a@example.org")
	m[0].Has8bit = true
	check(t, deliver(t, c, m), failed(bounce.StageMail, 0, true).with(bounce.EnhancedCode{5, 6, 3}, nil))
	for _, l := range got() {
		if strings.HasPrefix(l, "MAIL") {
			t.Errorf("server got %q", l)
		}
	}
}

// A server that does not know EHLO is greeted with HELO.
func TestHELOFallback(t *testing.T) {
	addr, got := startScripted(t, map[string]string{"EHLO": "502 5.5.1 unknown command"})
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	check(t, deliver(t, c, msgs("a@example.org")), delivered())
	if l := got(); len(l) < 2 || l[1] != "HELO client.example.com" {
		t.Errorf("server got %q, want HELO after EHLO", l)
	}
}

// A smarthost authenticates with AUTH PLAIN; a refusal fails at StageAuth.
func TestSmarthostAuth(t *testing.T) {
	ehlo := "250-scripted.example\r\n250 AUTH PLAIN"
	for _, tc := range []struct {
		name string
		auth string
		want want
	}{
		{"ok", "235 2.7.0 authenticated", delivered()},
		{"refused", "535 5.7.8 bad credentials", failed(bounce.StageAuth, 535, true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, got := startScripted(t, map[string]string{"EHLO": ehlo, "AUTH": tc.auth})
			c, _, d := newClient(t)
			d.routes["relay.example.com:587"] = addr
			c.Smarthost = &delivery.Smarthost{Host: "relay.example.com", Insecure: true, Username: "user", Password: "secret"}
			check(t, deliver(t, c, msgs("a@example.org")), tc.want)
			// "\x00user\x00secret" in base64.
			if l := got(); len(l) < 2 || l[1] != "AUTH PLAIN AHVzZXIAc2VjcmV0" {
				t.Errorf("server got %q", l)
			}
		})
	}
}

// A refused STARTTLS is, like a failed handshake, retried on the same
// address without TLS.
func TestSTARTTLSRefused(t *testing.T) {
	addr, got := startScripted(t, map[string]string{
		"EHLO":     "250-scripted.example\r\n250-8BITMIME\r\n250 STARTTLS",
		"STARTTLS": "454 4.7.0 TLS not available",
	})
	c, _, d := newClient(t, mxHost{"mx1.example.org", 10, addr})
	check(t, deliver(t, c, msgs("a@example.org")), delivered())
	if n := len(d.dials()); n != 2 {
		t.Errorf("%d dials, want 2", n)
	}
	var starttls int
	for _, l := range got() {
		if l == "STARTTLS" {
			starttls++
		}
	}
	if starttls != 1 {
		t.Errorf("STARTTLS sent %d times, want once", starttls)
	}
}
