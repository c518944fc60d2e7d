package delivery_test

import (
	"bufio"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/delivery"
	"github.com/bouncekit/bouncekit/dsn"
)

// startScripted starts a hand-written SMTP server on 127.0.0.1:0 for what
// go-smtp's server cannot be made to do (no 8BITMIME, AUTH without
// go-sasl). replies maps a command's first word ("EHLO", "AUTH", "MAIL",
// "RCPT", "DATA", "." for the end of data) to its reply lines; a command
// not in replies gets "250 ok". It returns the address and a func giving
// the command lines received.
func startScripted(t *testing.T, replies map[string]string) (string, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	addr := serveConns(t, func(c net.Conn) {
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
	})
	return addr, func() []string {
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

// startGroupServer starts a server that offers PIPELINING and DSN and
// answers MAIL, RCPT and DATA only once it has read all of them: a client
// that waits for each reply gets none. Recipients starting with "bad" are
// refused. It returns the address and the lines of the command group.
func startGroupServer(t *testing.T) (string, func() []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var group []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		read := func() string {
			line, _ := r.ReadString('\n')
			return strings.TrimRight(line, "\r\n")
		}
		write := func(s string) { c.Write([]byte(s)) }
		write("220 group.example ESMTP\r\n")
		read() // EHLO
		write("250-group.example\r\n250-PIPELINING\r\n250-DSN\r\n250 8BITMIME\r\n")
		var replies strings.Builder
		for {
			line := read()
			if line == "" {
				return
			}
			mu.Lock()
			group = append(group, line)
			mu.Unlock()
			switch {
			case strings.HasPrefix(line, "RCPT TO:<bad"):
				replies.WriteString("550 5.1.1 no such user\r\n")
			case line == "DATA":
				replies.WriteString("354 go on\r\n")
			default:
				replies.WriteString("250 2.1.0 ok\r\n")
			}
			if line == "DATA" {
				break
			}
		}
		write(replies.String())
		for read() != "." {
		}
		write("250 2.0.0 queued as 1\r\n")
		if strings.HasPrefix(read(), "QUIT") {
			write("221 bye\r\n")
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), group...)
	}
}

// With PIPELINING the transaction's commands go as one group: this server
// answers nothing before DATA. DSN parameters are xtext-encoded.
func TestPipeliningGroup(t *testing.T) {
	addr, group := startGroupServer(t)
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	c.Timeouts.Command = 5 * time.Second // Reached only if the client waited for a reply.
	m := msgs("a@example.org", "bad@example.org", "c@example.org")
	m[0].EnvID = "id+1=x"
	m[0].Ret = dsn.RetHeaders
	m[0].Notify = dsn.NotifyFailure
	m[0].ORcpt = "utf-8;ä+@example.org"
	results := deliver(t, c, m)
	check(t, results, delivered(), failed(bounce.StageRcpt, 550, true), delivered())
	if d := results[0].Delivery; d.Code != 250 || d.EnhancedCode != (bounce.EnhancedCode{2, 0, 0}) || d.Line != "queued as 1" {
		t.Errorf("delivery %+v", d)
	}
	want := []string{
		"MAIL FROM:<sender@example.com> BODY=8BITMIME RET=HDRS ENVID=id+2B1+3Dx",
		`RCPT TO:<a@example.org> NOTIFY=FAILURE ORCPT=utf-8;\x{E4}\x{2B}@example.org`,
		"RCPT TO:<bad@example.org>",
		"RCPT TO:<c@example.org>",
		"DATA",
	}
	if got := group(); !reflect.DeepEqual(got, want) {
		t.Errorf("command group\n got %q\nwant %q", got, want)
	}
}
