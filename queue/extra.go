package queue

import (
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultExtraPrefix is the header field name prefix that carries Msg.Extra
// at SMTP submission, as in mox: "X-Mox-Extra-<Key>: <value>".
const DefaultExtraPrefix = "X-Mox-Extra-"

// Defaults for zero ExtraHeaders limits. mox sets no limits; these leave
// room for any identifiers an application attaches while keeping one
// message's Extra, copied into every webhook about it, small.
const (
	DefaultExtraMaxKeys     = 64   // Fields per message.
	DefaultExtraMaxKeyLen   = 128  // Bytes of a key, after the prefix.
	DefaultExtraMaxValueLen = 4096 // Bytes of a value, unfolded.
)

// Errors of ExtraHeaders.Extract, for errors.Is. Each means the message
// is refused as it is: nothing was extracted or removed.
var (
	ErrExtraPrefix    = errors.New("queue: invalid extra header prefix")
	ErrExtraKey       = errors.New("queue: invalid extra header key")
	ErrExtraValue     = errors.New("queue: invalid extra header value")
	ErrExtraDuplicate = errors.New("queue: duplicate extra header key")
	ErrExtraTooMany   = errors.New("queue: too many extra headers")
)

// ExtraHeaders reads Msg.Extra from a submitted message's header fields
// and removes those fields, so the application's data reaches its webhooks
// but not the recipient. A host calls Extract at SMTP submission, before
// signing the message and queueing it. The zero value reads mox's
// "X-Mox-Extra-" fields with the default limits.
//
// Keys and values follow mox: the field name after the prefix is the key,
// canonicalized as net/textproto does a field name (each dash-separated word
// starts with a capital, "x-cANONICAL-z" gives "X-Canonical-Z"; a key with
// bytes outside the RFC 7230 token set, such as UTF-8, is kept as it is); the
// value is unfolded (RFC 5322 section 2.2.3), each line's surrounding white
// space becoming one space, as net/textproto reads it, and is not RFC 2047
// decoded, as mox does not decode it: an application that needs non-ASCII
// values sends them as UTF-8 (RFC 6532). A key given twice is an error, as
// in mox. Unlike mox, keys and values are checked: no control characters,
// valid UTF-8, within the limits, and the fields are removed.
type ExtraHeaders struct {
	// Prefix is the start of the field names that carry Extra, matched
	// without regard to ASCII case (RFC 5322 section 1.2.2). Empty:
	// DefaultExtraPrefix. It must be printable ASCII without colon.
	Prefix string

	// MaxKeys is how many fields a message may carry. Zero:
	// DefaultExtraMaxKeys; negative: no limit (as mox).
	MaxKeys int

	// MaxKeyLen is the longest key in bytes. Zero: DefaultExtraMaxKeyLen;
	// negative: no limit.
	MaxKeyLen int

	// MaxValueLen is the longest unfolded value in bytes. Zero:
	// DefaultExtraMaxValueLen; negative: no limit.
	MaxValueLen int
}

// ExtraFromHeader is ExtraHeaders{}.Extract: mox's prefix and the default
// limits.
func ExtraFromHeader(msg []byte) (extra map[string]string, stripped []byte, err error) {
	return ExtraHeaders{}.Extract(msg)
}

// Extract returns the Extra data in msg's header and the message without
// the fields that carried it. Every other byte of msg is kept as it was:
// the other fields with their folding, the line endings (CRLF or LF) and
// the body, where the prefix is never looked for. Each removed field goes
// with its continuation lines and line ending. extra is nil and stripped
// is msg itself when there is no such field. msg is not modified.
//
// For a key or value that breaks the rules or limits (see ExtraHeaders) it
// returns an error wrapping ErrExtraKey, ErrExtraValue, ErrExtraDuplicate,
// ErrExtraTooMany or, for a bad Prefix, ErrExtraPrefix, and no data: a
// host refuses the submission (mox answers 554 5.6.0).
func (e ExtraHeaders) Extract(msg []byte) (extra map[string]string, stripped []byte, err error) {
	prefix := e.Prefix
	if prefix == "" {
		prefix = DefaultExtraPrefix
	}
	for _, c := range []byte(prefix) {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return nil, nil, fmt.Errorf("%w: %q", ErrExtraPrefix, prefix)
		}
	}
	maxKeys := limitOr(e.MaxKeys, DefaultExtraMaxKeys)
	maxKeyLen := limitOr(e.MaxKeyLen, DefaultExtraMaxKeyLen)
	maxValueLen := limitOr(e.MaxValueLen, DefaultExtraMaxValueLen)

	var drop [][2]int // Byte ranges of the fields to remove.
	for f := range headerFields(msg) {
		name, value, ok := bytes.Cut(msg[f[0]:f[1]], []byte(":"))
		if !ok {
			continue // Not a field; not ours to judge.
		}
		// RFC 5322 section 4.5.8 obsolete syntax allows white space before
		// the colon.
		name = bytes.TrimRight(name, " \t")
		if len(name) < len(prefix) || !equalFoldASCII(name[:len(prefix)], prefix) {
			continue
		}
		key, err := extraKey(string(name[len(prefix):]), maxKeyLen)
		if err != nil {
			return nil, nil, err
		}
		v, err := extraValue(key, value, maxValueLen)
		if err != nil {
			return nil, nil, err
		}
		if _, dup := extra[key]; dup {
			return nil, nil, fmt.Errorf("%w: %q", ErrExtraDuplicate, key)
		}
		if maxKeys >= 0 && len(extra) >= maxKeys {
			return nil, nil, fmt.Errorf("%w: more than %d", ErrExtraTooMany, maxKeys)
		}
		if extra == nil {
			extra = map[string]string{}
		}
		extra[key] = v
		drop = append(drop, f)
	}
	if len(drop) == 0 {
		return nil, msg, nil
	}
	n := len(msg)
	for _, f := range drop {
		n -= f[1] - f[0]
	}
	stripped = make([]byte, 0, n)
	last := 0
	for _, f := range drop {
		stripped = append(stripped, msg[last:f[0]]...)
		last = f[1]
	}
	stripped = append(stripped, msg[last:]...)
	return extra, stripped, nil
}

// equalFoldASCII compares without regard to ASCII case only: RFC 5322
// field names are ASCII, and Unicode folding would match the Kelvin sign
// to a "k".
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lowerASCII(b[i]) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func limitOr(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return -1
	}
	return v
}

// extraKey checks and canonicalizes the key part of a field name.
func extraKey(s string, maxLen int) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrExtraKey)
	}
	if maxLen >= 0 && len(s) > maxLen {
		return "", fmt.Errorf("%w: %d bytes, more than %d", ErrExtraKey, len(s), maxLen)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: %q is not valid utf-8", ErrExtraKey, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == ':' {
			return "", fmt.Errorf("%w: %q has character %U", ErrExtraKey, s, r)
		}
	}
	return textproto.CanonicalMIMEHeaderKey(s), nil
}

// extraValue unfolds and checks a field value (the bytes after the colon,
// with line endings and continuation lines).
func extraValue(key string, raw []byte, maxLen int) (string, error) {
	var b strings.Builder
	for len(raw) > 0 {
		line, rest, _ := bytes.Cut(raw, []byte("\n"))
		raw = rest
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		line = bytes.Trim(line, " \t")
		if len(line) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.Write(line)
		if maxLen >= 0 && b.Len() > maxLen {
			return "", fmt.Errorf("%w: key %q: more than %d bytes", ErrExtraValue, key, maxLen)
		}
	}
	v := b.String()
	if !utf8.ValidString(v) {
		return "", fmt.Errorf("%w: key %q: not valid utf-8", ErrExtraValue, key)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("%w: key %q: control character %U", ErrExtraValue, key, r)
		}
	}
	return v, nil
}

// headerFields yields the byte range of each header field of msg: its
// first line and its continuation lines (RFC 5322 section 2.2.3), with
// their line endings. The header ends at the first empty line (CRLF or LF
// alone) or at the end of msg. A line that starts with white space before
// any field is yielded on its own.
func headerFields(msg []byte) func(yield func([2]int) bool) {
	return func(yield func([2]int) bool) {
		start := -1 // Start of the field being read.
		off := 0
		for off < len(msg) {
			end := len(msg)
			if i := bytes.IndexByte(msg[off:], '\n'); i >= 0 {
				end = off + i + 1
			}
			line := msg[off:end]
			if bytes.Equal(line, []byte("\n")) || bytes.Equal(line, []byte("\r\n")) {
				break
			}
			if (line[0] == ' ' || line[0] == '\t') && start >= 0 {
				off = end
				continue
			}
			if start >= 0 && !yield([2]int{start, off}) {
				return
			}
			start = off
			off = end
		}
		if start >= 0 {
			yield([2]int{start, off})
		}
	}
}
