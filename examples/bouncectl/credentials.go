package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// Environment variables that give the credentials of -url mode.
const (
	envUser            = "BOUNCECTL_USER"
	envPassword        = "BOUNCECTL_PASSWORD"
	envCredentialsFile = "BOUNCECTL_CREDENTIALS_FILE"
)

// maxCredentialsFile bounds what is read of a credentials file: one line.
const maxCredentialsFile = 4096

// credentials are the user name and password for the API's HTTP basic
// authentication (RFC 7617).
type credentials struct {
	user, password string
}

// credentials returns the credentials for -url mode: from the file of
// -credentials, else from the environment, either a file named by
// BOUNCECTL_CREDENTIALS_FILE or BOUNCECTL_USER and BOUNCECTL_PASSWORD. Not
// from a flag holding the password itself: other users can read a
// process's arguments.
func (c *cli) credentials() (credentials, error) {
	if c.credentialsFile != "" {
		return readCredentials(c.credentialsFile)
	}
	file, user := c.getenv(envCredentialsFile), c.getenv(envUser)
	switch {
	case file != "" && user != "":
		return credentials{}, usageErrorf("both %s and %s are set; set one", envCredentialsFile, envUser)
	case file != "":
		return readCredentials(file)
	case user != "":
		password := c.getenv(envPassword)
		if password == "" {
			return credentials{}, usageErrorf("%s is set but %s is empty", envUser, envPassword)
		}
		return credentials{user, password}, nil
	}
	return credentials{}, usageErrorf("-url needs credentials: -credentials FILE, or %s, or %s and %s in the environment", envCredentialsFile, envUser, envPassword)
}

// readCredentials reads "user:password" from the first line of a file
// that only its owner can read, as ssh insists for private keys.
func readCredentials(path string) (credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return credentials{}, fmt.Errorf("credentials file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return credentials{}, fmt.Errorf("credentials file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return credentials{}, fmt.Errorf("credentials file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return credentials{}, fmt.Errorf("credentials file %s can be read by others (mode %04o): make it readable by its owner only (chmod 600)", path, perm)
	}
	buf := make([]byte, maxCredentialsFile+1)
	n, err := f.Read(buf)
	if err != nil && n == 0 {
		return credentials{}, fmt.Errorf("credentials file %s: empty or unreadable: %w", path, err)
	}
	if n > maxCredentialsFile {
		return credentials{}, fmt.Errorf("credentials file %s is larger than %d bytes", path, maxCredentialsFile)
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	line = strings.TrimSuffix(line, "\r")
	// RFC 7617 section 2: the user-id cannot contain a colon, the password can.
	user, password, ok := strings.Cut(line, ":")
	if !ok || user == "" || password == "" {
		return credentials{}, fmt.Errorf("credentials file %s: want one line \"user:password\"", path)
	}
	return credentials{user, password}, nil
}

// errPlainHTTP is a warning: the password would cross the network in clear.
var errPlainHTTP = errors.New("plain http to a host other than loopback sends the password in clear; use https")

// checkURL checks the -url value: an absolute http or https URL. For plain
// http to a host that is not a loopback address it returns the URL with
// errPlainHTTP, for the caller to warn.
func checkURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", usageErrorf("-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", usageErrorf("-url: want an http or https URL such as https://mail.example.org/webapi/, not %q", s)
	}
	if u.User != nil {
		return "", usageErrorf("-url: credentials go in -credentials or the environment, not in the URL")
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return s, errPlainHTTP
		}
	}
	return s, nil
}
