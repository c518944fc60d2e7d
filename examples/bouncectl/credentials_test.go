package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string, perm os.FileMode) string {
		p := filepath.Join(dir, name)
		tcheck(t, os.WriteFile(p, []byte(content), 0600), "write")
		tcheck(t, os.Chmod(p, perm), "chmod")
		return p
	}
	good := file("good", "ops:secret\n", 0600)
	colon := file("colon", "ops:se:cret\r\nignored line\n", 0400)
	groupRead := file("group", "ops:secret\n", 0640)
	worldRead := file("world", "ops:secret\n", 0604)
	noColon := file("nocolon", "ops\n", 0600)
	noUser := file("nouser", ":secret\n", 0600)
	noPassword := file("nopassword", "ops:\n", 0600)
	empty := file("empty", "", 0600)
	large := file("large", "ops:"+strings.Repeat("x", maxCredentialsFile), 0600)

	for _, tc := range []struct {
		name    string
		flag    string
		env     map[string]string
		want    credentials
		errText string // Empty: no error.
		usage   bool   // The error is a usage error.
	}{
		{name: "flag", flag: good, want: credentials{"ops", "secret"}},
		{name: "password with colon, CRLF", flag: colon, want: credentials{"ops", "se:cret"}},
		{name: "flag wins", flag: good, env: map[string]string{envUser: "other", envPassword: "pw"}, want: credentials{"ops", "secret"}},
		{name: "env user", env: map[string]string{envUser: "ops", envPassword: "pw:1"}, want: credentials{"ops", "pw:1"}},
		{name: "env file", env: map[string]string{envCredentialsFile: good}, want: credentials{"ops", "secret"}},
		{name: "group readable", flag: groupRead, errText: "can be read by others (mode 0640)"},
		{name: "world readable", env: map[string]string{envCredentialsFile: worldRead}, errText: "can be read by others (mode 0604)"},
		{name: "no colon", flag: noColon, errText: `want one line "user:password"`},
		{name: "no user", flag: noUser, errText: `want one line "user:password"`},
		{name: "no password", flag: noPassword, errText: `want one line "user:password"`},
		{name: "empty", flag: empty, errText: "empty or unreadable"},
		{name: "large", flag: large, errText: "larger than"},
		{name: "directory", flag: dir, errText: "not a regular file"},
		{name: "missing", flag: filepath.Join(dir, "missing"), errText: "no such file"},
		{name: "env user without password", env: map[string]string{envUser: "ops"}, errText: "BOUNCECTL_PASSWORD is empty", usage: true},
		{name: "env both", env: map[string]string{envUser: "ops", envPassword: "pw", envCredentialsFile: good}, errText: "set one", usage: true},
		{name: "none", errText: "-url needs credentials", usage: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cli{credentialsFile: tc.flag, getenv: func(k string) string { return tc.env[k] }}
			got, err := c.credentials()
			if tc.errText == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("got %+v, %v; want error with %q", got, err, tc.errText)
			}
			var ee *exitError
			if isUsage := errors.As(err, &ee) && ee.code == exitUsage; isUsage != tc.usage {
				t.Errorf("usage error %v, want %v: %v", isUsage, tc.usage, err)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url     string
		errText string
		plain   bool // Warns about plain http.
	}{
		{url: "https://mail.example.org/webapi/"},
		{url: "http://127.0.0.1:8080/webapi/"},
		{url: "http://[::1]:8080/"},
		{url: "http://localhost/"},
		{url: "http://mail.example.org/webapi/", plain: true},
		{url: "http://10.0.0.1/", plain: true},
		{url: "ftp://mail.example.org/", errText: "want an http or https URL"},
		{url: "mail.example.org/webapi", errText: "want an http or https URL"},
		{url: "https:///webapi", errText: "want an http or https URL"},
		{url: "https://ops:secret@mail.example.org/", errText: "not in the URL"},
		{url: "http://%zz/", errText: "invalid URL escape"},
	} {
		_, err := checkURL(tc.url)
		switch {
		case tc.plain:
			if !errors.Is(err, errPlainHTTP) {
				t.Errorf("%s: got %v, want the plain http warning", tc.url, err)
			}
		case tc.errText == "":
			if err != nil {
				t.Errorf("%s: %v", tc.url, err)
			}
		case err == nil || !strings.Contains(err.Error(), tc.errText):
			t.Errorf("%s: got %v, want %q", tc.url, err, tc.errText)
		}
	}
}
