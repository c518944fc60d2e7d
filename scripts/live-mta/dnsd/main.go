// Command dnsd is a small scripted DNS server for the live MTA reply set: it
// answers from a zone file, so the MTAs under test get real DNS-based
// rejections (unknown sender domain, missing reverse DNS, DNSBL listings)
// without the network. It is not part of bouncekit; scripts/live-mta/rebuild
// runs it on a loopback address.
//
// Zone file lines are "name type value", e.g.:
//
//	example.net. MX 10 mx.example.net.
//	mx.example.net. A 127.0.0.1
//	1.0.0.127.in-addr.arpa. PTR client.example.net.
//	2.0.0.127.bl.example.test. TXT listed for testing
//	tempfail.example. SERVFAIL
//
// A name without records answers NXDOMAIN; a name with records of other
// types answers NOERROR without answers (NODATA). Names are case-insensitive.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

type record struct {
	typ   dnsmessage.Type
	value string
}

func main() {
	addr := flag.String("addr", "127.0.0.153:53", "UDP and TCP address to listen on")
	zonePath := flag.String("zone", "zone.txt", "zone file")
	flag.Parse()
	zone, servfail, err := readZone(*zonePath)
	if err != nil {
		log.Fatalf("dnsd: %v", err)
	}
	pc, err := net.ListenPacket("udp", *addr)
	if err != nil {
		log.Fatalf("dnsd: %v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("dnsd: %v", err)
	}
	go serveTCP(ln, zone, servfail)
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			log.Fatalf("dnsd: %v", err)
		}
		resp := answer(buf[:n], zone, servfail)
		if resp != nil {
			if len(resp) > 512 {
				resp = truncated(buf[:n])
			}
			if _, err := pc.WriteTo(resp, from); err != nil {
				log.Printf("dnsd: write: %v", err)
			}
		}
	}
}

func serveTCP(ln net.Listener, zone map[string][]record, servfail map[string]bool) {
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Printf("dnsd: accept: %v", err)
			return
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				var l [2]byte
				if _, err := r.Read(l[:1]); err != nil {
					return
				}
				if _, err := r.Read(l[1:]); err != nil {
					return
				}
				msg := make([]byte, int(l[0])<<8|int(l[1]))
				if _, err := readFull(r, msg); err != nil {
					return
				}
				resp := answer(msg, zone, servfail)
				if resp == nil {
					return
				}
				out := append([]byte{byte(len(resp) >> 8), byte(len(resp))}, resp...)
				if _, err := c.Write(out); err != nil {
					return
				}
			}
		}()
	}
}

func readFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func readZone(path string) (map[string][]record, map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	zone := map[string][]record{}
	servfail := map[string]bool{}
	s := bufio.NewScanner(f)
	for ln := 1; s.Scan(); ln++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t := strings.Fields(line)
		if len(t) < 2 {
			return nil, nil, fmt.Errorf("%s:%d: want name type value", path, ln)
		}
		name := strings.ToLower(t[0])
		if !strings.HasSuffix(name, ".") {
			name += "."
		}
		var typ dnsmessage.Type
		switch strings.ToUpper(t[1]) {
		case "SERVFAIL":
			servfail[name] = true
			continue
		case "A":
			typ = dnsmessage.TypeA
		case "AAAA":
			typ = dnsmessage.TypeAAAA
		case "MX":
			typ = dnsmessage.TypeMX
		case "PTR":
			typ = dnsmessage.TypePTR
		case "TXT":
			typ = dnsmessage.TypeTXT
		case "CNAME":
			typ = dnsmessage.TypeCNAME
		default:
			return nil, nil, fmt.Errorf("%s:%d: unknown type %q", path, ln, t[1])
		}
		zone[name] = append(zone[name], record{typ, strings.Join(t[2:], " ")})
	}
	return zone, servfail, s.Err()
}

func truncated(req []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, Truncated: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true})
	b.StartQuestions()
	b.Question(q)
	out, _ := b.Finish()
	return out
}

func answer(req []byte, zone map[string][]record, servfail map[string]bool) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	name := strings.ToLower(q.Name.String())
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	recs, ok := zone[name]
	switch {
	case servfail[name]:
		rh.RCode = dnsmessage.RCodeServerFailure
	case !ok:
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil
	}
	if err := b.Question(q); err != nil {
		return nil
	}
	if err := b.StartAnswers(); err != nil {
		return nil
	}
	rrh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	for _, r := range recs {
		if rh.RCode != dnsmessage.RCodeSuccess {
			break
		}
		if r.typ != q.Type && r.typ != dnsmessage.TypeCNAME {
			continue
		}
		var err error
		rrh.Type = r.typ
		switch r.typ {
		case dnsmessage.TypeA, dnsmessage.TypeAAAA:
			ip, perr := netip.ParseAddr(r.value)
			if perr != nil {
				log.Printf("dnsd: %s: %v", name, perr)
				continue
			}
			if r.typ == dnsmessage.TypeA {
				err = b.AResource(rrh, dnsmessage.AResource{A: ip.As4()})
			} else {
				err = b.AAAAResource(rrh, dnsmessage.AAAAResource{AAAA: ip.As16()})
			}
		case dnsmessage.TypeMX:
			pref, host, _ := strings.Cut(r.value, " ")
			n, perr := strconv.Atoi(pref)
			if perr != nil {
				log.Printf("dnsd: %s: %v", name, perr)
				continue
			}
			err = b.MXResource(rrh, dnsmessage.MXResource{Pref: uint16(n), MX: dnsmessage.MustNewName(host)})
		case dnsmessage.TypePTR:
			err = b.PTRResource(rrh, dnsmessage.PTRResource{PTR: dnsmessage.MustNewName(r.value)})
		case dnsmessage.TypeCNAME:
			err = b.CNAMEResource(rrh, dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(r.value)})
		case dnsmessage.TypeTXT:
			err = b.TXTResource(rrh, dnsmessage.TXTResource{TXT: []string{r.value}})
		}
		if err != nil {
			log.Printf("dnsd: %s: %v", name, err)
			return nil
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}
