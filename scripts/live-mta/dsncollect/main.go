// Command dsncollect runs the DSN scenarios of the live MTA set: it submits
// messages with go-smtp's client to one MTA (Postfix, Exim or OpenSMTPD on
// loopback) for recipients whose next hop is a scripted sink SMTP server it
// runs itself, or for local recipients of the MTA, and receives the delivery
// status notifications the MTA sends back to the sender's domain with its
// own SMTP server. Each DSN is written exactly as received to
// <out>/<mta>-<scenario>-<n>.eml. It is run by scripts/live-mta/rebuild-dsn,
// not by go test; the labels are written by hand in the labels file.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// scenario is one submission and the number of DSNs it should bring back.
type scenario struct {
	id     string
	rcpts  []string
	notify []smtp.DSNNotify
	dsns   int // DSNs expected back (a delay warning and a failure are two).
}

// Recipient localparts at the sink decide what it answers; see sink.
const sinkDomain = "sink.example.com"

func scenarios(skip map[string]bool) []scenario {
	failure := []smtp.DSNNotify{smtp.DSNNotifyFailure}
	failDelay := []smtp.DSNNotify{smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed}
	all := []scenario{
		{id: "rcpt", rcpts: []string{"unknown@" + sinkDomain}, notify: failure, dsns: 1},
		{id: "data", rcpts: []string{"reject@" + sinkDomain}, notify: failure, dsns: 1},
		{id: "expire", rcpts: []string{"tempfail@" + sinkDomain}, notify: failDelay, dsns: 2},
		{id: "relayed", rcpts: []string{"ok@" + sinkDomain}, notify: []smtp.DSNNotify{smtp.DSNNotifySuccess}, dsns: 1},
		{id: "multi", rcpts: []string{"unknown-a@" + sinkDomain, "unknown-b@" + sinkDomain, "ok-m@" + sinkDomain}, notify: failure, dsns: 1},
		{id: "full", rcpts: []string{"full@example.org"}, notify: failure, dsns: 1},
		{id: "pipe-nouser", rcpts: []string{"pipe-nouser@example.org"}, notify: failure, dsns: 1},
		{id: "pipe-tempfail", rcpts: []string{"pipe-tempfail@example.org"}, notify: failDelay, dsns: 2},
	}
	var l []scenario
	for _, s := range all {
		if !skip[s.id] {
			l = append(l, s)
		}
	}
	return l
}

// sinkSession answers as the recipient's localpart scripts it: unknown* is
// refused at RCPT with 550 5.1.1, reject* is refused after DATA with 554
// 5.7.1, tempfail* gets 451 4.3.0 at RCPT every time, anything else is
// accepted.
type sinkSession struct{ rejectData bool }

func (s *sinkSession) Reset()                                      { s.rejectData = false }
func (s *sinkSession) Logout() error                               { return nil }
func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	local, _, _ := strings.Cut(strings.ToLower(to), "@")
	switch {
	case strings.HasPrefix(local, "unknown"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: user unknown"}
	case strings.HasPrefix(local, "tempfail"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "temporary failure, try again later"}
	case strings.HasPrefix(local, "reject"):
		s.rejectData = true
	}
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if s.rejectData {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "message rejected after data"}
	}
	return nil
}

// inbox receives the DSNs for the sender's domain.
type inbox struct {
	mu    sync.Mutex
	dir   string
	mta   string
	count map[string]int // Per scenario, DSNs received.
	got   chan struct{}
}

type inboxSession struct {
	in    *inbox
	rcpts []string
}

func (s *inboxSession) Reset()                               { s.rcpts = nil }
func (s *inboxSession) Logout() error                        { return nil }
func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	in := s.in
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, to := range s.rcpts {
		// The sender was <mta>-<scenario>@example.net.
		local, _, _ := strings.Cut(to, "@")
		id := strings.TrimPrefix(local, in.mta+"-")
		in.count[id]++
		name := filepath.Join(in.dir, fmt.Sprintf("%s-%s-%d.eml", in.mta, id, in.count[id]))
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return err
		}
		log.Printf("dsncollect: %s (%d bytes, rcpt to %s)", name, len(b), to)
	}
	select {
	case in.got <- struct{}{}:
	default:
	}
	return nil
}

func serve(addr string, be smtp.Backend, domain string) (*smtp.Server, error) {
	s := smtp.NewServer(be)
	s.Addr = addr
	s.Domain = domain
	s.ReadTimeout = time.Minute
	s.WriteTimeout = time.Minute
	s.MaxMessageBytes = 1 << 20
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go s.Serve(l)
	return s, nil
}

func submit(addr, mta string, sc scenario) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client10.example.net"); err != nil {
		return err
	}
	from := mta + "-" + sc.id + "@example.net"
	msgID := mta + "-" + sc.id + "@example.net"
	if err := c.Mail(from, &smtp.MailOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: "env-" + mta + "-" + sc.id}); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	for _, r := range sc.rcpts {
		if err := c.Rcpt(r, &smtp.RcptOptions{Notify: sc.notify, OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: r}); err != nil {
			return fmt.Errorf("rcpt %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: <%s>\r\nTo: %s\r\nSubject: live dsn %s %s\r\nMessage-ID: <%s>\r\nDate: %s\r\n\r\nThe %s scenario of the live DSN set.\r\n",
		from, strings.Join(sc.rcpts, ", "), mta, sc.id, msgID, time.Now().UTC().Format(time.RFC1123Z), sc.id)
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of data: %w", err)
	}
	return c.Quit()
}

func main() {
	mta := flag.String("mta", "", "MTA name: postfix, exim or opensmtpd")
	addr := flag.String("submit", "", "MTA's SMTP address")
	sinkAddr := flag.String("sink", "127.0.0.30:25", "sink server address (mx.sink.example.com)")
	inboxAddr := flag.String("inbox", "127.0.0.20:25", "address receiving the DSNs (mx.example.net)")
	out := flag.String("out", "", "directory for the .eml files")
	wait := flag.Duration("wait", 3*time.Minute, "how long to wait for the DSNs")
	skipFlag := flag.String("skip", "", "comma-separated scenarios this MTA cannot run")
	flag.Parse()
	if *mta == "" || *addr == "" || *out == "" {
		log.Fatal("dsncollect: -mta, -submit and -out are required")
	}
	skip := map[string]bool{}
	for _, s := range strings.Split(*skipFlag, ",") {
		if s != "" {
			skip[s] = true
		}
	}
	old, _ := filepath.Glob(filepath.Join(*out, *mta+"-*.eml"))
	for _, f := range old {
		os.Remove(f)
	}
	sink, err := serve(*sinkAddr, smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{}, nil }), "mx."+sinkDomain)
	if err != nil {
		log.Fatalf("dsncollect: sink: %v", err)
	}
	defer sink.Close()
	in := &inbox{dir: *out, mta: *mta, count: map[string]int{}, got: make(chan struct{}, 1)}
	isrv, err := serve(*inboxAddr, smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &inboxSession{in: in}, nil }), "mx.example.net")
	if err != nil {
		log.Fatalf("dsncollect: inbox: %v", err)
	}
	defer isrv.Close()

	scs := scenarios(skip)
	want := map[string]int{}
	for _, sc := range scs {
		if err := submit(*addr, *mta, sc); err != nil {
			log.Printf("dsncollect: %s %s: submit: %v", *mta, sc.id, err)
			continue
		}
		want[sc.id] = sc.dsns
	}
	ctx, cancel := context.WithTimeout(context.Background(), *wait)
	defer cancel()
	for {
		in.mu.Lock()
		done := true
		for id, n := range want {
			if in.count[id] < n {
				done = false
			}
		}
		in.mu.Unlock()
		if done {
			break
		}
		select {
		case <-in.got:
			continue
		case <-ctx.Done():
			err = errors.New("timeout")
		}
		break
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	var ids []string
	for _, sc := range scs {
		ids = append(ids, fmt.Sprintf("%s %d/%d", sc.id, in.count[sc.id], sc.dsns))
	}
	sort.Strings(ids)
	log.Printf("dsncollect: %s: %s", *mta, strings.Join(ids, ", "))
	if err != nil {
		log.Printf("dsncollect: %s: not every DSN came back: %v", *mta, err)
		os.Exit(1)
	}
}
