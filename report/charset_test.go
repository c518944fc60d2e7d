package report

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bouncekit/bouncekit/internal/hostile"
)

// Real phrases of Japanese bounces (Lotus Domino's unknown user, m-FILTER's
// delivery failure) and of other languages, encoded by an independent
// encoder (Python's codecs), so the test does not check x/text against
// itself.
const (
	jpUnknown       = "ユーザー rcpt@example.co.jp は Domino ディレクトリには見つかりません。"
	jpUnknown2022   = "\x1b$B%f!<%6!<\x1b(B rcpt@example.co.jp \x1b$B$O\x1b(B Domino \x1b$B%G%#%l%/%H%j$K$O8+$D$+$j$^$;$s!#\x1b(B"
	jpUnknownSJIS   = "\x83\x86\x81[\x83U\x81[ rcpt@example.co.jp \x82\xcd Domino \x83f\x83B\x83\x8c\x83N\x83g\x83\x8a\x82\xc9\x82\xcd\x8c\xa9\x82\xc2\x82\xa9\x82\xe8\x82\xdc\x82\xb9\x82\xf1\x81B"
	jpUnknownEUC    = "\xa5\xe6\xa1\xbc\xa5\xb6\xa1\xbc rcpt@example.co.jp \xa4\xcf Domino \xa5\xc7\xa5\xa3\xa5\xec\xa5\xaf\xa5\xc8\xa5\xea\xa4\xcb\xa4\xcf\xb8\xab\xa4\xc4\xa4\xab\xa4\xea\xa4\xde\xa4\xbb\xa4\xf3\xa1\xa3"
	jpFailed        = "以下のメールアドレスへの送信に失敗しました。"
	jpFailed2022B64 = "GyRCMEoyPCROJWEhPCVrJSIlSSVsJTkkWCROQXc/LiRLPDpHVCQ3JF4kNyQ/ISMbKEI="
	jpFailedSJISQP  = "=88=C8=89=BA=82=CC=83=81=81[=83=8B=83A=83h=83=8C=83X=82=D6=82=CC=91=97=90M=\n=82=C9=8E=B8=94s=82=B5=82=DC=82=B5=82=BD=81B"
)

// TestCharsetText checks that the text parts collected are decoded text parts from their
// charset parameter after the transfer encoding (RFC 2046 section 4.1.2),
// replaces invalid sequences, and keeps the bytes of a charset it does not
// know.
func TestCharsetText(t *testing.T) {
	cases := []struct {
		name string
		ct   string // Content-Type of the part.
		cte  string // Content-Transfer-Encoding.
		body string
		want string // The decoded text must contain this.
	}{
		{"iso-2022-jp 7bit", "text/plain; charset=iso-2022-jp", "7bit", jpUnknown2022, jpUnknown},
		{"ISO-2022-JP quoted name", `text/plain; charset="ISO-2022-JP"`, "", jpUnknown2022, jpUnknown},
		{"iso-2022-jp base64", "text/plain; charset=iso-2022-jp", "base64", jpFailed2022B64, jpFailed},
		{"iso-2022-jp-2 label", "text/plain; charset=iso-2022-jp-2", "", jpUnknown2022, jpUnknown},
		{"shift_jis 8bit", "text/plain; charset=Shift_JIS", "8bit", jpUnknownSJIS, jpUnknown},
		{"shift_jis quoted-printable", "text/plain; charset=shift_jis", "quoted-printable", jpFailedSJISQP, jpFailed},
		{"x-sjis label", "text/plain; charset=x-sjis", "", jpUnknownSJIS, jpUnknown},
		{"euc-jp", "text/plain; charset=euc-jp", "", jpUnknownEUC, jpUnknown},
		{"iso-8859-1", "text/plain; charset=iso-8859-1", "", "550 Empf\xe4nger unbekannt", "550 Empfänger unbekannt"},
		{"iso-8859-1 quoted-printable", "text/plain; charset=ISO-8859-1", "quoted-printable", "550 Empf=E4nger unbekannt", "550 Empfänger unbekannt"},
		{"iso-8859-15", "text/plain; charset=iso-8859-15", "", "Destinataire inconnu, adresse refus\xe9e", "Destinataire inconnu, adresse refusée"},
		{"koi8-r", "text/plain; charset=koi8-r", "", "\xf0\xcf\xcc\xd8\xda\xcf\xd7\xc1\xd4\xc5\xcc\xd8 \xce\xc5 \xce\xc1\xca\xc4\xc5\xce", "Пользователь не найден"},
		{"windows-1251", "text/plain; charset=windows-1251", "", "\xcf\xee\xeb\xfc\xe7\xee\xe2\xe0\xf2\xe5\xeb\xfc \xed\xe5 \xed\xe0\xe9\xe4\xe5\xed", "Пользователь не найден"},
		{"gb2312", "text/plain; charset=gb2312", "", "\xd3\xc3\xbb\xa7\xb2\xbb\xb4\xe6\xd4\xda", "用户不存在"},
		{"gbk", "text/plain; charset=GBK", "", "\xca\xd5\xbc\xfe\xc8\xcb\xb2\xbb\xb4\xe6\xd4\xda", "收件人不存在"},
		{"big5", "text/plain; charset=big5", "", "\xa8\xcf\xa5\xce\xaa\xcc\xa4\xa3\xa6s\xa6b", "使用者不存在"},
		{"euc-kr", "text/plain; charset=euc-kr", "", "\xb9\xde\xb4\xc2 \xbb\xe7\xb6\xf7\xc0\xcc \xbe\xf8\xbd\xc0\xb4\xcf\xb4\xd9", "받는 사람이 없습니다"},
		{"ks_c_5601-1987 label", "text/plain; charset=ks_c_5601-1987", "", "\xb9\xde\xb4\xc2", "받는"},
		{"html in shift_jis", "text/html; charset=shift_jis", "", "<p>" + jpUnknownSJIS + "</p>", jpUnknown},
		{"broken parameter list", "text/plain; charset=iso-2022-jp; format=", "", jpUnknown2022, jpUnknown},
		// Invalid sequences become U+FFFD; the rest of the part is kept.
		{"shift_jis invalid", "text/plain; charset=shift_jis", "", "550 \x81\x7f\xff " + jpUnknownSJIS, "550 \ufffd\x7f\ufffd " + jpUnknown},
		{"iso-2022-jp invalid", "text/plain; charset=iso-2022-jp", "", "\x1b$B\x7f\x7f\x1b(B 550 user unknown", "550 user unknown"},
		// No work: the bytes stay as they are, valid or not.
		{"utf-8", "text/plain; charset=utf-8", "", jpUnknown, jpUnknown},
		{"us-ascii", "text/plain; charset=us-ascii", "", "550 \xe4 user unknown", "550 \xe4 user unknown"},
		{"no charset", "text/plain", "", "550 \xe4 user unknown", "550 \xe4 user unknown"},
		{"unknown charset", "text/plain; charset=x-unknown-42", "", "550 \xe4 user unknown", "550 \xe4 user unknown"},
		// ISO-2022-JP without a label: its escapes name it (RFC 1468), as
		// long as the text is 7-bit.
		{"unlabeled iso-2022-jp", "text/plain", "", jpUnknown2022, jpUnknown},
		{"unlabeled iso-2022-jp, unknown charset", "text/plain; charset=x-unknown-42", "", jpUnknown2022, jpUnknown},
		{"escapes in 8-bit text", "text/plain", "", "\xe4 " + jpUnknown2022, "\xe4 " + jpUnknown2022},
		{"iso-2022-kr kept, not replaced", "text/plain; charset=iso-2022-kr", "", "\x1b$)C550 user unknown", "550 user unknown"},
		{"utf-7 unknown to x/text", "text/plain; charset=unicode-1-1-utf-7", "", "+ZeVnLIqe-", "+ZeVnLIqe-"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := "Content-Type: " + c.ct + "\r\n"
			if c.cte != "" {
				msg += "Content-Transfer-Encoding: " + c.cte + "\r\n"
			}
			_, p, err := walkBytes([]byte(msg + "\r\n" + c.body))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(p.texts, "\n")
			if !strings.Contains(got, c.want) {
				t.Fatalf("text %q, want it to contain %q", got, c.want)
			}
			if p.textLen != len(got) {
				t.Errorf("textLen %d, want %d", p.textLen, len(got))
			}
		})
	}
}

// TestCharsetMultipart checks that each part of a multipart is decoded from
// its own charset, and that a report's diagnostic read from the text carries
// the decoded phrase.
func TestCharsetMultipart(t *testing.T) {
	msg := "From: MAILER-DAEMON@mx.example.co.jp\r\n" +
		"Subject: =?ISO-2022-JP?B?GyRCR1s/LiUoJWkhPBsoQjogGyRCMDhAaElUTEAbKEI=?=\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n" + jpUnknown2022 + "\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + strings.ReplaceAll(jpFailedSJISQP, "\n", "\r\n") + "\r\n" +
		"--b1--\r\n"
	h, p, err := walkBytes([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{jpUnknown, jpFailed}
	if len(p.texts) != len(want) {
		t.Fatalf("texts %q, want %d", p.texts, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(p.texts[i], w) {
			t.Errorf("text %d is %q, want it to start with %q", i, p.texts[i], w)
		}
	}
	if got, want := decodeHeader(h.Get("Subject")), "配信エラー: 宛先不明"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
}

// TestDecodeHeader checks RFC 2047 encoded words in the charsets x/text
// knows, and that an unknown charset keeps the raw value.
func TestDecodeHeader(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"=?ISO-2022-JP?B?GyRCR1s/LiUoJWkhPBsoQjogGyRCMDhAaElUTEAbKEI=?=", "配信エラー: 宛先不明"},
		{"=?Shift_JIS?B?lHqQTYNHg4mBWzogiLaQ5pVzlr4=?=", "配信エラー: 宛先不明"},
		{"Returned mail: =?iso-2022-jp?B?GyRCMDhAaElUTEAbKEI=?=", "Returned mail: 宛先不明"},
		{"=?koi8-r?B?7sXEz9PUwdfMxc7Oz8Ug08/Pwt3FzsnF?=", "Недоставленное сообщение"},
		{"=?iso-8859-1?Q?Unzustellbar:_Empf=E4nger?=", "Unzustellbar: Empfänger"},
		{"=?windows-1252?Q?Non_remis_=96_refus=E9?=", "Non remis – refusé"},
		{"=?utf-8?B?5a6b5YWI5LiN5piO?=", "宛先不明"},
		{"=?us-ascii?Q?failure_notice?=", "failure notice"},
		{"plain subject", "plain subject"},
		{"=?x-unknown?B?GyRCMDhAaElUTEAbKEI=?=", "=?x-unknown?B?GyRCMDhAaElUTEAbKEI=?="},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := decodeHeader(c.in); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestCharsetHostile checks that decoding a 30 MB part allocates no more
// than reading the same part without a charset plus a small constant,
// whatever the input: the transformer works through fixed buffers and stops
// at the text cap. The baseline is io.ReadAll's growth to the cap, the cost
// of the text path before charsets were decoded.
func TestCharsetHostile(t *testing.T) {
	const size = 30 << 20
	raw := hostile.NewRepeated("", "550 5.1.1 user unknown\n", "", size)
	base := hostile.Allocs(func() { readAll(io.NewSectionReader(raw, 0, raw.Size()), maxTextLen) })
	bound := base + 64<<10
	t.Logf("baseline without charset: %d bytes allocated", base)
	cases := []struct {
		name    string
		charset string
		fill    string
	}{
		{"shift_jis text", "shift_jis", jpUnknownSJIS},
		{"shift_jis invalid bytes", "shift_jis", "\x81\x7f\xff\xfe"},
		{"iso-8859-1 doubling", "iso-8859-1", "\xe4\xf6\xfc"},
		{"iso-2022-jp escapes only", "iso-2022-jp", "\x1b$B\x1b(B"},
		{"iso-2022-jp invalid", "iso-2022-jp", "\x1b$B\x7f\x7f\x01"},
		{"gbk", "gbk", "\xd3\xc3\xbb\xa7\xb2\xbb\xb4\xe6\xd4\xda"},
		{"utf-16", "utf-16le", "\x00\xd8\x00\xd8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := hostile.NewRepeated("", c.fill, "", size)
			var got []byte
			n := hostile.Check(t, bound, func() {
				got = readAll(decodeCharset(c.charset, io.NewSectionReader(r, 0, r.Size())), maxTextLen)
			})
			t.Logf("%d bytes out, %d bytes allocated", len(got), n)
			if len(got) > maxTextLen {
				t.Errorf("%d bytes out, cap %d", len(got), maxTextLen)
			}
		})
	}
}

// TestUnlabeledISO2022JP checks the decoding of ISO-2022-JP that carries no
// label, and that Read applies it to a DSN's Diagnostic-Code, where Lotus
// Domino writes it (sisimai's lhost-domino-02).
func TestUnlabeledISO2022JP(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"escapes", jpUnknown2022, jpUnknown},
		{"old JIS escape", "\x1b$@%f!<%6!<\x1b(J", "ユーザー"},
		{"ascii", "550 5.1.1 user unknown", "550 5.1.1 user unknown"},
		{"8-bit bytes", "\xe4\x1b$B%f\x1b(B", "\xe4\x1b$B%f\x1b(B"},
		{"other escape", "\x1b[1m550\x1b[0m", "\x1b[1m550\x1b[0m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := unlabeledISO2022JP(c.in); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}

	msg := "From: Postmaster@example.co.jp\r\n" +
		"Subject: DELIVERY FAILURE: =?ISO-2022-JP?B?GyRCJWYhPCU2ITwbKEI=?=\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n" + jpUnknown2022 + "\r\n" +
		"--b1\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns;mx.example.co.jp\r\n\r\n" +
		"Final-Recipient: rfc822;rcpt@example.co.jp\r\nAction: failed\r\nStatus: 5.0.0\r\n" +
		"Diagnostic-Code: X-Notes; " + jpUnknown2022 + "\r\n" +
		"--b1--\r\n"
	r := Read([]byte(msg))
	if r.Kind != KindDSN || len(r.Recipients) != 1 {
		t.Fatalf("kind %s, %d recipients, want a DSN with 1", r.Kind, len(r.Recipients))
	}
	if got := r.Recipients[0].Diagnostic; got != jpUnknown {
		t.Errorf("diagnostic %q, want %q", got, jpUnknown)
	}
	if got, want := r.Subject, "DELIVERY FAILURE: ユーザー"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
}

// FuzzCharset checks that charset decoding never panics, stays within its
// limit, and yields valid UTF-8 from any bytes in a charset x/text knows
// (invalid sequences replaced); and that decodeHeader never panics.
func FuzzCharset(f *testing.F) {
	for _, c := range []struct{ cs, body string }{
		{"iso-2022-jp", jpUnknown2022},
		{"shift_jis", jpUnknownSJIS},
		{"euc-jp", jpUnknownEUC},
		{"iso-8859-1", "Empf\xe4nger"},
		{"gbk", "\xd3\xc3\xbb\xa7"},
		{"big5", "\xa8\xcf\xa5\xce"},
		{"utf-16le", "\x00\xd8"},
		{"x-unknown", "\xff"},
		{"", jpUnknown2022},
		{"=?shift_jis?B?lHqQTYNHg4mBWzogiLaQ5pVzlr4=?=", "=?iso-2022-jp?B?GyRCMDhAaElUTEAbKEI=?="},
	} {
		f.Add(c.cs, []byte(c.body))
	}
	const limit = 4096
	f.Fuzz(func(t *testing.T, cs string, body []byte) {
		out := readAll(decodeCharset(cs, bytes.NewReader(body)), limit)
		if len(out) > limit {
			t.Fatalf("%d bytes out, limit %d", len(out), limit)
		}
		if charsetEncoding(cs) != nil && len(out) < limit-utf8.UTFMax && !utf8.Valid(out) {
			t.Fatalf("invalid UTF-8 from %q: %q", cs, out)
		}
		if s := unlabeledISO2022JP(string(body)); s != string(body) && !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 from unlabeled ISO-2022-JP %q: %q", body, s)
		}
		decodeHeader(cs)
		decodeHeader(string(body))
	})
}

// BenchmarkDecodeCharset measures decoding 1 MB of text (the text cap) per
// charset, against reading it without a charset.
func BenchmarkDecodeCharset(b *testing.B) {
	for _, c := range []struct{ name, charset, fill string }{
		{"none", "", "550 5.1.1 user unknown\n"},
		{"iso-2022-jp", "iso-2022-jp", jpUnknown2022 + "\n"},
		{"shift_jis", "shift_jis", jpUnknownSJIS + "\n"},
		{"iso-8859-1", "iso-8859-1", "550 Empf\xe4nger unbekannt\n"},
	} {
		in := bytes.Repeat([]byte(c.fill), maxTextLen/len(c.fill))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for i := 0; i < b.N; i++ {
				readAll(decodeCharset(c.charset, bytes.NewReader(in)), maxTextLen)
			}
		})
	}
}
