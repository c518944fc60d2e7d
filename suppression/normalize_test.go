package suppression

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		n    Normalizer
		in   string
		exp  string // Empty: an error is expected.
	}{
		{"plain", Normalizer{}, "john@example.com", "john@example.com"},
		{"case", Normalizer{}, "John.Doe@Example.COM", "john.doe@example.com"},
		{"plus tag", Normalizer{}, "john+news@example.com", "john@example.com"},
		{"plus at start kept", Normalizer{}, "+john@example.com", "+john@example.com"},
		{"first plus", Normalizer{}, "john+a+b@example.com", "john@example.com"},
		{"hyphen kept", Normalizer{}, "john-doe@example.com", "john-doe@example.com"},
		{"hyphen other person", Normalizer{}, "john-smith@example.com", "john-smith@example.com"},
		{"hyphen configured", Normalizer{Separators: []string{"+", "-"}}, "john-doe@example.com", "john@example.com"},
		{"no separators", Normalizer{Separators: []string{}}, "john+news@example.com", "john+news@example.com"},
		{"dots kept", Normalizer{}, "john.doe@example.com", "john.doe@example.com"},
		{"gmail dots", Normalizer{}, "J.O.H.N.Doe+spam@Gmail.com", "johndoe@gmail.com"},
		{"googlemail dots", Normalizer{}, "john.doe@googlemail.com", "johndoe@googlemail.com"},
		{"dotless configured", Normalizer{DotlessDomains: []string{"example.com"}}, "john.doe@example.com", "johndoe@example.com"},
		{"dotless none", Normalizer{DotlessDomains: []string{}}, "john.doe@gmail.com", "john.doe@gmail.com"},
		{"lenient dots", Normalizer{}, "john..doe.@example.com", "john..doe.@example.com"},
		{"idna u-label", Normalizer{}, "info@Bücher.example", "info@xn--bcher-kva.example"},
		{"idna a-label", Normalizer{}, "info@XN--BCHER-KVA.example", "info@xn--bcher-kva.example"},
		{"idna münchen", Normalizer{}, "a@münchen.de", "a@xn--mnchen-3ya.de"},
		{"idna uppercase u-label", Normalizer{}, "a@MÜNCHEN.de", "a@xn--mnchen-3ya.de"},
		{"utf8 localpart", Normalizer{}, "Jörg@example.com", "jörg@example.com"},
		{"utf8 localpart cjk", Normalizer{}, "用户@例子.测试", "用户@xn--fsqu00a.xn--0zwm56d"},
		{"quoted", Normalizer{}, `"John Doe"@example.com`, `"john doe"@example.com`},
		{"quoted as atom", Normalizer{}, `"john"@example.com`, "john@example.com"},
		{"quoted at sign", Normalizer{}, `"a@b"@example.com`, `"a@b"@example.com`},
		{"quoted escapes", Normalizer{}, `"a\"b\\c"@example.com`, `"a\"b\\c"@example.com`},
		{"quoted pair of atext", Normalizer{}, `"\a"@example.com`, `a@example.com`},
		{"quoted plus", Normalizer{}, `"john doe+x"@example.com`, `"john doe"@example.com`},
		{"ipv4 literal", Normalizer{}, "john@[192.0.2.1]", "john@[192.0.2.1]"},
		{"ipv6 literal", Normalizer{}, "john@[ipv6:2001:DB8:0::1]", "john@[IPv6:2001:db8::1]"},

		{"empty", Normalizer{}, "", ""},
		{"no at", Normalizer{}, "john.example.com", ""},
		{"empty localpart", Normalizer{}, "@example.com", ""},
		{"empty domain", Normalizer{}, "john@", ""},
		{"two ats", Normalizer{}, "a@b@example.com", ""},
		{"space", Normalizer{}, "john doe@example.com", ""},
		{"control", Normalizer{}, "john\x00@example.com", ""},
		{"bad utf8", Normalizer{}, "jo\xffhn@example.com", ""},
		{"unterminated quote", Normalizer{}, `"john@example.com`, ""},
		{"quote without at", Normalizer{}, `"john"example.com`, ""},
		{"empty label", Normalizer{}, "john@example..com", ""},
		{"trailing dot", Normalizer{}, "john@example.com.", ""},
		{"underscore domain", Normalizer{}, "john@ex_ample.com", ""},
		{"hyphen label", Normalizer{}, "john@-example.com", ""},
		{"bad a-label", Normalizer{}, "john@xn--a.com", ""},
		{"a-label of ascii", Normalizer{}, "john@xn--abc-.com", ""},
		{"uppercase in a-label decoding", Normalizer{}, "john@xn--Bcher-kva.example", "john@xn--bcher-kva.example"},
		{"ipv4 in ipv6 tag", Normalizer{}, "john@[IPv6:192.0.2.1]", ""},
		{"bad literal", Normalizer{}, "john@[300.1.1.1]", ""},
		{"general literal", Normalizer{}, "john@[x400:abc]", ""},
		{"gmail only dots", Normalizer{}, `"..."@gmail.com`, ""},
		{"long", Normalizer{}, strings.Repeat("a", MaxAddressLen) + "@example.com", ""},
		{"long label", Normalizer{}, "a@" + strings.Repeat("a", 64) + ".com", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.n.Normalize(tc.in)
			if tc.exp == "" {
				if err == nil {
					t.Fatalf("Normalize(%q) = %q, expected error", tc.in, got)
				}
				if !errors.Is(err, ErrAddress) {
					t.Fatalf("error %v does not wrap ErrAddress", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tc.in, err)
			}
			if got != tc.exp {
				t.Fatalf("Normalize(%q) = %q, expected %q", tc.in, got, tc.exp)
			}
			again, err := tc.n.Normalize(got)
			if err != nil || again != got {
				t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
			}
		})
	}
}

func TestNormalizeKeepsPeopleApart(t *testing.T) {
	var n Normalizer
	a, err := n.Normalize("john-doe@example.com")
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.Normalize("john-smith@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("john-doe and john-smith merged into %q", a)
	}
	c, err := n.Normalize("johndoe@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Fatalf("john-doe and johndoe merged into %q", a)
	}
}

func TestPunycode(t *testing.T) {
	// RFC 3492 section 7.1 samples and well-known labels.
	tests := []struct{ unicode, puny string }{
		{"bücher", "bcher-kva"},
		{"münchen", "mnchen-3ya"},
		{"ü", "tda"},
		{"例子", "fsqu00a"},
		{"他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"},                                // RFC 3492 7.1 (B).
		{"3年b組金八先生", "3b-ww4c5e180e575a65lsy2b"},                                 // RFC 3492 7.1 (L).
		{"pročprostěnemluvíčesky", "proprostnemluvesky-uyb24dma41a"},             // RFC 3492 7.1 (C), lowercased.
		{"安室奈美恵-with-super-monkeys", "-with-super-monkeys-pc58ag80a8qai00g7n9n"}, // RFC 3492 7.1 (M).
	}
	// normalizeLabel encodes a U-label and accepts exactly its canonical
	// A-label (through golang.org/x/net/idna's Punycode profile).
	for _, tc := range tests {
		if got, err := normalizeLabel(tc.unicode); err != nil || got != "xn--"+tc.puny {
			t.Errorf("encode %q = %q, %v, expected %q", tc.unicode, got, err, "xn--"+tc.puny)
		}
		if got, err := normalizeLabel("xn--" + tc.puny); err != nil || got != "xn--"+tc.puny {
			t.Errorf("a-label %q = %q, %v", "xn--"+tc.puny, got, err)
		}
	}
	for _, bad := range []string{"99999999999", "zzzzzzzzzzzzzz", "abc-"} {
		if got, err := normalizeLabel("xn--" + bad); err == nil {
			t.Errorf("a-label %q = %q, expected error", "xn--"+bad, got)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"john@example.com", "J.O.H.N+x@Gmail.com", `"john doe"@example.com`, `"a\"b"@x.org`,
		"john@[IPv6:2001:db8::1]", "john@[192.0.2.1]", "用户@例子.测试", "info@xn--bcher-kva.example",
		"a@b@c", "", "@", `"`, "İ@example.com", "ǅ@x.com", "john@xn--", "+@gmail.com",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, address string, hyphen bool) {
		n := Normalizer{}
		if hyphen {
			n.Separators = []string{"+", "-"}
		}
		base, err := n.Normalize(address)
		if err != nil {
			if !errors.Is(err, ErrAddress) {
				t.Fatalf("error %v does not wrap ErrAddress", err)
			}
			return
		}
		again, err := n.Normalize(base)
		if err != nil {
			t.Fatalf("normalizing base %q of %q: %v", base, address, err)
		}
		if again != base {
			t.Fatalf("not idempotent: %q -> %q -> %q", address, base, again)
		}
	})
}
