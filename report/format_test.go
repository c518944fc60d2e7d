package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// knownFormats are the Format constants: a new format must be added there
// and here.
var knownFormats = map[Format]bool{
	FormatQmail: true, FormatExim: true, FormatPostfix: true, FormatGoogleGroups: true,
	FormatGmail: true, FormatYahoo: true, FormatAmazonSES: true, FormatExchange: true,
	FormatOffice365: true, FormatSendmail: true, FormatCourier: true, FormatOpenSMTPD: true,
	FormatDragonfly: true, FormatNotes: true,
	FormatRFC3464: true, FormatGeneric: true, FormatAutoReply: true,
}

// TestFormatsKnown checks that every format the text reader can report is a Format
// constant: those of the signature table, and those it reported for the
// corpus (the golden file's second column).
func TestFormatsKnown(t *testing.T) {
	named := map[Format]bool{}
	for _, s := range signatures {
		if !knownFormats[s.format] {
			t.Errorf("signature %q names format %q, not a Format constant", s.phrase, s.format)
		}
		named[s.format] = true
	}
	for f := range knownFormats {
		switch f {
		case FormatRFC3464, FormatGeneric, FormatAutoReply:
			continue // Not named by a signature.
		}
		if !named[f] {
			t.Errorf("format %q has a constant but no signature", f)
		}
	}

	golden, err := os.ReadFile(filepath.Join("testdata", "corpus.golden"))
	if err != nil {
		t.Fatalf("read golden: %v", err)
	}
	seen := map[Format]int{}
	for _, line := range strings.Split(string(golden), "\n") {
		cols := strings.Split(line, "\t")
		if line == "" || strings.HasPrefix(line, "\t") || len(cols) < 2 || strings.HasPrefix(cols[1], "error: ") {
			continue
		}
		f := Format(cols[1])
		if !knownFormats[f] {
			t.Errorf("%s: format %q, not a Format constant", cols[0], f)
		}
		seen[f]++
	}
	if len(seen) < 5 {
		t.Fatalf("golden file names %d formats, want the corpus's many: %v", len(seen), seen)
	}
}
