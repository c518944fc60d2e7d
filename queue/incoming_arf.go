package queue

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"

	"github.com/bouncekit/bouncekit/internal/ndr"
)

// Limits for reading a feedback report.
const (
	maxARFParts    = 50        // MIME parts looked at.
	maxARFDepth    = 4         // Nesting of multiparts.
	maxARFFields   = 64 * 1024 // Bytes of the message/feedback-report part.
	maxARFReturned = 1 << 20   // Bytes of the returned message read for its header.
	maxARFScan     = 4 << 20   // Bytes searched for "feedback-report" before the MIME walk.
	maxARFLineScan = 64 * 1024 // Bytes searched for a LF; without one, line ends are CR only.
)

// formatARF is the IncomingResult.Format of an RFC 5965 feedback report:
// this file reads those, internal/ndr names the formats it reads.
const formatARF ndr.Format = "arf"

// arfReport is what parseARF found in an RFC 5965 feedback report.
type arfReport struct {
	feedbackType     string   // Lower-case Feedback-Type: abuse, fraud, virus, other, not-spam, ...
	userAgent        string   // User-Agent of the reporting software.
	originalRcptTo   []string // Original-Rcpt-To addresses, without <>.
	originalMailFrom string   // Original-Mail-From, without <>.
	reportingMTA     string
	sourceIP         string

	messageID string // Message-ID of the returned message, without <>.
	subject   string // Subject of the returned message.
}

// complaint reports whether the feedback type says the recipient does not
// want the mail. "not-spam" (a message was wrongly judged spam) and
// "auth-failure" (RFC 6591, a report about authentication) are not
// complaints; abuse, fraud, virus, other, opt-out and unknown types are, as
// hosted services treat every feedback-loop report.
func (r *arfReport) complaint() bool {
	switch r.feedbackType {
	case "not-spam", "auth-failure":
		return false
	}
	return true
}

// parseARF returns the feedback report in msg, or nil if msg is not one:
// RFC 5965 section 2, a multipart/report with a message/feedback-report
// part. A report-type other than feedback-report is accepted, as long as
// the part is there.
func parseARF(msg []byte) *arfReport {
	if !bytes.Contains(msg[:min(len(msg), maxARFScan)], []byte("feedback-report")) {
		return nil // Cheap test before the MIME walk.
	}
	if bytes.IndexByte(msg[:min(len(msg), maxARFLineScan)], '\n') < 0 {
		msg = bytes.ReplaceAll(msg, []byte("\r"), []byte("\n")) // CR-only line ends.
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return nil
	}
	w := arfWalker{}
	w.entity(textproto.MIMEHeader(m.Header), m.Body, 0)
	if w.report == nil {
		return nil
	}
	return w.report
}

// arfWalker walks the MIME tree of a report.
type arfWalker struct {
	parts      int
	report     *arfReport
	needOrigin bool // The feedback part was seen; the next message part is the returned message.
}

func (w *arfWalker) entity(h textproto.MIMEHeader, body io.Reader, depth int) {
	w.parts++
	if w.parts > maxARFParts || depth > maxARFDepth {
		return
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(h.Get("Content-Type"), ";")[0]))
	}
	body = transferDecoder(h.Get("Content-Transfer-Encoding"), body)
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if params["boundary"] == "" {
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for w.parts <= maxARFParts {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			w.entity(p.Header, p, depth+1)
		}
	case mt == "message/feedback-report":
		if w.report == nil {
			w.report = parseFeedbackFields(io.LimitReader(body, maxARFFields))
			w.needOrigin = true
		}
	case w.needOrigin && (mt == "message/rfc822" || mt == "text/rfc822-headers" || mt == "message/global" || mt == "message/global-headers"):
		w.needOrigin = false
		om, err := mail.ReadMessage(bufio.NewReader(io.LimitReader(body, maxARFReturned)))
		if err != nil {
			return
		}
		w.report.messageID = trimMsgID(om.Header.Get("Message-Id"))
		w.report.subject = decodeSubject(om.Header.Get("Subject"))
	}
}

// parseFeedbackFields reads the fields of a message/feedback-report part
// (RFC 5965 section 3.1), which have header syntax.
func parseFeedbackFields(r io.Reader) *arfReport {
	data, _ := io.ReadAll(r)
	data = append(bytes.TrimRight(data, "\r\n \t"), "\n\n"...)
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(data))).ReadMIMEHeader()
	rep := &arfReport{
		feedbackType:     strings.ToLower(strings.TrimSpace(h.Get("Feedback-Type"))),
		userAgent:        strings.TrimSpace(h.Get("User-Agent")),
		originalMailFrom: trimAngle(h.Get("Original-Mail-From")),
		reportingMTA:     strings.TrimSpace(h.Get("Reporting-Mta")),
		sourceIP:         strings.TrimSpace(h.Get("Source-Ip")),
	}
	for _, v := range h.Values("Original-Rcpt-To") {
		if a := trimAngle(v); a != "" {
			rep.originalRcptTo = append(rep.originalRcptTo, a)
		}
	}
	// Some reporters use the removed draft field name.
	for _, v := range h.Values("Removal-Recipient") {
		if a := trimAngle(v); a != "" && len(rep.originalRcptTo) == 0 {
			rep.originalRcptTo = append(rep.originalRcptTo, a)
		}
	}
	return rep
}

// trimAngle returns an address without spaces, angle brackets and a
// "type;" prefix.
func trimAngle(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ';'); i >= 0 && !strings.Contains(s[:i], "@") {
		s = strings.TrimSpace(s[i+1:])
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">"))
}

// transferDecoder undoes a base64 or quoted-printable transfer encoding.
func transferDecoder(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &spaceDropper{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// spaceDropper drops line breaks and spaces from base64 text.
type spaceDropper struct{ r io.Reader }

func (s *spaceDropper) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
