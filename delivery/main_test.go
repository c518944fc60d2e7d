package delivery_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"go.uber.org/goleak"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/delivery"
	"github.com/bouncekit/bouncekit/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// received is one transaction as the scripted server saw it.
type received struct {
	from     string
	mailOpts smtp.MailOptions
	rcpts    []string
	rcptOpts []smtp.RcptOptions
	data     []byte
	tls      bool // The transaction was over TLS.
}

// script says how the scripted server answers. A nil func accepts.
type script struct {
	newSession func() error
	mail       func(from string) error
	rcpt       func(to string) error
	data       func() error
}

// backend is a go-smtp Backend that answers per its script and records
// what it received.
type backend struct {
	script
	mu       sync.Mutex
	sessions int
	got      []received
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.mu.Lock()
	b.sessions++
	b.mu.Unlock()
	if b.newSession != nil {
		if err := b.newSession(); err != nil {
			return nil, err
		}
	}
	_, isTLS := c.TLSConnectionState()
	return &session{b: b, tls: isTLS}, nil
}

func (b *backend) transactions() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.got...)
}

type session struct {
	b   *backend
	tls bool
	cur received
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.b.mail != nil {
		if err := s.b.mail(from); err != nil {
			return err
		}
	}
	s.cur = received{from: from, tls: s.tls}
	if opts != nil {
		s.cur.mailOpts = *opts
	}
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if s.b.rcpt != nil {
		if err := s.b.rcpt(to); err != nil {
			return err
		}
	}
	s.cur.rcpts = append(s.cur.rcpts, to)
	if opts != nil {
		s.cur.rcptOpts = append(s.cur.rcptOpts, *opts)
	}
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.b.data != nil {
		if err := s.b.data(); err != nil {
			return err
		}
	}
	s.cur.data = data
	s.b.mu.Lock()
	s.b.got = append(s.b.got, s.cur)
	s.b.mu.Unlock()
	return nil
}

// reply is a scripted SMTP reply.
func reply(code int, enh smtp.EnhancedCode, text string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: text}
}

// startServer starts a go-smtp server with b on 127.0.0.1:0, configured by
// configure, and returns its address and a count of accepted connections.
func startServer(t testing.TB, b *backend, configure func(*smtp.Server)) (string, *atomic.Int64) {
	t.Helper()
	s := smtp.NewServer(b)
	s.Domain = "mx.example.org"
	s.AllowInsecureAuth = true
	if configure != nil {
		configure(s)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	cl := &countingListener{Listener: l}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(cl)
	}()
	t.Cleanup(func() {
		s.Close()
		// Closed here too: Close misses a listener that Serve has not
		// registered yet, when no connection was ever made.
		l.Close()
		<-done
	})
	return l.Addr().String(), &cl.accepted
}

type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// startRaw starts a listener on 127.0.0.1:0 that writes greeting (if not
// empty) to each connection and then only reads until the client or the
// test closes it: a server that never answers a command.
func startRaw(t testing.TB, greeting string) string {
	t.Helper()
	return serveConns(t, func(c net.Conn) {
		if greeting != "" {
			io.WriteString(c, greeting)
		}
		io.Copy(io.Discard, c)
	})
}

// serveConns starts a listener on 127.0.0.1:0 that runs handle for each
// connection in its own goroutine (closing the connection after it) and
// returns its address. At the end of the test it closes the listener and
// every connection and waits for all goroutines.
func serveConns(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
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
				handle(c)
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
	return l.Addr().String()
}

// resolver is a scripted DNS.
type resolver struct {
	mx     map[string][]*net.MX
	mxErr  map[string]error
	ips    map[string][]string
	ipErr  map[string]error
	lookup atomic.Int64
}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r *resolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	r.lookup.Add(1)
	if err := r.mxErr[name]; err != nil {
		return nil, err
	}
	mx, ok := r.mx[name]
	if !ok {
		return nil, notFound(name)
	}
	return mx, nil
}

func (r *resolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	if err := r.ipErr[host]; err != nil {
		return nil, err
	}
	l, ok := r.ips[host]
	if !ok {
		return nil, notFound(host)
	}
	var out []net.IPAddr
	for _, s := range l {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

// secureResolver is a scripted DNS that also says whether its MX answers
// were authenticated (delivery.SecureResolver).
type secureResolver struct {
	*resolver
	authenticated bool
}

var _ delivery.SecureResolver = (*secureResolver)(nil)

func (r *secureResolver) LookupMXSecure(ctx context.Context, name string) ([]*net.MX, bool, error) {
	mx, err := r.LookupMX(ctx, name)
	return mx, r.authenticated, err
}

// dialer maps the addresses the client dials (the scripted resolver's
// documentation IPs, port 25) to loopback listeners; any other address is
// refused without a connection, so nothing leaves the machine.
type dialer struct {
	mu     sync.Mutex
	routes map[string]string
	dialed []string
}

var errRefused = errors.New("test dialer: connection refused")

func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.dialed = append(d.dialed, address)
	to, ok := d.routes[address]
	d.mu.Unlock()
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errRefused}
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, to)
}

func (d *dialer) dials() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}

// testMessage is the message data every test sends.
const testMessage = "From: sender@example.com\r\nTo: x@example.org\r\nSubject: test\r\n\r\nHello.\r\n"

func opener() delivery.Opener {
	return delivery.OpenerFunc(func(ctx context.Context, m queue.Msg) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(testMessage)), nil
	})
}

// newClient returns a Client for example.org routed to the given MX hosts
// (name, preference, listener address), each host at one documentation IP.
func newClient(t testing.TB, hosts ...mxHost) (*delivery.Client, *resolver, *dialer) {
	t.Helper()
	r := &resolver{mx: map[string][]*net.MX{}, ips: map[string][]string{}}
	d := &dialer{routes: map[string]string{}}
	for i, h := range hosts {
		ip := fmt.Sprintf("192.0.2.%d", i+1)
		if h.name != "" {
			r.mx["example.org"] = append(r.mx["example.org"], &net.MX{Host: h.name + ".", Pref: h.pref})
			r.ips[h.name] = []string{ip}
		}
		if h.addr != "" {
			d.routes[ip+":25"] = h.addr
		}
	}
	c := &delivery.Client{
		Hostname: "client.example.com",
		Opener:   opener(),
		Resolver: r,
		Dialer:   d,
		Timeouts: delivery.Timeouts{Dial: 5 * time.Second, Command: 5 * time.Second, Data: 5 * time.Second, DataEnd: 5 * time.Second},
	}
	return c, r, d
}

type mxHost struct {
	name string
	pref uint16
	addr string // Listener address; empty: connection refused.
}

// msgs returns one submission (BaseID 1) from sender@example.com to the
// given recipients.
func msgs(rcpts ...string) []queue.Msg {
	var l []queue.Msg
	for i, r := range rcpts {
		l = append(l, queue.Msg{
			ID:               int64(i + 1),
			BaseID:           1,
			SenderAccount:    "sender",
			SenderAddress:    "sender@example.com",
			RecipientAddress: r,
			RecipientDomain:  r[strings.LastIndexByte(r, '@')+1:],
			Size:             int64(len(testMessage)),
			MessageID:        "m1@example.com",
		})
	}
	return l
}

// want is the expected result of one message.
type want struct {
	status queue.AttemptStatus
	stage  bounce.Stage
	code   int
	enh    bounce.EnhancedCode
	perm   bool  // Classify's verdict.
	is     error // errors.Is target, if set.
}

func delivered() want { return want{status: queue.AttemptDelivered} }

func failed(stage bounce.Stage, code int, perm bool) want {
	return want{status: queue.AttemptFailed, stage: stage, code: code, perm: perm}
}

func (w want) with(enh bounce.EnhancedCode, is error) want {
	w.enh, w.is = enh, is
	return w
}

// check compares results to wants, one per message.
func check(t *testing.T, results []queue.AttemptResult, wants ...want) {
	t.Helper()
	if len(results) != len(wants) {
		t.Fatalf("got %d results, want %d", len(results), len(wants))
	}
	for i, w := range wants {
		r := results[i]
		if r.Status != w.status {
			t.Errorf("result %d (%s): status %q, want %q (err %v)", i, r.Msg.RecipientAddress, r.Status, w.status, r.Err)
			continue
		}
		if w.status != queue.AttemptFailed {
			if r.Err != nil {
				t.Errorf("result %d: err %v for status %s", i, r.Err, r.Status)
			}
			continue
		}
		var se *bounce.SMTPError
		if !errors.As(r.Err, &se) {
			t.Errorf("result %d: err %T %v, want *bounce.SMTPError", i, r.Err, r.Err)
			continue
		}
		if se.Stage != w.stage || se.Code != w.code {
			t.Errorf("result %d (%s): stage %q code %d, want %q %d (%v)", i, r.Msg.RecipientAddress, se.Stage, se.Code, w.stage, w.code, se)
		}
		if !w.enh.IsZero() && se.EnhancedCode != w.enh {
			t.Errorf("result %d: enhanced code %s, want %s", i, se.EnhancedCode, w.enh)
		}
		if f := bounce.Classify(r.Err); f.Permanent != w.perm || f.Stage != w.stage {
			t.Errorf("result %d: Classify permanent %v stage %q, want %v %q (%v)", i, f.Permanent, f.Stage, w.perm, w.stage, r.Err)
		}
		if w.is != nil && !errors.Is(r.Err, w.is) {
			t.Errorf("result %d: err %v, want it to wrap %v", i, r.Err, w.is)
		}
	}
}

// deliver runs Deliver and fails the test on an input error.
func deliver(t *testing.T, c *delivery.Client, m []queue.Msg) []queue.AttemptResult {
	t.Helper()
	results, err := c.Deliver(context.Background(), m)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	return results
}

// testCert returns a server TLS config for names, and a pool that trusts it.
func testCert(t testing.TB, names ...string) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}
