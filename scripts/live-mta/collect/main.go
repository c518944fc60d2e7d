// Command collect runs the scenarios of the live MTA reply set against
// Postfix, Exim and OpenSMTPD on loopback with go-smtp's client, and writes
// each scenario's first failing reply, exactly as it came over the wire, with
// its hand-written label to a TSV file that bounce's table test reads. It is
// run by scripts/live-mta/rebuild, not by go test.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// label is the hand-written verdict for a scenario's reply, from the MTA's
// documentation of the restriction that produces it.
type label struct {
	stage     string // greeting, helo, mail, rcpt, data, data-end
	reason    string // A bounce.Reason.
	permanent bool
	hard      bool   // A hard bounce of the recipient.
	doc       string // The documentation the label follows.
}

type scenario struct {
	mta      string // Row's MTA: postfix, exim, opensmtpd.
	server   string // Address key: postfix, postscreen, exim, opensmtpd.
	id       string
	client   string // Local address to connect from.
	helo     string
	from     string
	rcpts    []string
	size     int           // Message body size.
	repeat   int           // Run this many transactions, each on a new connection; the last failure counts.
	hold     int           // Connections to hold open (after their greeting) while running.
	retryFor time.Duration // Retry a 4xx reply for this long (Postfix address verification in progress).
	raw      []string      // Instead of go-smtp: write these lines before reading the greeting.
	want     label
}

const (
	good     = "127.0.0.10"
	goodHelo = "helo.example.net"
	sender   = "sender@example.net"
)

func rcpt(local, domain string) []string { return []string{local + "@" + domain} }

func scenarios() []scenario {
	var l []scenario
	add := func(s scenario) {
		if s.client == "" {
			s.client = good
		}
		if s.helo == "" {
			s.helo = goodHelo
		}
		if s.from == "" {
			s.from = sender
		}
		if s.size == 0 {
			s.size = 200
		}
		if s.repeat == 0 {
			s.repeat = 1
		}
		l = append(l, s)
	}

	// Unknown recipients, also with localparts that are words of other
	// reasons: the reply echoes the address.
	for _, lp := range []string{"bob", "virus", "spamtrap", "greylist", "reputation", "dnsbl", "spamhaus", "blocked", "quota", "mailbox.full", "rate-limit", "sender-verify"} {
		add(scenario{mta: "postfix", server: "postfix", id: "unknown-user-" + lp, rcpts: rcpt(lp, "example.org"),
			want: label{"rcpt", "userunknown", true, true, "LOCAL_RECIPIENT_README: User unknown in local recipient table"}})
		if lp == "bob" || lp == "virus" {
			// Exim's reply does not echo the address: two rows are enough.
			add(scenario{mta: "exim", server: "exim", id: "unknown-user-" + lp, rcpts: rcpt(lp, "example.org"),
				want: label{"rcpt", "userunknown", true, true, "spec 42.2 verify = recipient: the local domain has no such user"}})
		}
		add(scenario{mta: "opensmtpd", server: "opensmtpd", id: "unknown-user-" + lp, rcpts: rcpt(lp, "example.org"),
			want: label{"rcpt", "userunknown", true, true, "smtpd.conf(5) action virtual <users>: the recipient is not in the virtual table"}})
	}

	// Postfix: relay, client, HELO and sender restrictions (postconf(5)).
	add(scenario{mta: "postfix", server: "postfix", id: "relay-denied", rcpts: rcpt("x", "example.com"),
		want: label{"rcpt", "norelaying", true, false, "postconf(5) reject_unauth_destination"}})
	add(scenario{mta: "postfix", server: "postfix", id: "client-access", client: "127.0.0.14", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "blocked", true, false, "access(5) check_client_access REJECT: our client address"}})
	add(scenario{mta: "postfix", server: "postfix", id: "client-dnsbl", client: "127.0.0.13", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "blocked", true, false, "postconf(5) reject_rbl_client: our client address is listed"}})
	add(scenario{mta: "postfix", server: "postfix", id: "client-no-ptr", client: "127.0.0.11", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "requireptr", true, false, "postconf(5) reject_unknown_reverse_client_hostname: no PTR"}})
	add(scenario{mta: "postfix", server: "postfix", id: "client-ptr-mismatch", client: "127.0.0.12", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "requireptr", true, false, "postconf(5) reject_unknown_client_hostname: PTR does not resolve back"}})
	add(scenario{mta: "postfix", server: "postfix", id: "helo-access", helo: "blocked-helo.example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "blocked", true, false, "access(5) check_helo_access REJECT: our HELO name"}})
	add(scenario{mta: "postfix", server: "postfix", id: "helo-invalid", helo: "bad_helo!", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "syntaxerror", true, false, "postconf(5) reject_invalid_helo_hostname: bad HELO syntax (501 5.5.2)"}})
	add(scenario{mta: "postfix", server: "postfix", id: "helo-non-fqdn", helo: "helohost", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "syntaxerror", true, false, "postconf(5) reject_non_fqdn_helo_hostname (504 5.5.2)"}})
	add(scenario{mta: "postfix", server: "postfix", id: "helo-unknown", helo: "nohost.example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "blocked", true, false, "postconf(5) reject_unknown_helo_hostname: our HELO name has no A or MX"}})
	add(scenario{mta: "postfix", server: "postfix", id: "sender-access", from: "blocked@example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "access(5) check_sender_access REJECT: our sender"}})
	add(scenario{mta: "postfix", server: "postfix", id: "sender-domain-access", from: "x@spammer.example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "access(5) check_sender_access REJECT on the domain: our sender"}})
	add(scenario{mta: "postfix", server: "postfix", id: "sender-non-fqdn", from: "x@localhost", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "postconf(5) reject_non_fqdn_sender: our sender"}})
	add(scenario{mta: "postfix", server: "postfix", id: "sender-domain-nxdomain", from: "x@nonexistent.example", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "postconf(5) reject_unknown_sender_domain: our sender domain does not exist"}})
	add(scenario{mta: "postfix", server: "postfix", id: "sender-domain-null-mx", from: "x@nullmx.example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "postconf(5) reject_unknown_sender_domain: our sender domain has a null MX (RFC 7505)"}})
	add(scenario{mta: "postfix", server: "postfix", id: "sender-domain-tempfail", from: "x@tempfail.example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", false, false, "postconf(5) reject_unknown_sender_domain: the lookup failed for now"}})
	add(scenario{mta: "postfix", server: "postfix", id: "sender-rhsbl", from: "x@listed.example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "blocked", true, false, "postconf(5) reject_rhsbl_sender: our sender domain is listed"}})
	add(scenario{mta: "postfix", server: "postfix", id: "sender-unverified", from: "ghost@example.org", rcpts: rcpt("alice", "example.org"), retryFor: 20 * time.Second,
		want: label{"rcpt", "rejected", true, false, "ADDRESS_VERIFICATION_README reject_unverified_sender: the probe to our sender bounced"}})
	add(scenario{mta: "postfix", server: "postfix", id: "sender-unverified-virus", from: "virus@example.org", rcpts: rcpt("alice", "example.org"), retryFor: 20 * time.Second,
		want: label{"rcpt", "rejected", true, false, "ADDRESS_VERIFICATION_README reject_unverified_sender: the probe to our sender bounced"}})
	add(scenario{mta: "postfix", server: "postfix", id: "greylist", rcpts: rcpt("grey", "example.org"),
		want: label{"rcpt", "onhold", false, false, "postgrey(8) via check_policy_service: greylisted, retry later"}})
	add(scenario{mta: "postfix", server: "postfix", id: "message-size", rcpts: rcpt("alice", "example.org"), size: 40000,
		want: label{"data-end", "mesgtoobig", true, false, "postconf(5) message_size_limit"}})
	add(scenario{mta: "postfix", server: "postfix", id: "recipient-limit", rcpts: []string{"alice@example.org", "alice@example.org", "alice@example.org", "alice@example.org", "alice@example.org", "alice@example.org"},
		want: label{"rcpt", "toomanyconn", false, false, "postconf(5) smtpd_recipient_limit"}})
	add(scenario{mta: "postfix", server: "postfix", id: "message-rate", client: "127.0.0.15", rcpts: rcpt("alice", "example.org"), repeat: 3,
		want: label{"mail", "speeding", false, false, "postconf(5) smtpd_client_message_rate_limit (anvil): our rate"}})
	add(scenario{mta: "postfix", server: "postfix", id: "connection-count", client: "127.0.0.17", rcpts: rcpt("alice", "example.org"), hold: 2,
		want: label{"greeting", "toomanyconn", false, false, "postconf(5) smtpd_client_connection_count_limit (anvil)"}})
	add(scenario{mta: "postfix", server: "postscreen", id: "postscreen-dnsbl", client: "127.0.0.16", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "blocked", true, false, "POSTSCREEN_README postscreen_dnsbl_action enforce: our client address is listed"}})
	add(scenario{mta: "postfix", server: "postscreen", id: "postscreen-pregreet", client: "127.0.0.10", raw: []string{"EHLO " + goodHelo, "MAIL FROM:<" + sender + ">", "RCPT TO:<alice@example.org>"},
		want: label{"mail", "syntaxerror", true, false, "POSTSCREEN_README postscreen_greet_action enforce: our client talked before its turn (a protocol error)"}})
	add(scenario{mta: "postfix", server: "postscreen", id: "postscreen-denylist", client: "127.0.0.14", rcpts: rcpt("alice", "example.org"),
		want: label{"greeting", "blocked", true, false, "POSTSCREEN_README postscreen_access_list reject, postscreen_denylist_action drop: our client address"}})

	// Exim: the ACLs of exim.conf, from the spec's ACL chapter.
	add(scenario{mta: "exim", server: "exim", id: "relay-denied", rcpts: rcpt("x", "example.com"),
		want: label{"rcpt", "norelaying", true, false, "spec 42 default ACL: relay not permitted"}})
	add(scenario{mta: "exim", server: "exim", id: "client-dnsbl", client: "127.0.0.13", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "blocked", true, false, "spec 42.26 dnslists: our client address is listed"}})
	add(scenario{mta: "exim", server: "exim", id: "client-no-ptr", client: "127.0.0.11", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "requireptr", true, false, "spec 42.26 verify = reverse_host_lookup: no PTR"}})
	add(scenario{mta: "exim", server: "exim", id: "client-ptr-mismatch", client: "127.0.0.12", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "requireptr", true, false, "spec 42.26 verify = reverse_host_lookup: PTR does not resolve back"}})
	add(scenario{mta: "exim", server: "exim", id: "helo-unverified", helo: "nohost.example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "blocked", true, false, "spec 42.26 verify = helo: our HELO name does not resolve to our address"}})
	add(scenario{mta: "exim", server: "exim", id: "sender-domain-nxdomain", from: "x@nonexistent.example", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "spec 42.26 verify = sender: our sender domain does not exist"}})
	add(scenario{mta: "exim", server: "exim", id: "sender-domain-bad-mx", from: "x@badmx.example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "spec 42.26 verify = sender: our sender domain's MX host does not exist"}})
	add(scenario{mta: "exim", server: "exim", id: "sender-local-unknown", from: "ghost@example.org", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "spec 42.26 verify = sender: our sender is an unknown local user"}})
	add(scenario{mta: "exim", server: "exim", id: "sender-local-unknown-virus", from: "virus@example.org", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "spec 42.26 verify = sender: our sender is an unknown local user"}})
	add(scenario{mta: "exim", server: "exim", id: "sender-domain-tempfail", from: "x@tempfail.example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", false, false, "spec 42.26 verify = sender: the lookup failed for now"}})
	add(scenario{mta: "exim", server: "exim", id: "sender-access", from: "blocked@example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "Debian exim4-config check_rcpt: locally blacklisted sender address"}})
	add(scenario{mta: "exim", server: "exim", id: "client-access", client: "127.0.0.14", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "blocked", true, false, "Debian exim4-config check_rcpt: locally blacklisted client address"}})
	add(scenario{mta: "exim", server: "exim", id: "message-size", rcpts: rcpt("alice", "example.org"), size: 40000,
		want: label{"data-end", "mesgtoobig", true, false, "spec message_size_limit"}})
	add(scenario{mta: "exim", server: "exim", id: "message-rate", client: "127.0.0.15", rcpts: rcpt("alice", "example.org"), repeat: 3,
		want: label{"mail", "speeding", false, false, "spec 42.38 ratelimit (the spec's example, defer): our rate"}})
	add(scenario{mta: "exim", server: "exim", id: "greylist", from: "grey@example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "onhold", false, false, "spec 42 defer ACL as greylisting"}})

	// OpenSMTPD: smtpd.conf(5) match rules, limits and builtin filters.
	add(scenario{mta: "opensmtpd", server: "opensmtpd", id: "relay-denied", rcpts: rcpt("x", "example.com"),
		want: label{"rcpt", "norelaying", true, false, "smtpd.conf(5): no match rule for a remote domain"}})
	add(scenario{mta: "opensmtpd", server: "opensmtpd", id: "sender-reject", from: "blocked@example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"rcpt", "rejected", true, false, "smtpd.conf(5) match mail-from <table> reject: our sender (OpenSMTPD answers Invalid recipient)"}})
	add(scenario{mta: "opensmtpd", server: "opensmtpd", id: "message-size", rcpts: rcpt("alice", "example.org"), size: 40000,
		want: label{"data-end", "mesgtoobig", true, false, "smtpd.conf(5) smtp max-message-size"}})
	add(scenario{mta: "opensmtpd", server: "opensmtpd", id: "client-no-ptr", client: "127.0.0.11", rcpts: rcpt("alice", "example.org"),
		want: label{"greeting", "requireptr", true, false, "smtpd.conf(5) builtin filter !rdns disconnect: no PTR"}})
	add(scenario{mta: "opensmtpd", server: "opensmtpd", id: "client-ptr-mismatch", client: "127.0.0.12", rcpts: rcpt("alice", "example.org"),
		want: label{"greeting", "requireptr", true, false, "smtpd.conf(5) builtin filter !fcrdns disconnect: PTR does not resolve back"}})
	add(scenario{mta: "opensmtpd", server: "opensmtpd", id: "client-src-reject", client: "127.0.0.14", rcpts: rcpt("alice", "example.org"),
		want: label{"greeting", "blocked", true, false, "smtpd.conf(5) builtin filter src <table> disconnect: our client address"}})
	add(scenario{mta: "opensmtpd", server: "opensmtpd", id: "helo-reject", helo: "blocked-helo.example.net", rcpts: rcpt("alice", "example.org"),
		want: label{"helo", "blocked", true, false, "smtpd.conf(5) builtin filter helo <table> reject: our HELO name"}})
	return l
}

type result struct {
	s     scenario
	stage string
	reply string // As on the wire, lines joined with "\n".
	err   error
}

func main() {
	addrs := map[string]string{}
	for _, k := range []string{"postfix", "postscreen", "exim", "opensmtpd"} {
		k := k
		flag.Func(k, "address of the "+k+" listener", func(v string) error { addrs[k] = v; return nil })
	}
	out := flag.String("out", "live-replies.tsv", "TSV file to write (rows of other MTAs are kept)")
	versionsPath := flag.String("versions", "", "file with lines \"mta version\"")
	flag.Parse()

	versions := map[string]string{}
	if b, err := os.ReadFile(*versionsPath); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
				versions[k] = v
			}
		}
	}
	for k, a := range addrs {
		if err := waitListening(a); err != nil {
			log.Fatalf("collect: %s at %s: %v", k, a, err)
		}
	}
	time.Sleep(2 * time.Second) // Let the MTAs finish starting their helper processes.

	var rows []string
	bad := 0
	for _, s := range scenarios() {
		addr, ok := addrs[s.server]
		if !ok {
			continue
		}
		r := run(s, addr)
		if r.err != nil {
			log.Printf("collect: %s %s: %v", s.mta, s.id, r.err)
			bad++
			continue
		}
		if r.stage != s.want.stage {
			log.Printf("collect: %s %s: failed at %s, labelled for %s: %q", s.mta, s.id, r.stage, s.want.stage, r.reply)
		}
		log.Printf("%s %s (%s): %q", s.mta, s.id, r.stage, r.reply)
		rows = append(rows, strings.Join([]string{
			s.mta, versions[s.mta], s.id, s.client, r.stage, escape(r.reply),
			s.want.reason, fmt.Sprint(s.want.permanent), fmt.Sprint(s.want.hard), s.want.doc,
		}, "\t"))
	}
	if err := write(*out, rows, addrs, versions); err != nil {
		log.Fatalf("collect: %v", err)
	}
	if bad > 0 {
		log.Fatalf("collect: %d scenarios got no failing reply", bad)
	}
}

func waitListening(addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// recorder keeps what the server sent since our last command, so the reply
// that failed can be written exactly as it came.
type recorder struct {
	net.Conn
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.buf.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.buf.Reset()
	r.writes++
	r.mu.Unlock()
	return r.Conn.Write(p)
}

// lastReply returns the last complete reply in what was read.
func (r *recorder) lastReply() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	lines := strings.Split(strings.TrimRight(r.buf.String(), "\r\n"), "\n")
	start := len(lines) - 1
	for start > 0 && len(lines[start-1]) > 3 && lines[start-1][3] == '-' {
		start--
	}
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], "\r")
	}
	return strings.Join(lines[start:], "\n")
}

func dial(client, addr string) (*recorder, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(client)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return &recorder{Conn: c}, nil
}

func run(s scenario, addr string) result {
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := 0; i < s.hold; i++ {
		c, err := dial(s.client, addr)
		if err != nil {
			return result{s: s, err: err}
		}
		held = append(held, c)
		br := bufio.NewReader(c)
		if _, err := br.ReadString('\n'); err != nil {
			return result{s: s, err: err}
		}
	}
	if s.raw != nil {
		return runRaw(s, addr)
	}
	var last result
	deadline := time.Now().Add(s.retryFor)
	for i := 0; i < s.repeat; i++ {
		for {
			last = transaction(s, addr)
			if last.err != nil || last.stage == "" || last.reply == "" || last.reply[0] != '4' || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
	}
	if last.err == nil && last.stage == "" {
		last.err = errors.New("accepted")
	}
	return last
}

// runRaw writes its lines before the greeting (postscreen's pregreet test),
// then reads the replies and records the first failure.
func runRaw(s scenario, addr string) result {
	c, err := dial(s.client, addr)
	if err != nil {
		return result{s: s, err: err}
	}
	defer c.Close()
	for _, l := range s.raw {
		if _, err := c.Conn.Write([]byte(l + "\r\n")); err != nil {
			return result{s: s, err: err}
		}
	}
	br := bufio.NewReader(c.Conn)
	stages := append([]string{"greeting"}, "helo", "mail", "rcpt")
	for _, stage := range stages {
		var lines []string
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return result{s: s, err: fmt.Errorf("%s: %w", stage, err)}
			}
			line = strings.TrimRight(line, "\r\n")
			lines = append(lines, line)
			if len(line) < 4 || line[3] != '-' {
				break
			}
		}
		if lines[0][0] == '4' || lines[0][0] == '5' {
			return result{s: s, stage: stage, reply: strings.Join(lines, "\n")}
		}
	}
	return result{s: s, err: errors.New("accepted")}
}

func transaction(s scenario, addr string) result {
	rc, err := dial(s.client, addr)
	if err != nil {
		return result{s: s, err: err}
	}
	c := smtp.NewClient(rc)
	c.CommandTimeout = 30 * time.Second
	c.SubmissionTimeout = 30 * time.Second
	defer c.Close()
	fail := func(stage string, err error) result {
		var se *smtp.SMTPError
		if !errors.As(err, &se) {
			return result{s: s, err: fmt.Errorf("%s: %w", stage, err)}
		}
		return result{s: s, stage: stage, reply: rc.lastReply()}
	}
	// go-smtp reads the greeting with the first command: a failure before
	// anything was written is the greeting.
	if err := c.Hello(s.helo); err != nil {
		if rc.writes == 0 {
			return fail("greeting", err)
		}
		return fail("helo", err)
	}
	if err := c.Mail(s.from, nil); err != nil {
		return fail("mail", err)
	}
	for _, to := range s.rcpts {
		if err := c.Rcpt(to, nil); err != nil {
			return fail("rcpt", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fail("data", err)
	}
	msg := "From: <" + s.from + ">\r\nTo: <" + s.rcpts[0] + ">\r\nSubject: live reply set\r\nMessage-ID: <" + s.id + "@example.net>\r\n\r\n" + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", s.size/65+1)
	if _, err := w.Write([]byte(msg)); err != nil {
		return fail("data-end", err)
	}
	if err := w.Close(); err != nil {
		return fail("data-end", err)
	}
	c.Quit()
	return result{s: s}
}

func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`).Replace(s)
}

func write(path string, rows []string, addrs map[string]string, versions map[string]string) error {
	rebuilt := map[string]bool{}
	for k := range addrs {
		if k == "postscreen" {
			k = "postfix"
		}
		rebuilt[k] = true
	}
	var kept []string
	if b, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "mta\t") {
				continue
			}
			mta, _, _ := strings.Cut(line, "\t")
			if !rebuilt[mta] {
				kept = append(kept, line)
			}
		}
	}
	all := append(kept, rows...)
	sort.SliceStable(all, func(i, j int) bool {
		mi, _, _ := strings.Cut(all[i], "\t")
		mj, _, _ := strings.Cut(all[j], "\t")
		return mi < mj
	})
	var b strings.Builder
	b.WriteString("# Live MTA reply set, written by scripts/live-mta/rebuild; do not edit by hand.\n")
	b.WriteString("# The labels are hand-written in scripts/live-mta/collect from each MTA's documentation.\n")
	b.WriteString("# Columns: mta, version, scenario, client address, stage, reply (as on the wire, \\n between lines),\n")
	b.WriteString("# reason, permanent, hard bounce of the recipient, documentation the label follows.\n")
	b.WriteString("mta\tversion\tscenario\tclient\tstage\treply\treason\tpermanent\thardbounce\tdoc\n")
	for _, r := range all {
		b.WriteString(r + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
