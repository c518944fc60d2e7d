package report

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// errCharset is returned to mime.WordDecoder for a charset x/text does not
// know, so the header keeps its raw value.
var errCharset = errors.New("report: unknown charset")

// charsetEncoding finds the encoding named by a MIME charset parameter (RFC
// 2046 section 4.1.2, names from the IANA charset registry). It returns nil
// for UTF-8 and US-ASCII, which need no decoding, and for charsets x/text does
// not know, whose bytes are kept as they are.
func charsetEncoding(charset string) encoding.Encoding {
	name := strings.ToLower(strings.Trim(strings.TrimSpace(charset), `"'`))
	switch name {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "us_ascii", "ansi_x3.4-1968":
		return nil
	case "iso-2022-jp-1", "iso-2022-jp-2", "iso-2022-jp-3":
		// Japanese mail in these names is in practice the JIS X 0208 subset
		// that the ISO-2022-JP decoder reads (RFC 1468, RFC 1554).
		return japanese.ISO2022JP
	}
	// The WHATWG index knows the labels mail software writes (sjis,
	// x-euc-jp, ks_c_5601-1987, gb2312 as GBK, ...); the IANA index the
	// remaining registered names.
	if e, err := htmlindex.Get(name); err == nil && e != nil {
		return utf8Nil(e)
	}
	if e, err := ianaindex.MIME.Encoding(name); err == nil && e != nil {
		return utf8Nil(e)
	}
	return nil
}

// utf8Nil returns nil for an encoding that is UTF-8 under another label,
// and for WHATWG's replacement encoding, which the index gives for
// ISO-2022-KR, ISO-2022-CN and HZ-GB-2312 and which would turn the whole
// part into one U+FFFD: their raw bytes are more use to the text rules.
func utf8Nil(e encoding.Encoding) encoding.Encoding {
	if e == encoding.Nop || e == encoding.Replacement {
		return nil
	}
	if n, err := htmlindex.Name(e); err == nil && n == "utf-8" {
		return nil
	}
	return e
}

// decodeCharset returns a reader of r's text as UTF-8, decoding from
// charset. The transformer works through fixed buffers, so the caller's limit
// on what it reads bounds the memory whatever the input's size; invalid byte
// sequences become U+FFFD instead of failing the read.
func decodeCharset(charset string, r io.Reader) io.Reader {
	e := charsetEncoding(charset)
	if e == nil {
		return r
	}
	return transform.NewReader(r, e.NewDecoder())
}

// wordCharsetReader is mime.WordDecoder's CharsetReader: it decodes RFC 2047
// encoded words in any charset x/text knows, and refuses the others so the
// header keeps its raw value.
func wordCharsetReader(charset string, r io.Reader) (io.Reader, error) {
	e := charsetEncoding(charset)
	if e == nil {
		name := strings.ToLower(strings.TrimSpace(charset))
		if name == "utf-8" || name == "us-ascii" || name == "utf8" || name == "ascii" {
			return r, nil
		}
		return nil, fmt.Errorf("%w %q", errCharset, charset)
	}
	// An encoded word is no longer than its header field, which net/mail
	// already holds; the limit keeps the output within the text cap too.
	return io.LimitReader(transform.NewReader(r, e.NewDecoder()), maxTextLen), nil
}

// decodeHeader decodes RFC 2047 encoded words, keeping the raw value if they
// cannot be decoded.
func decodeHeader(s string) string {
	d, err := (&mime.WordDecoder{CharsetReader: wordCharsetReader}).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// unlabeledISO2022JP decodes s from ISO-2022-JP when it holds the escape
// sequences that switch to JIS X 0208 (RFC 1468 section 3) and is otherwise
// 7-bit, as ISO-2022-JP text is. Japanese MTAs put such text, unlabeled,
// into delivery-status fields (RFC 3464 section 2.3.6 Diagnostic-Code) and
// into text parts without a charset; the escapes make the charset
// unambiguous. Other text is returned as it is.
func unlabeledISO2022JP(s string) string {
	if !strings.Contains(s, "\x1b$B") && !strings.Contains(s, "\x1b$@") {
		return s
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return s
		}
	}
	d, _, err := transform.String(japanese.ISO2022JP.NewDecoder(), s)
	if err != nil {
		return s
	}
	return d
}
