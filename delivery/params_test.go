package delivery

import (
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
)

func TestEnvelopeAddress(t *testing.T) {
	tests := []struct {
		in, out string
		utf8    bool
	}{
		{"user@example.org", "user@example.org", false},
		{"user@bücher.example", "user@xn--bcher-kva.example", false},
		{"δοκιμή@example.org", "δοκιμή@example.org", true},
		{"δοκιμή@bücher.example", "δοκιμή@xn--bcher-kva.example", true},
		{"", "", false},
	}
	for _, tc := range tests {
		out, utf8 := envelopeAddress(tc.in)
		if out != tc.out || utf8 != tc.utf8 {
			t.Errorf("envelopeAddress(%q) = %q, %v; want %q, %v", tc.in, out, utf8, tc.out, tc.utf8)
		}
	}
}

func TestRcptOptions(t *testing.T) {
	tests := []struct {
		name string
		m    queue.Msg
		want *smtp.RcptOptions
	}{
		{"none", queue.Msg{}, nil},
		{"notify", queue.Msg{Notify: dsn.Notify("SUCCESS,FAILURE")}, &smtp.RcptOptions{Notify: []smtp.DSNNotify{"SUCCESS", "FAILURE"}}},
		{"never", queue.Msg{Notify: dsn.NotifyNever}, &smtp.RcptOptions{Notify: []smtp.DSNNotify{"NEVER"}}},
		{"invalid-notify", queue.Msg{Notify: dsn.Notify("NEVER,FAILURE")}, &smtp.RcptOptions{}},
		{"orcpt", queue.Msg{ORcpt: "rfc822;a@example.org"}, &smtp.RcptOptions{OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "a@example.org"}},
		{"orcpt-utf8", queue.Msg{ORcpt: "utf-8;δ@example.org"}, &smtp.RcptOptions{OriginalRecipientType: smtp.DSNAddressTypeUTF8, OriginalRecipient: "δ@example.org"}},
		{"orcpt-bad-rfc822", queue.Msg{ORcpt: "rfc822;δ@example.org"}, &smtp.RcptOptions{}},
		{"orcpt-unknown-type", queue.Msg{ORcpt: "x400;a"}, &smtp.RcptOptions{}},
	}
	for _, tc := range tests {
		if got := rcptOptions(tc.m); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: rcptOptions = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestMailOptions(t *testing.T) {
	m := queue.Msg{Size: 42, Ret: dsn.RetFull, EnvID: "env\x01bad"}
	got := mailOptions(m, true, true)
	want := &smtp.MailOptions{Size: 42, UTF8: true, RequireTLS: true, Return: smtp.DSNReturnFull}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mailOptions = %+v, want %+v (an ENVID go-smtp refuses is left out)", got, want)
	}
}

func TestSplitTransactions(t *testing.T) {
	yes := true
	msg := func(id, base int64, fromID string, requireTLS bool) queue.AttemptResult {
		m := queue.Msg{ID: id, BaseID: base, SenderAddress: "s@example.com", FromID: fromID}
		if requireTLS {
			m.RequireTLS = &yes
		}
		return queue.AttemptResult{Msg: m}
	}
	results := []queue.AttemptResult{
		msg(1, 1, "a", false),
		msg(2, 1, "b", false),
		msg(3, 1, "a", false),
		msg(4, 4, "a", false), // Another submission: other data.
		msg(5, 1, "a", true),  // REQUIRETLS: another MAIL FROM.
	}
	idx := []int{0, 1, 2, 3, 4}
	tests := []struct {
		sep           string
		perSubmission bool
		want          []txn
	}{
		{"+", false, []txn{{"s+a@example.com", false, []int{0, 2}}, {"s+b@example.com", false, []int{1}}, {"s+a@example.com", false, []int{3}}, {"s+a@example.com", true, []int{4}}}},
		{"+", true, []txn{{"s+a@example.com", false, []int{0, 1, 2}}, {"s+a@example.com", false, []int{3}}, {"s+a@example.com", true, []int{4}}}},
		{"", false, []txn{{"s@example.com", false, []int{0, 1, 2}}, {"s@example.com", false, []int{3}}, {"s@example.com", true, []int{4}}}},
	}
	for _, tc := range tests {
		if got := splitTransactions(results, idx, tc.sep, tc.perSubmission); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("sep %q perSubmission %v:\n got %+v\nwant %+v", tc.sep, tc.perSubmission, got, tc.want)
		}
	}
}

func TestStageError(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		stage bounce.Stage
		want  bounce.SMTPError // Without Err.
		close bool
	}{
		{"reply", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, bounce.StageRcpt,
			bounce.SMTPError{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "no such user"}, false},
		{"multi-line", &smtp.SMTPError{Code: 451, Message: "try\nlater"}, bounce.StageMail,
			bounce.SMTPError{Code: 451, Stage: bounce.StageMail, Line: "try", MoreLines: []string{"later"}}, false},
		{"no-enhanced", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.NoEnhancedCode, Message: "no"}, bounce.StageConnect,
			bounce.SMTPError{Permanent: true, Code: 554, Stage: bounce.StageConnect, Line: "no"}, false},
		{"421", &smtp.SMTPError{Code: 421, Message: "bye"}, bounce.StageData,
			bounce.SMTPError{Code: 421, Stage: bounce.StageData, Line: "bye"}, true},
		{"io", io.ErrUnexpectedEOF, bounce.StageDataEnd, bounce.SMTPError{Stage: bounce.StageDataEnd}, true},
	}
	for _, tc := range tests {
		e := stageError(tc.err, tc.stage)
		if !errors.Is(e, tc.err) {
			t.Errorf("%s: %v does not wrap %v", tc.name, e, tc.err)
		}
		e.Err = nil
		if !reflect.DeepEqual(*e, tc.want) {
			t.Errorf("%s: stageError = %+v, want %+v", tc.name, *e, tc.want)
		}
		if got := closesConnection(tc.err); got != tc.close {
			t.Errorf("%s: closesConnection = %v, want %v", tc.name, got, tc.close)
		}
	}
}

// FuzzReplyError: any reply text maps to a *bounce.SMTPError that keeps
// the code and never panics; an enhanced code cut from the text has the
// reply code's class when both are valid.
func FuzzReplyError(f *testing.F) {
	f.Add(550, "5.1.1 no such user")
	f.Add(421, "4.3.2 bye\n4.3.2 more")
	f.Add(250, "")
	f.Add(554, "#5.0.0 x\nno code")
	f.Fuzz(func(t *testing.T, code int, msg string) {
		e := stageError(replyError(code, msg), bounce.StageRcpt)
		if e.Code != code || e.Stage != bounce.StageRcpt {
			t.Fatalf("stageError(replyError(%d, %q)) = %+v", code, msg, e)
		}
		if e.Permanent != (code/100 == 5) {
			t.Fatalf("permanent %v for code %d", e.Permanent, code)
		}
	})
}

// FuzzEnvelopeAddress: the result needs SMTPUTF8 exactly when it is not
// ASCII, and an ASCII address is unchanged.
func FuzzEnvelopeAddress(f *testing.F) {
	for _, s := range []string{"a@example.org", "δ@bücher.example", "@", "a@", "x@\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		out, utf8 := envelopeAddress(addr)
		if utf8 != !isASCII(out) {
			t.Fatalf("envelopeAddress(%q) = %q, utf8 %v", addr, out, utf8)
		}
		if isASCII(addr) && out != addr {
			t.Fatalf("ASCII %q changed to %q", addr, out)
		}
	})
}
