package dsn

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// seeds returns the goldens and the corpus DSNs.
func seeds(f *testing.F) [][]byte {
	var out [][]byte
	files, _ := filepath.Glob("testdata/*.golden")
	dsns, _ := corpusFiles(f)
	for _, rel := range dsns {
		files = append(files, filepath.Join(corpusDir, rel))
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, part, err := Parse(bytes.NewReader(data))
		if err != nil && !errors.Is(err, ErrNoRecipients) {
			if m != nil {
				t.Fatalf("message with error %v", err)
			}
			return
		}
		checkPartOffsets(t, part, int64(len(data)))
		if err == nil && (len(m.Recipients) == 0 || len(m.Recipients) > MaxRecipients) {
			t.Fatalf("%d recipients without error", len(m.Recipients))
		}
		for _, r := range m.Recipients {
			if r.FinalRecipient == "" || !r.Action.Valid() {
				t.Fatalf("bad recipient %#v", r)
			}
			if r.Status != "" && !validStatus(r.Status) {
				t.Fatalf("bad status %q", r.Status)
			}
		}
		if len(m.TextBody) > MaxTextBody*4 {
			t.Fatalf("text body of %d bytes", len(m.TextBody))
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, b := range seeds(f) {
		// Seed with the delivery-status part of each message.
		m, part, err := Parse(bytes.NewReader(b))
		if err != nil || m == nil {
			continue
		}
		if ds, _ := part.find(isStatusPart, nil); ds != nil {
			f.Add(b[ds.BodyOffset:ds.EndOffset], ds.MediaType == "message/global-delivery-status")
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, utf8 bool) {
		m, err := Decode(bytes.NewReader(data), utf8)
		if err != nil {
			if m != nil && !errors.Is(err, ErrNoRecipients) {
				t.Fatalf("message with error %v", err)
			}
			return
		}
		if len(m.Recipients) == 0 || m.SMTPUTF8 != utf8 {
			t.Fatalf("bad message %#v", m)
		}
		for _, r := range m.Recipients {
			if r.FinalRecipient == "" || !r.Action.Valid() {
				t.Fatalf("bad recipient %#v", r)
			}
		}
	})
}
