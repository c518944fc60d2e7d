package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and keeps its bounds on any
// input. The seeds are the corpus bounces, plus the unit test messages.
func FuzzParse(f *testing.F) {
	err := filepath.WalkDir(corpusDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".eml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
		return err
	})
	if err != nil {
		f.Fatalf("seed corpus: %v", err)
	}
	for _, s := range []string{qmailBounce, eximQP, office365, crlf(qmailBounce)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := readText(msg)
		if err != nil {
			if r != nil {
				t.Fatalf("report %+v with error %v", r, err)
			}
			return
		}
		if r == nil {
			t.Fatalf("nil report without error")
		}
		if len(r.Recipients) > MaxRecipients {
			t.Fatalf("%d recipients, max %d", len(r.Recipients), MaxRecipients)
		}
		if r.AutoReply && len(r.Recipients) > 0 {
			t.Fatalf("auto-reply with recipients")
		}
		for _, rc := range r.Recipients {
			if c := rc.Class(); c != 2 && c != 4 && c != 5 {
				t.Fatalf("class %d for %+v", c, rc)
			}
		}
	})
}
