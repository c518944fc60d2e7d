package queue_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/internal/hostile"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webhook"
)

// hostileIncoming are the hostile messages of TestHostileProcessIncoming
// and BenchmarkHostileProcessIncoming, with the bound of the bytes
// ProcessIncoming (with its transaction) may allocate, besides the input.
// Each is a report about the message that send made (Message-ID
// <orig@example.org> to rcpt@example.com), in some hostile form.
func hostileIncoming() []struct {
	name  string
	msg   func() []byte
	bound uint64
} {
	const mb = 1 << 20
	d := string(hostile.DSN())
	return []struct {
		name  string
		msg   func() []byte
		bound uint64
	}{
		{"wellformed", hostile.DSN, 1 * mb},
		// The DSN part is streamed; package report searches only the first
		// report.MaxSize bytes, in a copy with normalized line ends.
		{"150MB message", func() []byte { return hostile.BigDSN(hostile.BigMessage).Bytes() }, 48 * mb},
		{"150MB line", func() []byte { return hostile.BigLineDSN(hostile.BigMessage).Bytes() }, 48 * mb},
		{"1MB subject", func() []byte { return hostile.LongSubject(hostile.LongLine) }, 24 * mb},
		{"1MB diagnostic", func() []byte { return hostile.LongDiagnostic(hostile.LongLine) }, 24 * mb},
		{"1MB boundary", func() []byte { return hostile.LongBoundary(hostile.LongLine) }, 48 * mb},
		// Only MaxIncomingRecipients are handled.
		{"100k recipients in DSN", func() []byte { return hostile.ManyRecipientsDSN(hostile.ManyRecipients) }, 96 * mb},
		{"100k recipients in text", func() []byte { return hostile.ManyRecipientsText(hostile.ManyRecipients) }, 96 * mb},
		{"10k nested multiparts", func() []byte { return hostile.DeepMultipart(hostile.DeepNesting) }, 8 * mb},
		{"10k nested messages", func() []byte { return hostile.DeepRFC822(hostile.DeepNesting) }, 8 * mb},
		{"NUL", func() []byte { return []byte(strings.ReplaceAll(d, "user unknown", "user\x00unknown")) }, 1 * mb},
		{"invalid UTF-8", func() []byte { return []byte(strings.ReplaceAll(d, "user unknown", "user \xff\xfe unknown")) }, 1 * mb},
		{"CRLF in diagnostic", func() []byte {
			return []byte(strings.ReplaceAll(d, "user unknown", "user\r\n unknown\rBcc: victim@example.net"))
		}, 1 * mb},
		{"encoded CRLF in subject", func() []byte {
			return []byte(strings.Replace(d, "Subject: Undelivered", "Subject: =?utf-8?q?a=0D=0ABcc:_victim@example.net?=", 1))
		}, 1 * mb},
		{"CRLF in message-id", func() []byte {
			return []byte(strings.Replace(d, "Message-ID: <report@mx.example.com>", "Message-ID: =?utf-8?q?<a=0D=0ABcc:_victim@example.net>?=", 1))
		}, 1 * mb},
		{"not a report", func() []byte { return []byte("Subject: \xff\x00\r\n\r\n" + strings.Repeat("\x00\xff\r", 1000)) }, 1 * mb},
	}
}

// TestHostileProcessIncoming runs ProcessIncoming on hostile messages: each
// is handled without error and without panic, handles at most
// MaxIncomingRecipients recipients, allocates at most its bound, and queues
// webhooks whose payloads are valid JSON of bounded size with no line break
// in a field that a receiver may put into a header or a log line.
func TestHostileProcessIncoming(t *testing.T) {
	for _, c := range hostileIncoming() {
		t.Run(c.name, func(t *testing.T) {
			e := newInEnv(t)
			e.send("alice", func(m *queue.Msg) { m.MessageID = "orig@example.org" }, "rcpt@example.com")
			before := len(e.hooks())
			msg := c.msg()
			var res queue.IncomingResult
			var err error
			hostile.Check(t, c.bound, func() {
				err = e.db.Write(context.Background(), func(tx *bstore.Tx) error {
					res, err = e.h.ProcessIncoming(tx, "alice", "alice@example.org", msg)
					return err
				})
			})
			if err != nil {
				t.Fatalf("process incoming: %v", err)
			}
			if len(res.Recipients) > queue.MaxIncomingRecipients {
				t.Fatalf("%d recipients, max %d", len(res.Recipients), queue.MaxIncomingRecipients)
			}
			hooks := e.hooks()[before:]
			t.Logf("kind %s, format %q, %d recipients, truncated %v, %d hooks", res.Kind, res.Format, len(res.Recipients), res.Truncated, len(hooks))
			for _, h := range hooks {
				checkHostilePayload(t, h.Payload)
			}
		})
	}
	t.Run("nil", func(t *testing.T) {
		e := newInEnv(t)
		err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
			_, err := e.h.ProcessIncoming(tx, "alice", "alice@example.org", nil)
			return err
		})
		if !errors.Is(err, queue.ErrEmptyMessage) {
			t.Fatalf("got %v, want ErrEmptyMessage", err)
		}
	})
}

// maxPayload bounds the JSON of one webhook made from an incoming report.
const maxPayload = 256 << 10

func checkHostilePayload(t *testing.T, p webhook.Outgoing) {
	t.Helper()
	buf, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	if len(buf) > maxPayload {
		t.Errorf("payload of %d bytes, max %d", len(buf), maxPayload)
	}
	if !json.Valid(buf) || bytes.ContainsAny(buf, "\r\n") {
		t.Errorf("payload not one line of valid JSON: %.200q", buf)
	}
	for name, s := range map[string]string{"FromID": p.FromID, "MessageID": p.MessageID, "Subject": p.Subject, "SMTPEnhancedCode": p.SMTPEnhancedCode, "Reason": p.Reason, "Recipient": p.Recipient} {
		if strings.ContainsAny(s, "\r\n") {
			t.Errorf("payload %s has a line break: %.100q", name, s)
		}
	}
}

// BenchmarkHostileProcessIncoming measures ProcessIncoming on the hostile
// messages: its time bound. Each iteration is a fresh transaction that is
// rolled back, so the report is never a duplicate.
func BenchmarkHostileProcessIncoming(b *testing.B) {
	for _, c := range hostileIncoming() {
		b.Run(strings.ReplaceAll(c.name, " ", "-"), func(b *testing.B) {
			e := newInEnv(b)
			e.send("alice", func(m *queue.Msg) { m.MessageID = "orig@example.org" }, "rcpt@example.com")
			msg := c.msg()
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tx, err := e.db.Begin(context.Background(), true)
				icheck(b, err, "begin")
				if _, err := e.h.ProcessIncoming(tx, "alice", "alice@example.org", msg); err != nil {
					b.Fatal(err)
				}
				icheck(b, tx.Rollback(), "rollback")
			}
		})
	}
}

// hostileReplies are reply texts for ParseReply, ClassifyReply and
// Classify, with the bound of the bytes one call may allocate.
func hostileReplies() []struct {
	name  string
	text  string
	bound uint64
} {
	const mb = 1 << 20
	l := []struct {
		name  string
		text  string
		bound uint64
	}{
		{"1MB line", "550 5.1.1 " + strings.Repeat("x", hostile.LongLine), 8 * mb},
		{"1MB of codes", strings.Repeat("550 5.1.1 ", hostile.LongLine/10), 32 * mb},
		{"100k lines", strings.Repeat("550-5.1.1 user unknown\r\n", hostile.ManyRecipients) + "550 5.1.1 end", 32 * mb},
		{"100k bare CRs", strings.Repeat("550-5.1.1 a\r", hostile.ManyRecipients) + "550 5.1.1 end", 16 * mb},
		{"diagnostic type only", "smtp;", 64 << 10},
		{"huge code", "99999999999999999999999 5.1.1 x", 64 << 10},
		{"huge enhanced code", "550 5.99999999999999999999.1 x", 64 << 10},
	}
	for i, s := range hostile.Strings {
		l = append(l, struct {
			name  string
			text  string
			bound uint64
		}{fmt.Sprintf("string %d", i), "550 5.1.1 " + s, 64 << 10})
	}
	return l
}

// TestHostileReplyText runs ParseReply, ClassifyReply and Classify on
// hostile reply text: no panic, a result whose Line and MoreLines hold no LF
// (a bare CR is not a line end and stays: the DSN composer replaces it, see
// TestHostileDSNInjection), and at most the bound allocated (for the five
// calls together). Their time is measured by BenchmarkHostileReplyText: a
// long line of codes once made splitting folded replies quadratic.
func TestHostileReplyText(t *testing.T) {
	for _, c := range hostileReplies() {
		t.Run(c.name, func(t *testing.T) {
			hostile.Check(t, c.bound, func() {
				r := bounce.ParseReply(c.text)
				for _, l := range append([]string{r.Line}, r.MoreLines...) {
					if strings.Contains(l, "\n") {
						t.Errorf("reply line with line break: %.100q", l)
					}
				}
				f := bounce.ClassifyReply(0, bounce.EnhancedCode{}, c.text)
				if f.Reason == "" {
					t.Errorf("no reason")
				}
				hostileEnh, _ := bounce.ParseEnhancedCode("5.1.1\r\nBcc: x")
				bounce.ClassifyReply(550, hostileEnh, c.text)
				bounce.Classify(errors.New(c.text))
				bounce.Classify(fmt.Errorf("queue: wrapped: %w", r))
			})
		})
	}
}

// BenchmarkHostileReplyText measures ClassifyReply on the hostile reply
// texts: the time bound of TestHostileReplyText.
func BenchmarkHostileReplyText(b *testing.B) {
	for _, c := range hostileReplies()[:4] {
		b.Run(strings.ReplaceAll(c.name, " ", "-"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.text)))
			for i := 0; i < b.N; i++ {
				bounce.ClassifyReply(0, bounce.EnhancedCode{}, c.text)
			}
		})
	}
}

// TestHostileParseMailFrom runs ParseMailFrom on hostile addresses and
// separators: no panic, and what it returns is part of the input.
func TestHostileParseMailFrom(t *testing.T) {
	addrs := append([]string{
		"+@", "a+@", "+b@", "a+b", "a+b@", "@", "a@b@c", "a+b+c@example.org",
		strings.Repeat("a+", hostile.LongLine/2) + "@example.org",
		"a+" + strings.Repeat("b", hostile.LongLine) + "@example.org",
	}, hostile.Strings...)
	for _, sep := range []string{"", "+", "-", "\x00", "\r\n", "++", "\xff"} {
		for i, a := range addrs {
			t.Run(fmt.Sprintf("%q/%d", sep, i), func(t *testing.T) {
				hostile.Check(t, 4*uint64(len(a))+64<<10, func() {
					base, fromID, ok := queue.ParseMailFrom(a, sep)
					if !ok {
						return
					}
					if fromID == "" || !strings.Contains(a, fromID) {
						t.Errorf("fromID %q not in %q", fromID, a)
					}
					if sep == "" || len(base)+len(fromID)+len(sep) != len(a) {
						t.Errorf("base %q and fromID %q do not make %q with separator %q", base, fromID, a, sep)
					}
				})
			})
		}
	}
}

// TestHostileDSNInjection gives FailMsgs messages whose fields that end up
// in the failure DSN's header or delivery-status fields (Message-ID,
// Subject, ENVID, ORCPT, addresses, the reply text) hold CR/LF injections,
// NUL and invalid UTF-8, and checks the DSN in the outbox: Add refuses the
// message, or the DSN has exactly the header fields and recipient fields it
// should, whatever the input.
func TestHostileDSNInjection(t *testing.T) {
	fields := map[string]func(m *queue.Msg, s string){
		"MessageID":        func(m *queue.Msg, s string) { m.MessageID = "m" + s + "@example.org" },
		"Subject":          func(m *queue.Msg, s string) { m.Subject = "hi " + s },
		"EnvID":            func(m *queue.Msg, s string) { m.EnvID = "env" + s },
		"ORcpt":            func(m *queue.Msg, s string) { m.ORcpt = "rfc822;o" + s + "@example.com" },
		"RecipientAddress": func(m *queue.Msg, s string) { m.RecipientAddress = "r" + s + "@example.com" },
		"SenderAddress":    func(m *queue.Msg, s string) { m.SenderAddress = "alice" + s + "@example.org" },
		"reply":            nil,
	}
	for field, mod := range fields {
		for i, s := range hostile.Strings {
			t.Run(fmt.Sprintf("%s/%d", field, i), func(t *testing.T) {
				e := newEnv(t, queue.DefaultPolicy())
				e.h.DSNComposer = nil // The default composer.
				m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com", MessageID: "m1@example.org", Subject: "hi"}
				if mod != nil {
					mod(m, s)
				}
				reply := &bounce.SMTPError{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}
				if mod == nil {
					reply.Line = "user " + s
					reply.MoreLines = []string{s, "x" + s}
				}
				var fails bool
				err := e.write(func(tx *bstore.Tx) error {
					if _, err := e.h.Add(tx, m); err != nil {
						return err
					}
					_, err := e.h.FailMsgs(tx, []queue.Msg{*m}, reply)
					fails = err != nil
					return err
				})
				if err != nil {
					if fails {
						t.Fatalf("failmsgs: %v", err)
					}
					t.Logf("add refused: %v", err)
					if !strings.HasPrefix(err.Error(), "queue: ") {
						t.Errorf("error without package prefix: %v", err)
					}
					return
				}
				ob := e.outbox()
				if len(ob) != 1 {
					if m.SenderAddress != "" {
						t.Fatalf("%d DSNs in outbox, want 1", len(ob))
					}
					return
				}
				checkHostileDSN(t, ob[0].Data)
			})
		}
	}
}

// checkHostileDSN fails unless data is a DSN whose message header has only
// the fields the composer writes, and whose recipient has only the fields
// of RFC 3464 section 2.3.
func checkHostileDSN(t *testing.T, data []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading composed dsn: %v\n%s", err, data)
	}
	for k := range msg.Header {
		switch k {
		case "From", "To", "Subject", "Message-Id", "Date", "In-Reply-To", "References", "Mime-Version", "Content-Type", "Auto-Submitted", "Content-Transfer-Encoding":
		default:
			t.Errorf("unexpected header field %q in composed DSN:\n%s", k, data)
		}
	}
	m, _, err := dsn.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parsing composed dsn: %v\n%s", err, data)
	}
	if len(m.Recipients) != 1 {
		t.Fatalf("%d recipients in composed DSN, want 1", len(m.Recipients))
	}
	if len(m.Extra) != 0 || len(m.Recipients[0].Extra) != 0 {
		t.Errorf("unexpected fields in composed DSN: %v %v:\n%s", m.Extra, m.Recipients[0].Extra, data)
	}
}

// TestHostileStoredMsg fails a message stored before Add refused control
// characters in its DSN fields (or written to the database directly): the
// default composer cannot write its DSN with them, so FailMsgs composes it
// without the optional fields, and the message is retired.
func TestHostileStoredMsg(t *testing.T) {
	e := newEnv(t, queue.DefaultPolicy())
	e.h.DSNComposer = nil
	m := queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com", RecipientDomain: "example.com", EnvID: "a\r\nBcc: victim@example.net", Queued: t0, NextAttempt: t0}
	tcheck(t, e.write(func(tx *bstore.Tx) error { return tx.Insert(&m) }), "insert")
	reply := &bounce.SMTPError{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}
	err := e.write(func(tx *bstore.Tx) error {
		_, err := e.h.FailMsgs(tx, []queue.Msg{m}, reply)
		return err
	})
	tcheck(t, err, "failmsgs")
	if _, ok := e.get(m.ID); ok {
		t.Fatalf("message still queued after permanent failure")
	}
	ob := e.outbox()
	if len(ob) != 1 {
		t.Fatalf("got %d dsns, want 1", len(ob))
	}
	if bytes.Contains(ob[0].Data, []byte("victim")) {
		t.Fatalf("dsn carries the injected field:\n%s", ob[0].Data)
	}
}
