package suppression

import (
	"golang.org/x/net/idna"

	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrAddress is returned, wrapped, for an address that cannot be normalized.
var ErrAddress = errors.New("suppression: malformed address")

// MaxAddressLen is the longest address, in bytes, accepted and produced by
// Normalize. RFC 5321 section 4.5.3.1.3 allows 256 octets for a path; real
// systems send longer ones, so there is room, but not without bound.
const MaxAddressLen = 1000

// DefaultSeparators are the catchall separators of the zero Normalizer.
func DefaultSeparators() []string { return []string{"+"} }

// DefaultDotlessDomains are the domains whose localparts ignore dots with
// the zero Normalizer.
func DefaultDotlessDomains() []string { return []string{"gmail.com", "googlemail.com"} }

// Normalizer maps an address to its base address, the key of a suppression
// entry. The zero Normalizer is the default: see Normalize.
type Normalizer struct {
	// Separators are catchall separators: the localpart is cut at the
	// first occurrence of any of them (not at its first character), so
	// "john+news@" becomes "john@". Nil means DefaultSeparators ("+"); an
	// empty non-nil slice never cuts. Adding "-" merges john-doe@ and
	// john-smith@; do that only for domains you know.
	Separators []string

	// DotlessDomains are domains, lowercase in ASCII (A-label) form, whose
	// mailboxes ignore dots in the localpart. Nil means
	// DefaultDotlessDomains (gmail.com, googlemail.com); an empty non-nil
	// slice removes dots nowhere.
	DotlessDomains []string
}

// Normalize returns the base address of address, in the form
// localpart@domain:
//
//   - The domain is lowercased and IDNA-encoded to its A-label form
//     (RFC 5890), "[192.0.2.1]" and "[IPv6:2001:db8::1]" literals (RFC 5321
//     section 4.1.3) are written in canonical form.
//   - The localpart, a dot-atom or a quoted string (RFC 5321 section 4.1.2),
//     UTF-8 allowed (RFC 6531), is lowercased, cut at the first separator,
//     stripped of dots for dotless domains, and quoted only when it must be.
//
// Malformed addresses give an error wrapping ErrAddress. Normalize never
// panics, and normalizing a base address returns it unchanged.
func (n Normalizer) Normalize(address string) (string, error) {
	if len(address) > MaxAddressLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrAddress, MaxAddressLen)
	}
	if !utf8.ValidString(address) {
		return "", fmt.Errorf("%w: not valid utf-8", ErrAddress)
	}
	local, domain, err := splitAddress(address)
	if err != nil {
		return "", err
	}
	domain, err = normalizeDomain(domain)
	if err != nil {
		return "", err
	}

	local = strings.ToLower(local)
	seps := n.Separators
	if seps == nil {
		seps = DefaultSeparators()
	}
	cut := len(local)
	for _, sep := range seps {
		if i := strings.Index(local, sep); sep != "" && i > 0 && i < cut {
			cut = i
		}
	}
	local = local[:cut]
	dotless := n.DotlessDomains
	if dotless == nil {
		dotless = DefaultDotlessDomains()
	}
	if slices.Contains(dotless, domain) {
		local = strings.ReplaceAll(local, ".", "")
	}
	if local == "" {
		return "", fmt.Errorf("%w: empty localpart", ErrAddress)
	}

	base := formatLocalpart(local) + "@" + domain
	if len(base) > MaxAddressLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrAddress, MaxAddressLen)
	}
	return base, nil
}

// splitAddress returns the localpart, unquoted, and the domain of address.
func splitAddress(address string) (local, domain string, err error) {
	if strings.HasPrefix(address, `"`) {
		// RFC 5321 section 4.1.2: Quoted-string.
		var b strings.Builder
		for i := 1; i < len(address); {
			r, size := utf8.DecodeRuneInString(address[i:])
			switch {
			case r == '"':
				rest := address[i+1:]
				if !strings.HasPrefix(rest, "@") {
					return "", "", fmt.Errorf("%w: no @ after quoted localpart", ErrAddress)
				}
				return b.String(), rest[1:], nil
			case r == '\\':
				if i+1 >= len(address) {
					return "", "", fmt.Errorf("%w: unterminated quoted localpart", ErrAddress)
				}
				r, size = utf8.DecodeRuneInString(address[i+1:])
				if !isQuotedRune(r) && r != '"' && r != '\\' {
					return "", "", fmt.Errorf("%w: bad quoted-pair", ErrAddress)
				}
				b.WriteRune(r)
				i += 1 + size
				continue
			case !isQuotedRune(r):
				return "", "", fmt.Errorf("%w: bad character %q in quoted localpart", ErrAddress, r)
			}
			b.WriteRune(r)
			i += size
		}
		return "", "", fmt.Errorf("%w: unterminated quoted localpart", ErrAddress)
	}

	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return "", "", fmt.Errorf("%w: no @", ErrAddress)
	}
	local, domain = address[:at], address[at+1:]
	if local == "" {
		return "", "", fmt.Errorf("%w: empty localpart", ErrAddress)
	}
	for _, r := range local {
		if !isAtomRune(r) {
			return "", "", fmt.Errorf("%w: bad character %q in localpart", ErrAddress, r)
		}
	}
	return local, domain, nil
}

// isAtomRune reports whether r may appear in an unquoted localpart: RFC 5322
// atext, a dot (leniently anywhere, as real systems use them), or non-ASCII
// UTF-8 (RFC 6531) that is not a space or control character.
func isAtomRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r < 0x80:
		return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
	}
	return r != utf8.RuneError && !unicode.IsSpace(r) && !unicode.IsControl(r) && unicode.IsGraphic(r)
}

// isQuotedRune reports whether r may appear unescaped in a quoted string:
// RFC 5321 qtextSMTP, the space, and non-ASCII UTF-8 (RFC 6531).
func isQuotedRune(r rune) bool {
	if r < 0x80 {
		return r >= ' ' && r <= '~' && r != '"' && r != '\\'
	}
	return r != utf8.RuneError && !unicode.IsControl(r) && unicode.IsGraphic(r)
}

// formatLocalpart writes an unquoted localpart as a dot-atom when possible,
// as a quoted string otherwise (RFC 5321 section 4.1.2).
func formatLocalpart(local string) string {
	atom := true
	for _, r := range local {
		if !isAtomRune(r) {
			atom = false
			break
		}
	}
	if atom {
		return local
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range local {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// normalizeDomain returns the lowercase A-label form of a domain, or the
// canonical form of an address literal.
func normalizeDomain(domain string) (string, error) {
	if domain == "" {
		return "", fmt.Errorf("%w: empty domain", ErrAddress)
	}
	if strings.HasPrefix(domain, "[") {
		return normalizeLiteral(domain)
	}
	// UTS #46 mapping (case folding, full-width forms, ideographic full
	// stops), NFC and IDNA 2008 validation, then our own LDH checks below.
	// ASCII domains skip it: their A-labels are checked strictly below,
	// where the lookup profile would quietly decode non-canonical ones.
	if !isASCII(domain) {
		mapped, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			return "", fmt.Errorf("%w: domain %q: %w", ErrAddress, domain, err)
		}
		domain = mapped
	}
	labels := strings.Split(domain, ".")
	for i, label := range labels {
		l, err := normalizeLabel(label)
		if err != nil {
			return "", err
		}
		labels[i] = l
	}
	domain = strings.Join(labels, ".")
	// RFC 1035 section 2.3.4, less the root label's length byte and dot.
	if len(domain) > 253 {
		return "", fmt.Errorf("%w: domain longer than 253 bytes", ErrAddress)
	}
	return domain, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// normalizeLabel returns the lowercase A-label of one domain label (RFC 5890
// section 2.3.2.1), checking LDH syntax (RFC 5891 section 4.2.3.1).
func normalizeLabel(label string) (string, error) {
	if label == "" {
		return "", fmt.Errorf("%w: empty domain label", ErrAddress)
	}
	ascii := true
	for i := 0; i < len(label); i++ {
		if label[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		u, err := checkULabel(strings.ToLower(label))
		if err != nil {
			return "", err
		}
		if label, err = idna.Punycode.ToASCII(u); err != nil {
			return "", fmt.Errorf("%w: domain label %q: %w", ErrAddress, u, err)
		}
	} else {
		label = strings.ToLower(label)
		if strings.HasPrefix(label, "xn--") {
			u, err := idna.Punycode.ToUnicode(label)
			if err != nil {
				return "", fmt.Errorf("%w: domain label %q: %w", ErrAddress, label, err)
			}
			// Only the canonical encoding of a valid U-label is accepted, so
			// that one name has one base form: it must encode back to label.
			if v, err := checkULabel(u); err != nil || v != u {
				return "", fmt.Errorf("%w: domain label %q is not a valid a-label", ErrAddress, label)
			}
			if a, err := idna.Punycode.ToASCII(u); err != nil || a != label {
				return "", fmt.Errorf("%w: domain label %q is not the canonical a-label of %q", ErrAddress, label, u)
			}
		}
	}
	if len(label) > 63 {
		return "", fmt.Errorf("%w: domain label longer than 63 bytes", ErrAddress)
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return "", fmt.Errorf("%w: domain label %q starts or ends with a hyphen", ErrAddress, label)
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "", fmt.Errorf("%w: bad character %q in domain", ErrAddress, c)
		}
	}
	return label, nil
}

// checkULabel checks a lowercased U-label: non-ASCII, letters, marks, digits
// and hyphens only, already lowercase (so that lowercasing is idempotent).
// NFC and the UTS #46 mapping were applied before, by normalizeDomain.
func checkULabel(u string) (string, error) {
	nonASCII := false
	for _, r := range u {
		switch {
		case r >= 0x80:
			nonASCII = true
			if !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) {
				return "", fmt.Errorf("%w: bad character %q in domain", ErrAddress, r)
			}
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
		default:
			return "", fmt.Errorf("%w: bad character %q in domain", ErrAddress, r)
		}
	}
	if !nonASCII {
		return "", fmt.Errorf("%w: a-label %q decodes to ascii", ErrAddress, u)
	}
	if strings.ToLower(u) != u {
		return "", fmt.Errorf("%w: domain label %q does not lowercase stably", ErrAddress, u)
	}
	if strings.HasPrefix(u, "-") || strings.HasSuffix(u, "-") || len(u) >= 4 && u[2:4] == "--" {
		// RFC 5891 section 4.2.3.1: hyphen restrictions.
		return "", fmt.Errorf("%w: domain label %q has bad hyphens", ErrAddress, u)
	}
	return u, nil
}

// normalizeLiteral returns the canonical form of an address literal, RFC
// 5321 section 4.1.3.
func normalizeLiteral(lit string) (string, error) {
	if !strings.HasSuffix(lit, "]") || len(lit) < 3 {
		return "", fmt.Errorf("%w: unterminated address literal", ErrAddress)
	}
	inner := lit[1 : len(lit)-1]
	if len(inner) >= 5 && strings.EqualFold(inner[:5], "ipv6:") {
		ip, err := netip.ParseAddr(inner[5:])
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return "", fmt.Errorf("%w: bad ipv6 address literal", ErrAddress)
		}
		return "[IPv6:" + ip.String() + "]", nil
	}
	ip, err := netip.ParseAddr(inner)
	if err != nil || !ip.Is4() {
		return "", fmt.Errorf("%w: bad address literal", ErrAddress)
	}
	return "[" + ip.String() + "]", nil
}
