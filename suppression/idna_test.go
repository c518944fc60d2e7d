package suppression

import "testing"

// Unicode domains get the UTS #46 mapping and NFC before the A-label form,
// so the spellings a mail client may send end up as one base address.
func TestNormalizeIDNAMapping(t *testing.T) {
	var n Normalizer
	for _, c := range []struct{ in, want string }{
		{"user@Bücher.de", "user@xn--bcher-kva.de"},
		{"user@bu\u0308cher.de", "user@xn--bcher-kva.de"},           // Decomposed ü: NFC.
		{"user@ＥＸＡＭＰＬＥ。com", "user@example.com"},                    // Full-width letters, ideographic full stop.
		{"user@xn--bcher-kva.de", "user@xn--bcher-kva.de"},          // Already an A-label.
		{"User+tag@MÜNCHEN.example", "user@xn--mnchen-3ya.example"}, // Separator cut, case folded.
	} {
		got, err := n.Normalize(c.in)
		if err != nil || got != c.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := n.Normalize("user@a\u200db.example"); err == nil {
		t.Errorf("zero-width joiner in a domain label: no error")
	}
}
