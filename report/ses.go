package report

import (
	"encoding/json"
	"strings"
)

// sesNotification is the part of an Amazon SES event notification (as sent by
// SNS to an email endpoint) that matters here.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"` // Instead of notificationType in SES event publishing.
	Bounce           struct {
		BounceType        string `json:"bounceType"` // "Permanent", "Transient", "Undetermined".
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		UserAgent             string `json:"userAgent"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Delivery struct {
		Recipients   []string `json:"recipients"`
		SMTPResponse string   `json:"smtpResponse"`
	} `json:"delivery"`
	Mail struct {
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"mail"`
}

// parseSES reads an Amazon SES notification in JSON from the text. It returns
// nil if there is none. A complaint notification is returned as a Report
// with Complaint set.
func parseSES(text string) (*textReport, error) {
	n, ok := findSES(unwrapLongLines(text))
	if !ok {
		return nil, nil
	}
	if n.NotificationType == "" {
		n.NotificationType = n.EventType
	}
	r := &textReport{Format: FormatAmazonSES, notification: true}
	for _, h := range n.Mail.Headers {
		if strings.EqualFold(h.Name, "Message-Id") {
			r.OriginalMessageID = cleanMessageID(h.Value)
		}
	}
	switch n.NotificationType {
	case "Bounce":
		for _, b := range n.Bounce.BouncedRecipients {
			rc := textRecipient{Address: b.EmailAddress, Action: strings.ToLower(b.Action), Diagnostic: strings.Join(strings.Fields(b.DiagnosticCode), " ")}
			rc.Code, rc.Status = codes(rc.Diagnostic)
			if st := findStatus(b.Status); st != "" {
				rc.Status = st
			}
			if rc.Action == "" {
				rc.Action = "failed"
				if n.Bounce.BounceType == "Transient" {
					rc.Action = "delayed"
				}
			}
			r.Recipients = append(r.Recipients, rc)
		}
	case "Delivery":
		diag := strings.Join(strings.Fields(n.Delivery.SMTPResponse), " ")
		code, status := codes(diag)
		for _, a := range n.Delivery.Recipients {
			r.Recipients = append(r.Recipients, textRecipient{Address: a, Action: "delivered", Code: code, Status: status, Diagnostic: diag})
		}
	case "Complaint":
		c := &textComplaint{FeedbackType: strings.ToLower(n.Complaint.ComplaintFeedbackType), UserAgent: n.Complaint.UserAgent}
		for _, rc := range n.Complaint.ComplainedRecipients {
			if len(c.Recipients) < MaxRecipients {
				c.Recipients = append(c.Recipients, rc.EmailAddress)
			}
		}
		if len(c.Recipients) == 0 {
			return nil, errNotBounce
		}
		r.Complaint = c
	default:
		return nil, nil
	}
	return r, nil
}

// maxSESTries bounds the JSON objects findSES tries to decode.
const maxSESTries = 8

// findSES finds an SES notification in text, in the forms SES sends it by
// email: the notification object itself ({"notificationType": ...}, or
// {"eventType": ...} of SES event publishing), or an Amazon SNS message
// ({"Type": "Notification", "Message": "..."}) whose Message field holds
// the notification as a JSON string. Objects are found by these keys, in
// any layout (SNS writes them indented), and decoded from the "{" before
// the key.
func findSES(text string) (sesNotification, bool) {
	tries := 0
	for _, key := range []string{`"notificationType"`, `"eventType"`, `"Type"`} {
		for off := 0; tries < maxSESTries; tries++ {
			k := strings.Index(text[off:], key)
			if k < 0 {
				break
			}
			k += off
			off = k + len(key)
			open := strings.LastIndexByte(text[:k], '{')
			if open < 0 || strings.TrimSpace(text[open+1:k]) != "" {
				continue // The key is not the object's first.
			}
			var obj struct {
				sesNotification
				Type    string `json:"Type"`
				Message string `json:"Message"`
			}
			if json.NewDecoder(strings.NewReader(text[open:])).Decode(&obj) != nil {
				continue
			}
			if obj.NotificationType != "" || obj.EventType != "" {
				return obj.sesNotification, true
			}
			if obj.Type == "Notification" && strings.HasPrefix(strings.TrimSpace(obj.Message), "{") {
				var n sesNotification
				if json.Unmarshal([]byte(obj.Message), &n) == nil && (n.NotificationType != "" || n.EventType != "") {
					return n, true
				}
			}
		}
	}
	return sesNotification{}, false
}

// unwrapLongLines undoes Sendmail's splitting of lines longer than its limit,
// which ends a line with "!" and continues it on an indented line. Inside
// JSON a line break cannot occur, so "!\n " there is always such a split.
func unwrapLongLines(s string) string {
	if !strings.Contains(s, "!\n ") {
		return s
	}
	return strings.ReplaceAll(s, "!\n ", "")
}
