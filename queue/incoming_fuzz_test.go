package queue

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseIncoming checks that parsing and classifying any input never
// panics and stays within its limits. The seeds are corpus samples of each
// kind.
func FuzzParseIncoming(f *testing.F) {
	for _, p := range []string{
		"sisimai/bsd/rfc3464-01.eml",
		"sisimai/bsd/arf-01.eml",
		"sisimai/bsd/rfc3834-01.eml",
		"sisimai/bsd/lhost-qmail-03.eml",
		"sisimai/cr/arf-01.eml",
	} {
		data, err := os.ReadFile(filepath.Join(incomingCorpus, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("Content-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n--b--\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		rep := parseIncoming(msg)
		if len(rep.rcpts) > MaxIncomingRecipients {
			t.Fatalf("%d recipients", len(rep.rcpts))
		}
		for _, r := range rep.rcpts {
			classifyRcpt(r)
		}
	})
}
