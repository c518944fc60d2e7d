package report

import "testing"

// TestReadJMRP reads Microsoft's complaint reports (JMRP, Hotmail and
// Outlook.com), which name the complaining recipient only in the
// X-HmXmrOriginalRecipient field of the attached message: the older form
// without a message/feedback-report part, and an RFC 5965 report whose part
// leaves Original-Rcpt-To out.
func TestReadJMRP(t *testing.T) {
	const original = "X-HmXmrOriginalRecipient: <bob@hotmail.com>\r\nFrom: news@example.org\r\nTo: bob@hotmail.com\r\n" +
		"Subject: Weekly news\r\nMessage-ID: <news42@example.org>\r\n\r\nhello\r\n"
	old := "From: staff@hotmail.com\r\nTo: fbl@example.org\r\nSubject: complaint about message from 192.0.2.25\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report for an email message received from IP 192.0.2.25.\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\n" + original + "--b--\r\n"
	arf := "From: staff@hotmail.com\r\nTo: fbl@example.org\r\nSubject: complaint about message from 192.0.2.25\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n" +
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: Microsoft JMRP\r\nVersion: 1\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\n" + original + "--b--\r\n"
	for _, c := range []struct{ name, msg, agent string }{
		{"without feedback part", old, "Hotmail FBL"},
		{"arf without recipient", arf, "Microsoft JMRP"},
	} {
		r := Read([]byte(c.msg))
		if r.Kind != KindFeedback || r.Feedback == nil {
			t.Errorf("%s: kind %s, feedback %v", c.name, r.Kind, r.Feedback)
			continue
		}
		f := r.Feedback
		if !f.Complaint() || f.UserAgent != c.agent || len(f.OriginalRcptTo) != 1 || f.OriginalRcptTo[0] != "bob@hotmail.com" || f.MessageID != "news42@example.org" {
			t.Errorf("%s: feedback %+v", c.name, *f)
		}
	}
}
