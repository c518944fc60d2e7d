package report

import (
	"encoding/json"
	"strings"
)

// sesNotification is the part of an Amazon SES event notification (as sent by
// SNS to an email endpoint) that matters here.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
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
	i := strings.Index(text, `{"notificationType"`)
	if i < 0 {
		return nil, nil
	}
	var n sesNotification
	if err := json.NewDecoder(strings.NewReader(unwrapLongLines(text[i:]))).Decode(&n); err != nil {
		return nil, nil
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

// unwrapLongLines undoes Sendmail's splitting of lines longer than its limit,
// which ends a line with "!" and continues it on an indented line. Inside
// JSON a line break cannot occur, so "!\n " there is always such a split.
func unwrapLongLines(s string) string {
	if !strings.Contains(s, "!\n ") {
		return s
	}
	return strings.ReplaceAll(s, "!\n ", "")
}
