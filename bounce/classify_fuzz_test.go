package bounce

import (
	"net/textproto"
	"strings"
	"testing"
)

// FuzzClassifyReply classifies raw reply text: it must not panic, and
// permanence must follow a 4xx or 5xx reply code (the one exception being
// RFC 5321's 552 "too many recipients"). The seed corpus is in
// testdata/fuzz/FuzzClassifyReply.
func FuzzClassifyReply(f *testing.F) {
	for _, s := range []string{
		"550 5.1.1 User unknown",
		"550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 last\r\n",
		"smtp; 552 5.1.1 too many recipients",
		"452 4.5.3 Too many recipients",
		"450 4.2.0 <x@example.org>: Recipient address rejected: Greylisted",
		"554 delivery error: dd This user doesn't have a yahoo.com account",
		"550 #5.1.0 Address rejected.",
		"X-Postfix; Host or domain name not found",
		"250 2.1.5 Ok",
		"5.1.1",
		"",
	} {
		f.Add(s)
	}
	valid := map[Reason]bool{}
	for _, r := range Reasons() {
		valid[r] = true
	}
	f.Fuzz(func(t *testing.T, text string) {
		fl := ClassifyReply(0, EnhancedCode{}, text)
		switch fl.Code / 100 {
		case 4:
			if fl.Permanent {
				t.Fatalf("%q: 4xx classified permanent: %+v", text, fl)
			}
		case 5:
			if !fl.Permanent && !(fl.Code == 552 && fl.Detail == DetailTooManyRecipients) {
				t.Fatalf("%q: 5xx classified temporary: %+v", text, fl)
			}
		}
		if !valid[fl.Reason] {
			t.Fatalf("%q: reason %q not in the taxonomy", text, fl.Reason)
		}
		if !fl.EnhancedCode.IsZero() {
			if _, ok := parseEnhancedCode(fl.EnhancedCode.String()); !ok {
				t.Fatalf("%q: invalid enhanced code %q", text, fl.EnhancedCode)
			}
		}
		if fl.Err == nil {
			t.Fatalf("%q: no Err", text)
		}
		for _, l := range fl.Lines {
			if strings.Contains(l, "\n") {
				t.Fatalf("%q: line with a line end: %q", text, l)
			}
		}
		e := ParseReply(text)
		if e.Code != fl.Code {
			t.Fatalf("%q: ParseReply code %d, ClassifyReply code %d", text, e.Code, fl.Code)
		}
		if e.Code == 0 {
			return
		}
		// The same reply as net/smtp returns it classifies the same way.
		msg := e.Line
		if !e.EnhancedCode.IsZero() {
			msg = e.EnhancedCode.String() + " " + msg
		}
		for _, l := range e.MoreLines {
			msg += "\n" + l
		}
		ft := Classify(&textproto.Error{Code: e.Code, Msg: msg})
		if ft.Permanent != fl.Permanent || ft.Code != fl.Code || ft.EnhancedCode != fl.EnhancedCode {
			t.Fatalf("%q: textproto %+v, raw %+v", text, ft, fl)
		}
	})
}
