package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// corpusMessages returns the messages of the shared corpus.
func corpusMessages(f *testing.F) [][]byte {
	var msgs [][]byte
	err := filepath.WalkDir(corpusDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".eml") {
			return err
		}
		b, err := os.ReadFile(p)
		msgs = append(msgs, b)
		return err
	})
	if err != nil {
		f.Fatalf("seed corpus: %v", err)
	}
	return msgs
}

// addSeeds adds the corpus messages and the unit test messages as seeds.
func addSeeds(f *testing.F) {
	for _, b := range corpusMessages(f) {
		f.Add(b)
	}
	for _, s := range []string{qmailBounce, eximQP, office365, crlf(qmailBounce), dsnMessage, transcriptDSN, arfMessage, autoReply, ordinary} {
		f.Add([]byte(s))
	}
}

// FuzzRead checks that Read never panics and keeps its promises on any
// input: a known Kind, at most MaxRecipients recipients, recipients only
// for the kinds that have them, Feedback only for the kinds that carry it.
func FuzzRead(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		r := Read(msg)
		if r == nil {
			t.Fatalf("nil report")
		}
		switch r.Kind {
		case KindDSN, KindBounce, KindNotification:
		case KindFeedback, KindAutoReply, KindNone:
			if len(r.Recipients) > 0 {
				t.Fatalf("kind %s with %d recipients", r.Kind, len(r.Recipients))
			}
		default:
			t.Fatalf("unknown kind %q", r.Kind)
		}
		if len(r.Recipients) > MaxRecipients {
			t.Fatalf("%d recipients, max %d", len(r.Recipients), MaxRecipients)
		}
		if r.Kind == KindFeedback && r.Feedback == nil || r.Feedback != nil && r.Kind != KindFeedback && r.Kind != KindNotification {
			t.Fatalf("kind %s with feedback %+v", r.Kind, r.Feedback)
		}
		if r.Feedback != nil && len(r.Feedback.OriginalRcptTo) > MaxRecipients {
			t.Fatalf("%d complained recipients, max %d", len(r.Feedback.OriginalRcptTo), MaxRecipients)
		}
		for _, rc := range r.Recipients {
			if !rc.Status.IsZero() {
				if c := rc.Status.Class(); c != 2 && c != 4 && c != 5 {
					t.Fatalf("status class %d for %+v", c, rc)
				}
			}
		}
	})
}

// FuzzReadAt checks that ReadAt reads size bytes of its input as Read
// reads them from memory: the same Report for any size, including sizes
// past the end of the input and negative ones.
func FuzzReadAt(f *testing.F) {
	for _, b := range corpusMessages(f) {
		f.Add(b, int64(len(b)))
		f.Add(b, int64(len(b)/2))
	}
	f.Add([]byte(dsnMessage), int64(-1))
	f.Add([]byte(dsnMessage), int64(len(dsnMessage)+10))
	f.Fuzz(func(t *testing.T, msg []byte, size int64) {
		got := ReadAt(bytes.NewReader(msg), size)
		want := Read(msg[:max(0, min(size, int64(len(msg))))])
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ReadAt with size %d of %d bytes:\n%+v\nRead:\n%+v", size, len(msg), got, want)
		}
	})
}

// FuzzParse checks that the bounce text reader never panics and keeps its
// bounds on any input.
func FuzzParse(f *testing.F) {
	addSeeds(f)
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
