package dsn

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestParam checks that parameters are found in the broken parameter lists
// mail software writes, not only in valid ones.
func TestParam(t *testing.T) {
	cases := []struct {
		params, name, want string
	}{
		{` boundary="b1"`, "boundary", "b1"},
		{` report-type=delivery-status; boundary=b1`, "boundary", "b1"},
		{` BOUNDARY=b1`, "boundary", "b1"},
		{` boundary="a \"q\" b"`, "boundary", `a "q" b`},
		{` boundary = "b1"`, "boundary", "b1"},
		{` boundary==_b1=`, "boundary", "=_b1="},
		// Broken lists that mime.ParseMediaType refuses.
		{` foo; boundary=b1`, "boundary", "b1"},
		{` foo bar; boundary=b1`, "boundary", "b1"},
		{` charset=us-ascii boundary=b1`, "boundary", "b1"},
		{` charset=iso-2022-jp; format=`, "charset", "iso-2022-jp"},
		{` format=; charset=iso-2022-jp`, "charset", "iso-2022-jp"},
		{` boundary="b1`, "boundary", "b1"},
		{`;; ;boundary=b1;;`, "boundary", "b1"},
		{` =x; boundary=b1`, "boundary", "b1"},
		// Not there.
		{` xboundary=b1`, "boundary", ""},
		{` boundary`, "boundary", ""},
		{` boundary;`, "boundary", ""},
		{``, "boundary", ""},
	}
	for _, c := range cases {
		t.Run(c.params, func(t *testing.T) {
			if got := param(c.params, c.name); got != c.want {
				t.Fatalf("param(%q, %q) = %q, want %q", c.params, c.name, got, c.want)
			}
		})
	}
}

// tree describes a Part tree: media types, the charset where set, children
// in brackets.
func tree(p *Part) string {
	s := p.MediaType
	if p.Charset != "" {
		s += ";" + p.Charset
	}
	if len(p.Parts) > 0 {
		var c []string
		for i := range p.Parts {
			c = append(c, tree(&p.Parts[i]))
		}
		s += "[" + strings.Join(c, ",") + "]"
	}
	return s
}

// TestPartTree checks the tolerance of the MIME walk: broken parameter
// lists that still carry a boundary or charset, and multiparts that are
// not (no boundary, or one that never comes), whose body is then text.
func TestPartTree(t *testing.T) {
	cases := []struct {
		name string
		msg  string
		tree string
		text string // If set: the body of the first text/plain leaf starts with it.
	}{
		{"valueless parameter before boundary", "Content-Type: multipart/mixed; foo; boundary=b\n\n--b\n\nx\n--b--\n", "multipart/mixed[text/plain]", "x"},
		{"missing semicolon", "Content-Type: multipart/mixed; charset=us-ascii boundary=\"b\"\n\n--b\n\nx\n--b--\n", "multipart/mixed;us-ascii[text/plain]", "x"},
		{"unclosed quote", "Content-Type: multipart/mixed; boundary=\"b\n\n--b\n\nx\n--b--\n", "multipart/mixed[text/plain]", "x"},
		{"charset before broken parameter", "Content-Type: text/plain; charset=ISO-2022-JP; format=\n\nx\n", "text/plain;iso-2022-jp", "x"},
		{"no type", "Content-Type: ; charset=utf-8\n\nx\n", "text/plain;utf-8", "x"},
		{"multipart without boundary", "Content-Type: multipart/mixed; charset=utf-8\n\n--b\nhello\n", "text/plain;utf-8", "--b\nhello"},
		{"boundary never comes", "Content-Type: multipart/mixed; boundary=zz\n\nHi. This is the qmail-send program.\n--b\n", "text/plain", "Hi. This is"},
		{"inner boundary never comes", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/alternative; boundary=zz\n\nbounce text\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@x\nAction: failed\n--b--\n",
			"multipart/mixed[text/plain,message/delivery-status]", "bounce text"},
		{"closing delimiter only", "Content-Type: multipart/mixed; boundary=b\n\n--b--\n", "multipart/mixed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := strings.NewReader(c.msg)
			_, top, err := Parse(r)
			if err != nil && !errors.Is(err, ErrNotDSN) {
				t.Fatal(err)
			}
			checkPartOffsets(t, top, int64(len(c.msg)))
			if got := tree(top); got != c.tree {
				t.Fatalf("tree %s, want %s", got, c.tree)
			}
			if c.text == "" {
				return
			}
			leaf, _ := top.find(func(p *Part) bool { return p.MediaType == "text/plain" && len(p.Parts) == 0 }, nil)
			b, err := io.ReadAll(leaf.Body(r))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), c.text) {
				t.Fatalf("text %q, want it to start with %q", b, c.text)
			}
		})
	}
}

// TestParseTooManyParts checks that a message over MaxParts gives the
// error together with the entities read up to the limit, so readers of the
// rest of the message still have its start.
func TestParseTooManyParts(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b\n\n")
	for i := 0; i <= MaxParts; i++ {
		b.WriteString("--b\n\nx\n")
	}
	_, top, err := Parse(strings.NewReader(b.String()))
	if !errors.Is(err, errTooManyParts) {
		t.Fatalf("got %v, expected too many parts", err)
	}
	if top == nil || len(top.Parts) != MaxParts {
		t.Fatalf("got %v, want the top entity and its first parts", top)
	}
	checkPartOffsets(t, top, int64(b.Len()))
	if p := top.Parts[0]; p.EndOffset-p.BodyOffset != 1 {
		t.Fatalf("first part [%d,%d], want its one byte", p.BodyOffset, p.EndOffset)
	}
}

// TestPartBody checks the transfer decoding of Part.Body, its line endings
// for input with bare CR line endings, and Part.Header.
func TestPartBody(t *testing.T) {
	const report = "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: %s\n\n%s\n" +
		"--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@x\nAction: failed\n\n" +
		"--b\nContent-Type: message/rfc822\n\nMessage-ID: <orig@x>\nSubject: hi\n\nbody\n--b--\n"
	cases := []struct {
		name, cte, body, want string
		cr                    bool // Input with bare CR line endings.
	}{
		{"7bit", "7bit", "550 user\nunknown", "550 user\nunknown", false},
		{"base64 with line breaks", "base64", "NTUwIHVzZXIg\ndW5rbm93bg==", "550 user unknown", false},
		{"base64 with spaces and junk", "base64", "NTUw IHVz\tZXIg!dW5r*bm93bg==", "550 user unknown", false},
		{"base64 with CR", "base64", "NTUwIHVzZXIg\ndW5rbm93bg==", "550 user unknown", true},
		{"quoted-printable", "quoted-printable", "550 Empf=E4nger =\nunbekannt", "550 Empf\xe4nger unbekannt", false},
		{"quoted-printable with CR", "quoted-printable", "550 Empf=E4nger =\nunbekannt", "550 Empf\xe4nger unbekannt", true},
		{"7bit with CR", "7bit", "550 user\nunknown", "550 user\nunknown", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := strings.ReplaceAll(strings.Replace(strings.Replace(report, "%s", c.cte, 1), "%s", c.body, 1), "\n", "\r\n")
			if c.cr {
				msg = strings.ReplaceAll(msg, "\r\n", "\r")
			}
			r := strings.NewReader(msg)
			m, top, err := Parse(r)
			if err != nil {
				t.Fatal(err)
			}
			if m.OriginalMessageID != "<orig@x>" {
				t.Errorf("original message-id %q", m.OriginalMessageID)
			}
			text := &top.Parts[0]
			b, err := io.ReadAll(text.Body(r))
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			if !c.cr && c.cte == "7bit" {
				want = strings.ReplaceAll(want, "\n", "\r\n")
			}
			if string(b) != want {
				t.Fatalf("body %q, want %q", b, want)
			}
			orig := &top.Parts[2]
			if len(orig.Parts) != 1 {
				t.Fatalf("returned message not walked: %s", tree(top))
			}
			h, err := io.ReadAll(orig.Parts[0].Header(r))
			if err != nil {
				t.Fatal(err)
			}
			wantHeader := "Message-ID: <orig@x>\r\nSubject: hi\r\n\r\n"
			if c.cr {
				wantHeader = strings.ReplaceAll(wantHeader, "\r\n", "\n")
			}
			if string(h) != wantHeader {
				t.Fatalf("header %q, want %q", h, wantHeader)
			}
		})
	}
}
