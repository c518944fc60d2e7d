package delivery

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/internal/inject"
)

// starttls sends STARTTLS (RFC 3207) on the session's connection, makes
// the TLS handshake and says EHLO again over TLS (RFC 3207 section 4.2:
// the server forgets what it knew). go-smtp v0.25 starts TLS only before
// its own EHLO and then says EHLO as "localhost", so the command is sent
// here on the connection go-smtp used, whose reply buffer is empty between
// commands, and a new go-smtp client is made on the TLS connection; it is
// given the server's greeting it would otherwise wait for.
func (s *session) starttls() error {
	if err := s.raw.SetDeadline(time.Now().Add(s.timeouts.Command)); err != nil {
		return s.error(err, bounce.StageTLS)
	}
	if _, err := s.conn.Write([]byte("STARTTLS\r\n")); err != nil {
		return s.error(err, bounce.StageTLS)
	}
	tr := textproto.NewReader(bufio.NewReaderSize(s.conn, 512))
	code, msg, err := tr.ReadResponse(220)
	if err != nil {
		if code != 0 {
			e := bounce.ParseReply(fmt.Sprintf("%d %s", code, msg))
			e.Stage = bounce.StageTLS
			e.Err = err
			return e
		}
		return s.error(err, bounce.StageTLS)
	}
	if err := s.raw.SetDeadline(time.Time{}); err != nil {
		return s.error(err, bounce.StageTLS)
	}
	tc, verified, err := s.c.handshake(s.ctx, s.raw, s.host)
	if err != nil {
		return err
	}
	s.tls, s.tlsVerified = true, verified
	return s.hello(tc, strings.NewReader("220 "+s.host+" TLS\r\n"))
}

// handshake makes the client side of a TLS handshake on conn for host. The
// certificate is verified after the handshake, not in it, so that
// opportunistic TLS (RFC 3207 on port 25 without MTA-STS or DANE) can go
// on with an unverified certificate: verified says whether it was valid
// for host. A smarthost requires a valid certificate.
func (c *Client) handshake(ctx context.Context, conn net.Conn, host string) (*tls.Conn, bool, error) {
	var cfg *tls.Config
	if c.TLSConfig != nil {
		cfg = c.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	roots, name := cfg.RootCAs, cfg.ServerName
	cfg.InsecureSkipVerify = true
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, c.Timeouts.withDefaults().Dial)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return nil, false, stageError(contextErr(ctx, err), bounce.StageTLS)
	}
	err := verifyCertificate(tc.ConnectionState(), roots, name, inject.Now(c.Now))
	if err != nil && c.smarthostTLS() {
		tc.Close()
		return nil, false, stageError(err, bounce.StageTLS)
	}
	return tc, err == nil, nil
}

// verifyCertificate checks the server's certificate chain against roots
// (nil: the system roots) for name at now, as crypto/tls would.
func verifyCertificate(st tls.ConnectionState, roots *x509.CertPool, name string, now time.Time) error {
	if len(st.PeerCertificates) == 0 {
		return fmt.Errorf("delivery: server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, ic := range st.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	_, err := st.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		DNSName:       name,
		CurrentTime:   now,
	})
	return err
}

// smarthostTLS reports whether the smarthost must be spoken to over TLS.
func (c *Client) smarthostTLS() bool {
	return c.Smarthost != nil && !c.Smarthost.Insecure
}

// offersRequireTLS reports whether s may carry a REQUIRETLS message: TLS
// with a certificate verified for the host, and the REQUIRETLS extension
// offered in the EHLO reply after STARTTLS (RFC 8689 section 4.2.1).
func (s *session) offersRequireTLS() bool {
	ok, _ := s.client.Extension("REQUIRETLS")
	return s.tls && s.tlsVerified && ok
}

// lacksRequireTLS reports whether s shows that its host does not qualify
// for REQUIRETLS: it was opened to use STARTTLS if offered, and does not
// qualify. A session in plain text after a failed STARTTLS shows nothing.
func (s *session) lacksRequireTLS() bool {
	return s.tlsTried && !s.offersRequireTLS()
}
