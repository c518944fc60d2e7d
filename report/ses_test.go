package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/dsn"
)

// sesBounce is an SES bounce notification as AWS documents it ("Amazon SES
// notification contents": notificationType, bounce.bouncedRecipients,
// mail.headers).
const sesBounce = `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",` +
	`"bouncedRecipients":[{"emailAddress":"gone@example.com","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],` +
	`"timestamp":"2026-11-29T10:00:00.000Z","feedbackId":"0100-abc","reportingMTA":"dsn; a8-70.smtp-out.amazonses.com"},` +
	`"mail":{"timestamp":"2026-11-29T09:59:59.000Z","source":"sender@example.org","sourceArn":"arn:aws:ses:us-east-1:123456789012:identity/example.org",` +
	`"destination":["gone@example.com","other@example.net"],"headers":[{"name":"Message-Id","value":"<orig@example.org>"}]}}`

// sesMail wraps a notification body in an email as SNS or SES sends it.
func sesMail(body string) []byte {
	return []byte("From: no-reply@sns.amazonaws.com\r\nSubject: AWS Notification Message\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + body + "\r\n")
}

// TestReadSES reads SES bounce notifications in the three forms they come
// by email: the notification itself, an SNS message holding it as a string
// in its Message field (indented, as SNS writes it), and SES event
// publishing's eventType form. Each names only the bounced recipient, not
// the other addresses in the JSON (source, destination).
func TestReadSES(t *testing.T) {
	msg, err := json.Marshal(sesBounce)
	if err != nil {
		t.Fatal(err)
	}
	sns := "{\r\n  \"Type\" : \"Notification\",\r\n  \"MessageId\" : \"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\",\r\n" +
		"  \"TopicArn\" : \"arn:aws:sns:us-east-1:123456789012:bounces\",\r\n  \"Message\" : " + string(msg) + ",\r\n" +
		"  \"Timestamp\" : \"2026-11-29T10:00:01.000Z\"\r\n}"
	event := strings.Replace(sesBounce, `"notificationType"`, `"eventType"`, 1)
	for _, c := range []struct{ name, body string }{
		{"notification", sesBounce},
		{"sns", sns},
		{"event publishing", event},
	} {
		r := Read(sesMail(c.body))
		if r.Kind != KindNotification || r.Format != FormatAmazonSES {
			t.Errorf("%s: kind %s format %s, want notification amazonses", c.name, r.Kind, r.Format)
			continue
		}
		if len(r.Recipients) != 1 || r.Recipients[0].Address != "gone@example.com" || r.Recipients[0].Action != dsn.ActionFailed || r.Recipients[0].Code != 550 {
			t.Errorf("%s: recipients %+v, want gone@example.com failed 550", c.name, r.Recipients)
		}
		if r.OriginalMessageID != "orig@example.org" {
			t.Errorf("%s: original Message-ID %q", c.name, r.OriginalMessageID)
		}
	}
}
