package webapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/webapi"
)

// listRequest posts an empty SuppressionList request with the given basic
// auth credentials (none when user is empty) from client address ip.
func (e *env) listRequest(ip, user, password string) (int, http.Header, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+"/SuppressionList", strings.NewReader("request={}"))
	tcheck(e.t, err, "new request")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if ip != "" {
		req.Header.Set("X-Test-Client-IP", ip)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := e.ts.Client().Do(req)
	tcheck(e.t, err, "http request")
	defer resp.Body.Close()
	buf, err := io.ReadAll(resp.Body)
	tcheck(e.t, err, "read body")
	resp.Header.Del("Date")
	return resp.StatusCode, resp.Header, string(buf)
}

// testClientIP reads the client address from a test header, standing in
// for a reverse proxy's.
func testClientIP(r *http.Request) netip.Addr {
	ip, _ := netip.ParseAddr(r.Header.Get("X-Test-Client-IP"))
	return ip
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, nil)

	status, hdr, body := e.listRequest("", "", "")
	tcompare(t, status, http.StatusUnauthorized, "no credentials")
	if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic ") {
		t.Fatalf("no basic challenge: %v", hdr)
	}

	// An unknown account and a wrong password get the same answer, byte
	// for byte, as missing credentials.
	s1, h1, b1 := e.listRequest("", "nobody", "x")
	s2, h2, b2 := e.listRequest("", "alice", "wrong")
	tcompare(t, []any{s1, h1, b1}, []any{status, hdr, body}, "unknown account")
	tcompare(t, []any{s2, h2, b2}, []any{status, hdr, body}, "wrong password")

	status, _, _ = e.listRequest("", "alice", "alicepw")
	tcompare(t, status, http.StatusOK, "good credentials")

	// The Client reports 401 as ErrUnauthorized.
	c := e.alice
	c.Password = "wrong"
	_, err := c.SuppressionList(context.Background(), webapi.SuppressionListRequest{})
	if !errors.Is(err, webapi.ErrUnauthorized) {
		t.Fatalf("client with a wrong password: %v", err)
	}
}

func TestAuthenticationMisconfigured(t *testing.T) {
	tests := []struct {
		name string
		auth webapi.Authenticator
	}{
		{"nil Auth", nil},
		{"identity without account", webapi.BasicAuth(func(ctx context.Context, username, password string) (webapi.Identity, error) {
			return webapi.Identity{}, nil
		})},
		{"lookup error", webapi.BasicAuth(func(ctx context.Context, username, password string) (webapi.Identity, error) {
			return webapi.Identity{}, errors.New("database down")
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(s *webapi.Server) { s.Auth = tc.auth })
			status, _, _ := e.listRequest("", "alice", "alicepw")
			tcompare(t, status, http.StatusUnauthorized, "status")
		})
	}
}

func TestAuthRateLimit(t *testing.T) {
	e := newEnv(t, func(s *webapi.Server) {
		s.AuthFailures = 3
		s.AuthFailureInterval = time.Minute
		s.ClientIP = testClientIP
	})
	status := func(ip, user, password string) int {
		t.Helper()
		s, _, _ := e.listRequest(ip, user, password)
		return s
	}

	for range 5 {
		tcompare(t, status("192.0.2.1", "", ""), http.StatusUnauthorized, "missing credentials, not counted")
	}
	for range 3 {
		tcompare(t, status("192.0.2.1", "alice", "guess"), http.StatusUnauthorized, "failure")
	}
	// Limited now, good credentials too, and before they are checked.
	s, hdr, _ := e.listRequest("192.0.2.1", "alice", "alicepw")
	tcompare(t, s, http.StatusTooManyRequests, "after three failures")
	tcompare(t, hdr.Get("Retry-After"), "60", "retry after")
	tcompare(t, status("192.0.2.2", "alice", "alicepw"), http.StatusOK, "another client")

	// The Client reports 429 as ErrRateLimited.
	c := e.alice
	c.HTTPClient = &http.Client{Transport: headerTransport{"X-Test-Client-IP", "192.0.2.1", e.ts.Client().Transport}}
	_, err := c.SuppressionList(context.Background(), webapi.SuppressionListRequest{})
	if !errors.Is(err, webapi.ErrRateLimited) {
		t.Fatalf("client of a limited address: %v", err)
	}

	// One failure regained per interval; a success does not reset.
	e.clock.Advance(30 * time.Second)
	s, hdr, _ = e.listRequest("192.0.2.1", "alice", "alicepw")
	tcompare(t, []any{s, hdr.Get("Retry-After")}, []any{http.StatusTooManyRequests, "30"}, "half an interval later")
	e.clock.Advance(30 * time.Second)
	tcompare(t, status("192.0.2.1", "alice", "alicepw"), http.StatusOK, "an interval later")
	tcompare(t, status("192.0.2.1", "alice", "guess"), http.StatusUnauthorized, "a failure")
	tcompare(t, status("192.0.2.1", "alice", "alicepw"), http.StatusTooManyRequests, "limited again")
	e.clock.Advance(3 * time.Minute)
	for range 3 {
		tcompare(t, status("192.0.2.1", "alice", "guess"), http.StatusUnauthorized, "full allowance again")
	}

	// IPv6 clients are limited per /64.
	for range 3 {
		tcompare(t, status("2001:db8:1:1::1", "bob", "guess"), http.StatusUnauthorized, "ipv6 failure")
	}
	tcompare(t, status("2001:db8:1:1::2", "bob", "bobpw"), http.StatusTooManyRequests, "same /64")
	tcompare(t, status("2001:db8:1:2::1", "bob", "bobpw"), http.StatusOK, "other /64")
	tcompare(t, status("::ffff:192.0.2.2", "bob", "bobpw"), http.StatusOK, "ipv4-mapped is the ipv4 address")
}

func TestAuthRateLimitOff(t *testing.T) {
	e := newEnv(t, func(s *webapi.Server) { s.AuthFailures = -1 })
	for range 20 {
		s, _, _ := e.listRequest("", "alice", "guess")
		tcompare(t, s, http.StatusUnauthorized, "failure")
	}
	s, _, _ := e.listRequest("", "alice", "alicepw")
	tcompare(t, s, http.StatusOK, "no limit")
}

// headerTransport adds a header to every request.
type headerTransport struct {
	name, value string
	next        http.RoundTripper
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(t.name, t.value)
	return t.next.RoundTrip(r)
}
