package dsn

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from Compose output")

var (
	tArrival = time.Date(2025, 3, 1, 9, 0, 0, 0, time.FixedZone("", 3600))
	tAttempt = time.Date(2025, 3, 1, 9, 30, 15, 0, time.FixedZone("", 3600))
	tRetry   = time.Date(2025, 3, 6, 9, 0, 0, 0, time.FixedZone("", 3600))
	tDate    = time.Date(2025, 3, 1, 9, 31, 0, 0, time.FixedZone("", 3600))
)

// original returns a test original message of about size bytes, CRLF.
func testOriginal(size int) []byte {
	var b bytes.Buffer
	b.WriteString("Return-Path: <alice@example.com>\r\nFrom: Alice <alice@example.com>\r\nTo: bob@example.net\r\n" +
		"Subject: quarterly numbers\r\nMessage-ID: <orig-1@example.com>\r\nDate: Sat, 01 Mar 2025 09:00:00 +0100\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "Line %d of the original message, with some words to make it a realistic length.\r\n", i)
	}
	return b.Bytes()
}

func baseMessage() Message {
	return Message{
		From:              "postmaster@mx.example.org",
		To:                "alice@example.com",
		MessageID:         "<dsn-1@mx.example.org>",
		Date:              tDate,
		OriginalMessageID: "<orig-1@example.com>",
		ReportingMTA:      "mx.example.org",
		ArrivalDate:       tArrival,
	}
}

func goldenCases() []struct {
	name string
	m    Message
} {
	failed := baseMessage()
	failed.Subject = "Undelivered Mail Returned to Sender"
	failed.TextBody = "Your message to bob@example.net could not be delivered.\nThe remote server said: no such user.\n"
	failed.Recipients = []Recipient{{
		FinalRecipient: "bob@example.net", Action: ActionFailed, Status: "5.1.1",
		RemoteMTA: "mx.example.net", DiagnosticCode: "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown",
		LastAttemptDate: tAttempt,
	}}
	failed.Original = testOriginal(600)

	delayed := baseMessage()
	delayed.Subject = "Delayed Mail (still being retried)"
	delayed.TextBody = "Delivery to bob@example.net is delayed; we keep trying until 6 March.\n"
	delayed.Recipients = []Recipient{{
		FinalRecipient: "bob@example.net", Action: ActionDelayed, Status: "4.4.1", StatusComment: "connection timed out",
		RemoteMTA: "mx.example.net", LastAttemptDate: tAttempt, WillRetryUntil: tRetry,
	}}
	delayed.Original = testOriginal(400)
	delayed.Ret = RetHeaders

	mixed := baseMessage()
	mixed.TextBody = "Some recipients failed, some are delayed, one was delivered.\n"
	mixed.Recipients = []Recipient{
		{FinalRecipient: "bob@example.net", Action: ActionFailed, Status: "5.2.2", DiagnosticCode: "552 5.2.2 mailbox full", RemoteMTA: "mx.example.net", LastAttemptDate: tAttempt},
		{FinalRecipient: "carol@example.net", Action: ActionDelayed, Status: "4.7.0", DiagnosticCode: "451 4.7.0 greylisted, try again later", RemoteMTA: "mx.example.net", LastAttemptDate: tAttempt, WillRetryUntil: tRetry},
		{FinalRecipient: "dave@example.org", Action: ActionDelivered, Status: "2.0.0", FinalLogID: "Q1234ABC"},
		{FinalRecipient: "list@example.org", Action: ActionExpanded, Status: "2.0.0"},
		{FinalRecipient: "old@example.org", Action: ActionRelayed, Status: "2.0.0"},
	}
	mixed.Original = testOriginal(300)

	hdrs := baseMessage()
	hdrs.Subject = "Undelivered Mail Returned to Sender"
	hdrs.TextBody = "Returning only the header of your message, as requested with RET=HDRS.\n"
	hdrs.Recipients = []Recipient{{FinalRecipient: "bob@example.net", Action: ActionFailed, Status: "5.1.1"}}
	hdrs.Original = testOriginal(2000)
	hdrs.Ret = RetHeaders

	utf := baseMessage()
	utf.SMTPUTF8 = true
	utf.To = "jürgen@bücher.example"
	utf.Subject = "Unzustellbar: Grüße"
	utf.TextBody = "Ihre Nachricht an δοκιμή@παράδειγμα.example konnte nicht zugestellt werden.\n"
	utf.Recipients = []Recipient{{
		FinalRecipient: "δοκιμή@παράδειγμα.example", OriginalRecipient: "δοκιμή@παράδειγμα.example", OriginalRecipientType: "utf-8",
		Action: ActionFailed, Status: "5.1.1", DiagnosticCode: "550 5.1.1 unbekannter Empfänger",
	}}
	utf.Original = []byte("From: jürgen@bücher.example\r\nTo: δοκιμή@παράδειγμα.example\r\nSubject: Grüße\r\nMessage-ID: <orig-1@example.com>\r\n\r\nHallo, schöne Grüße.\r\n")

	envid := baseMessage()
	envid.OriginalEnvelopeID = "QQ314159"
	envid.DSNGateway = "gw.example.org"
	envid.ReceivedFromMTA = "client.example.com"
	envid.FutureReleaseRequest = "for;3600"
	envid.References = "<thread-0@example.com>"
	envid.TextBody = "Delivery failed.\n"
	envid.Recipients = []Recipient{{
		FinalRecipient: "bob@example.net", OriginalRecipient: "Bob@Example.NET", OriginalRecipientType: "rfc822",
		Action: ActionFailed, Status: "5.1.1", RemoteMTA: "mx.example.net",
	}, {
		// A non-ASCII address in a 7-bit DSN, RFC 6533 utf-8-addr-xtext.
		FinalRecipient: "zoë+tag@example.net", Action: ActionFailed, Status: "5.1.1",
	}}

	multiline := baseMessage()
	multiline.TextBody = "The remote server rejected the message with a multi-line reply, quoted below.\n"
	multiline.Recipients = []Recipient{{
		FinalRecipient: "bob@gmail.example", Action: ActionFailed, Status: "5.7.26", RemoteMTA: "gmail-smtp-in.l.google.example",
		DiagnosticCode: "550-5.7.26 This mail has been blocked because the sender is unauthenticated.\n" +
			"550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\n" +
			"550-5.7.26 \n" +
			"550 5.7.26 " + strings.Repeat("Please visit https://support.example/mail/answer/81126 ", 30) + "gsmtp",
	}}
	multiline.Original = testOriginal(800)

	latin := baseMessage()
	latin.TextBody = "Non-ASCII text without SMTPUTF8 — quoted-printable.\n" + strings.Repeat("x", 1200) + "\n"
	latin.Subject = "Échec de remise"
	latin.Recipients = []Recipient{{FinalRecipient: "bob@example.net", Action: ActionFailed, DiagnosticCode: "550 utilisateur inconnu « bob »"}}
	latin.Original = []byte("Subject: caf\xc3\xa9\nMessage-ID: <orig-1@example.com>\n\nbody with 8-bit caf\xc3\xa9\n")

	big := baseMessage()
	big.TextBody = "Delivery failed; the message was too large to return in full.\n"
	big.Recipients = []Recipient{{FinalRecipient: "bob@example.net", Action: ActionFailed, Status: "5.3.4"}}
	big.Original = testOriginal(3000)
	big.MaxOriginal = 1000

	return []struct {
		name string
		m    Message
	}{
		{"failed", failed},
		{"delayed", delayed},
		{"mixed", mixed},
		{"hdrs", hdrs},
		{"smtputf8", utf},
		{"envid-orcpt", envid},
		{"multiline-diagnostic", multiline},
		{"nonascii-7bit", latin},
		{"large-original", big},
	}
}

func TestComposeGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.m.Compose(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.Bytes()
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, golden) {
				t.Fatalf("output differs from %s (run with -update after checking):\n%s", path, out)
			}
			checkWire(t, out, tc.m.SMTPUTF8)
			checkConform(t, out, tc.m.SMTPUTF8)
			checkRoundTrip(t, &tc.m, out)
			checkStdlib(t, &tc.m, out)
			checkGoMessage(t, &tc.m, out)
		})
	}
}

// checkWire checks line endings, line lengths and 7-bit output.
func checkWire(t *testing.T, out []byte, smtputf8 bool) {
	t.Helper()
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		t.Errorf("output does not end in CRLF")
	}
	for i, line := range bytes.SplitAfter(out, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !bytes.HasSuffix(line, []byte("\r\n")) || bytes.Count(line, []byte("\r")) != 1 {
			t.Errorf("line %d: not a CRLF line: %q", i+1, line)
		}
		if len(line)-2 > 998 {
			t.Errorf("line %d: %d octets", i+1, len(line)-2)
		}
		if !smtputf8 && !isASCII(line) {
			t.Errorf("line %d: 8-bit in 7-bit output: %q", i+1, line)
		}
	}
}

// checkRoundTrip parses the output with our Parse and compares.
func checkRoundTrip(t *testing.T, m *Message, out []byte) {
	t.Helper()
	pm, part, err := Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if part.MediaType != "multipart/report" || len(part.Parts) != 2+btoi(m.Original != nil) {
		t.Fatalf("parse: structure %s with %d parts", part.MediaType, len(part.Parts))
	}
	want := *m
	if want.Subject == "" {
		want.Subject = m.subject()
	}
	want.MessageID = msgID(m.MessageID)
	want.References = ""
	want.Original = nil
	want.MaxOriginal = 0
	want.Ret = ""
	if m.Original != nil {
		want.Ret = RetFull
		if strings.Contains(part.Parts[2].MediaType, "header") {
			want.Ret = RetHeaders
		}
		if m.Ret == RetHeaders && want.Ret != RetHeaders {
			t.Errorf("RET=HDRS, but got %s", part.Parts[2].MediaType)
		}
	}
	want.TextBody = strings.ReplaceAll(m.TextBody, "\r\n", "\n")
	want.Recipients = nil
	for _, r := range m.Recipients {
		r.DiagnosticCode = strings.ReplaceAll(r.DiagnosticCode, "\n", " ")
		if r.DiagnosticCode != "" && r.DiagnosticType == "" {
			r.DiagnosticType = "smtp"
		}
		if r.FinalRecipientType == "" {
			r.FinalRecipientType = AddressTypeRFC822
			if !isASCII(r.FinalRecipient) {
				r.FinalRecipientType = AddressTypeUTF8
			}
		}
		if r.Status == "" {
			r.Status = map[Action]string{ActionFailed: "5.0.0", ActionDelayed: "4.0.0"}[r.Action]
		}
		want.Recipients = append(want.Recipients, r)
	}
	if !want.Date.Equal(pm.Date) || !want.ArrivalDate.Equal(pm.ArrivalDate) {
		t.Errorf("dates: got %v %v, expected %v %v", pm.Date, pm.ArrivalDate, want.Date, want.ArrivalDate)
	}
	want.Date, pm.Date = time.Time{}, time.Time{}
	want.ArrivalDate, pm.ArrivalDate = time.Time{}, time.Time{}
	for i := range pm.Recipients {
		if i >= len(want.Recipients) {
			break
		}
		for _, p := range [][2]*time.Time{
			{&pm.Recipients[i].LastAttemptDate, &want.Recipients[i].LastAttemptDate},
			{&pm.Recipients[i].WillRetryUntil, &want.Recipients[i].WillRetryUntil},
		} {
			if !p[0].Equal(*p[1]) {
				t.Errorf("recipient %d: date %v, expected %v", i+1, *p[0], *p[1])
			}
			*p[0], *p[1] = time.Time{}, time.Time{}
		}
	}
	if !reflect.DeepEqual(*pm, want) {
		t.Errorf("parsed back:\n%#v\nexpected:\n%#v", *pm, want)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkStdlib reads the DSN with net/mail, mime/multipart and net/textproto.
func checkStdlib(t *testing.T, m *Message, out []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("net/mail: %v", err)
	}
	if got := msg.Header.Get("Auto-Submitted"); got != "auto-replied" {
		t.Errorf("Auto-Submitted %q", got)
	}
	if m.OriginalMessageID != "" && msg.Header.Get("In-Reply-To") != m.OriginalMessageID {
		t.Errorf("In-Reply-To %q", msg.Header.Get("In-Reply-To"))
	}
	var dec mime.WordDecoder
	if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || m.Subject != "" && subj != m.Subject {
		t.Errorf("subject %q, %v", subj, err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("content-type %q %v: %v", mt, params, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
		body, err := io.ReadAll(p) // Decodes quoted-printable.
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		switch i {
		case 0:
			if m.TextBody != "" && strings.ReplaceAll(string(body), "\r\n", "\n") != m.TextBody {
				t.Errorf("text part %q, expected %q", body, m.TextBody)
			}
		case 1:
			checkStatusTextproto(t, m, body)
		}
	}
	want := []string{"text/plain", "message/delivery-status"}
	if m.SMTPUTF8 {
		want[1] = "message/global-delivery-status"
	}
	if len(types) < 2 || !reflect.DeepEqual(types[:2], want) || len(types) != 2+btoi(m.Original != nil) {
		t.Errorf("parts %v", types)
	}
}

// checkStatusTextproto reads the delivery-status groups with net/textproto.
func checkStatusTextproto(t *testing.T, m *Message, body []byte) {
	t.Helper()
	tr := textproto.NewReader(bufioReader(append(body, "\r\n"...)))
	h, err := tr.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("textproto per-message: %v", err)
	}
	if got := h.Get("Reporting-Mta"); got != "dns; "+m.ReportingMTA {
		t.Errorf("Reporting-MTA %q", got)
	}
	for i, r := range m.Recipients {
		h, err := tr.ReadMIMEHeader()
		if err != nil {
			t.Fatalf("textproto recipient %d: %v", i+1, err)
		}
		got := h.Get("Final-Recipient")
		if !strings.HasSuffix(got, "; "+r.FinalRecipient) && !strings.HasPrefix(got, "utf-8; ") {
			t.Errorf("recipient %d: Final-Recipient %q", i+1, got)
		}
		if h.Get("Action") != string(r.Action) {
			t.Errorf("recipient %d: Action %q", i+1, h.Get("Action"))
		}
		if r.Status != "" && !strings.HasPrefix(h.Get("Status"), r.Status) {
			t.Errorf("recipient %d: Status %q", i+1, h.Get("Status"))
		}
	}
}

// checkGoMessage reads the DSN with github.com/emersion/go-message.
func checkGoMessage(t *testing.T, m *Message, out []byte) {
	t.Helper()
	e, err := gomessage.Read(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("go-message: %v", err)
	}
	mr := e.MultipartReader()
	if mr == nil {
		t.Fatalf("go-message: not multipart")
	}
	var n int
	for ; ; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go-message part %d: %v", n, err)
		}
		ct, _, _ := p.Header.ContentType()
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("go-message part %d (%s): %v", n, ct, err)
		}
		switch n {
		case 0:
			if m.TextBody != "" && strings.ReplaceAll(string(body), "\r\n", "\n") != m.TextBody {
				t.Errorf("go-message text %q", body)
			}
		case 1:
			dm, err := Decode(bytes.NewReader(body), ct == "message/global-delivery-status")
			if err != nil || len(dm.Recipients) != len(m.Recipients) {
				t.Errorf("go-message status part %s: %v", ct, err)
			}
		case 2:
			if m.OriginalMessageID != "" && !bytes.Contains(body, []byte(m.OriginalMessageID)) {
				t.Errorf("go-message original part %s without message-id", ct)
			}
		}
	}
	if n != 2+btoi(m.Original != nil) {
		t.Errorf("go-message: %d parts", n)
	}
}

func TestComposeErrors(t *testing.T) {
	valid := baseMessage()
	valid.Recipients = []Recipient{{FinalRecipient: "bob@example.net", Action: ActionFailed}}
	if err := valid.Compose(io.Discard); err != nil {
		t.Fatalf("valid message: %v", err)
	}
	cases := []struct {
		name   string
		change func(m *Message)
		want   string
	}{
		{"no from", func(m *Message) { m.From = "" }, "missing From"},
		{"no date", func(m *Message) { m.Date = time.Time{} }, "missing Date"},
		{"no message-id", func(m *Message) { m.MessageID = "" }, "missing MessageID"},
		{"no reporting-mta", func(m *Message) { m.ReportingMTA = "" }, "missing ReportingMTA"},
		{"no recipients", func(m *Message) { m.Recipients = nil }, "missing Recipients"},
		{"subject injection", func(m *Message) { m.Subject = "x\r\nBcc: evil@example.com" }, "Subject: control character"},
		{"bad action", func(m *Message) { m.Recipients[0].Action = "bounced" }, `invalid action "bounced"`},
		{"bad status", func(m *Message) { m.Recipients[0].Status = "550" }, `"550" is not a status code`},
		{"no final recipient", func(m *Message) { m.Recipients[0].FinalRecipient = "" }, "recipient 1: FinalRecipient: missing"},
		{"utf-8 to without smtputf8", func(m *Message) { m.To = "jürgen@example.com" }, "needs SMTPUTF8"},
		{"comment paren", func(m *Message) { m.Recipients[0].StatusComment = "a)b" }, "parenthesis"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := valid
			m.Recipients = append([]Recipient(nil), valid.Recipients...)
			tc.change(&m)
			err := m.Compose(io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "dsn: ") {
				t.Fatalf("got %v, expected error with %q", err, tc.want)
			}
		})
	}

	// The writer's error is returned, wrapped.
	werr := fmt.Errorf("disk full")
	if err := valid.Compose(failWriter{werr}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v, expected the writer's error", err)
	} else if !errorsIs(err, werr) {
		t.Fatalf("writer error not wrapped: %v", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// TestBoundaryCollision checks that content containing the default boundary
// gets another one.
func TestBoundaryCollision(t *testing.T) {
	m := baseMessage()
	m.Recipients = []Recipient{{FinalRecipient: "bob@example.net", Action: ActionFailed}}
	b0 := makeBoundary(msgID(m.MessageID), func(string) bool { return false })
	m.MessageID = msgID(m.MessageID)
	m.TextBody = "--" + b0 + "\n--" + b0 + "_1--\n"
	m.Original = []byte("Subject: x\nMessage-ID: <orig-1@example.com>\n\n--" + b0 + "_2\n")
	var buf bytes.Buffer
	if err := m.Compose(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`boundary="`+b0+`_3"`)) {
		t.Fatalf("boundary not changed:\n%s", buf.Bytes())
	}
	checkRoundTrip(t, &m, buf.Bytes())
	checkStdlib(t, &m, buf.Bytes())
}
