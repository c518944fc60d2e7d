package dsn

import (
	"errors"
	"fmt"
	"strings"
)

// Notify is the value of the NOTIFY parameter of an SMTP RCPT TO command
// (RFC 3461 section 4.1): which DSNs the sender wants about a recipient. It
// is NotifyNever, or one or more of NotifySuccess, NotifyFailure and
// NotifyDelay separated by commas in that order ("FAILURE,DELAY"), or empty
// when the parameter was not given. ParseNotify and NewNotify make that form
// from other spellings, and Valid checks for it. A Notify is a string so
// that it is stored as is by bstore and encoding/json.
type Notify string

// The keywords of the NOTIFY parameter, RFC 3461 section 4.1. Each one alone
// is also a valid Notify.
const (
	NotifyNever   Notify = "NEVER"   // No DSN, whatever happens; never combined with the others.
	NotifySuccess Notify = "SUCCESS" // A DSN on successful delivery.
	NotifyFailure Notify = "FAILURE" // A DSN on failure.
	NotifyDelay   Notify = "DELAY"   // A DSN when delivery is delayed.
)

// ErrNotify is wrapped by the errors of ParseNotify and NewNotify.
var ErrNotify = errors.New("dsn: invalid notify")

// notifyWords are the keywords of a set, in canonical order: bit i of a
// set stands for notifyWords[i].
var notifyWords = [...]Notify{NotifySuccess, NotifyFailure, NotifyDelay}

// notifySets is the canonical form of each set of keywords, by bit mask.
var notifySets = [1 << len(notifyWords)]Notify{
	"", "SUCCESS", "FAILURE", "SUCCESS,FAILURE",
	"DELAY", "SUCCESS,DELAY", "FAILURE,DELAY", "SUCCESS,FAILURE,DELAY",
}

// ParseNotify returns the Notify of the NOTIFY parameter value s, in
// canonical form. Keywords are matched without regard to case, white space
// around them is ignored, and a keyword given twice counts once. Empty s
// gives the empty Notify: the parameter was not given. An unknown keyword,
// an empty item or NEVER combined with another keyword (the grammar of RFC
// 3461 section 4.1 allows NEVER only alone) returns an error wrapping
// ErrNotify.
func ParseNotify(s string) (Notify, error) {
	if s == "" {
		return "", nil
	}
	var set int
	var never bool
	for rest, more := s, true; more; {
		var w string
		w, rest, more = strings.Cut(rest, ",")
		w = strings.Trim(w, " \t")
		switch {
		case w == "":
			return "", fmt.Errorf("%w %q: empty keyword", ErrNotify, s)
		case strings.EqualFold(w, string(NotifyNever)):
			never = true
		default:
			i := notifyIndex(w)
			if i < 0 {
				return "", fmt.Errorf("%w %q: unknown keyword %q", ErrNotify, s, w)
			}
			set |= 1 << i
		}
	}
	switch {
	case never && set != 0:
		return "", fmt.Errorf("%w %q: NEVER combined with other keywords", ErrNotify, s)
	case never:
		return NotifyNever, nil
	}
	return notifySets[set], nil
}

// NewNotify returns the Notify asking for the given kinds, in canonical
// form: NotifyNever alone, or any of NotifySuccess, NotifyFailure and
// NotifyDelay. No kinds, or a kind that is none of these constants, returns
// an error wrapping ErrNotify: use NotifyNever for no DSN, and the empty
// Notify for the server's default.
func NewNotify(kinds ...Notify) (Notify, error) {
	if len(kinds) == 0 {
		return "", fmt.Errorf("%w: no kinds", ErrNotify)
	}
	var set int
	for _, k := range kinds {
		switch i := notifyKind(k); {
		case k == NotifyNever && len(kinds) > 1:
			return "", fmt.Errorf("%w: NEVER combined with other kinds", ErrNotify)
		case k == NotifyNever:
			return NotifyNever, nil
		case i < 0:
			return "", fmt.Errorf("%w: %q is not a kind", ErrNotify, k)
		default:
			set |= 1 << i
		}
	}
	return notifySets[set], nil
}

// notifyIndex returns the index of keyword w in notifyWords, in any case,
// or -1.
func notifyIndex(w string) int {
	for i, k := range notifyWords {
		if strings.EqualFold(w, string(k)) {
			return i
		}
	}
	return -1
}

// notifyKind returns the index of kind in notifyWords, spelled exactly as
// the constant, or -1.
func notifyKind(kind Notify) int {
	for i, k := range notifyWords {
		if kind == k {
			return i
		}
	}
	return -1
}

// Valid reports whether n is empty or in the canonical form ParseNotify
// returns.
func (n Notify) Valid() bool {
	if n == NotifyNever {
		return true
	}
	for _, c := range notifySets {
		if n == c {
			return true
		}
	}
	return false
}

// Has reports whether n asks for a DSN of kind, which is NotifySuccess,
// NotifyFailure or NotifyDelay; any other kind, NotifyNever included, gives
// false. The empty Notify, a parameter not given, has NotifyFailure and
// NotifyDelay: RFC 3461 section 4.1 lets the server choose between FAILURE
// and FAILURE,DELAY then, and mox and Postfix send both.
//
// Has reads a Notify that is not in canonical form keyword by keyword,
// without regard to case and without rejecting it, so a value stored
// without checking still gives the DSNs it names.
func (n Notify) Has(kind Notify) bool {
	if notifyKind(kind) < 0 {
		return false
	}
	if n == "" {
		return kind != NotifySuccess
	}
	for rest, more := string(n), true; more; {
		var w string
		w, rest, more = strings.Cut(rest, ",")
		if strings.EqualFold(strings.Trim(w, " \t"), string(kind)) {
			return true
		}
	}
	return false
}

// ErrRet is wrapped by the errors of ParseRet.
var ErrRet = errors.New("dsn: invalid ret")

// ParseRet returns the Ret of the RET parameter value s of an SMTP MAIL FROM
// command (RFC 3461 section 4.3), FULL or HDRS in any case, or RetDefault
// for empty s (the parameter was not given). Anything else returns an error
// wrapping ErrRet.
func ParseRet(s string) (Ret, error) {
	switch {
	case s == "":
		return RetDefault, nil
	case strings.EqualFold(s, string(RetFull)):
		return RetFull, nil
	case strings.EqualFold(s, string(RetHeaders)):
		return RetHeaders, nil
	}
	return "", fmt.Errorf("%w %q: want FULL or HDRS", ErrRet, s)
}

// Valid reports whether r is RetDefault, RetFull or RetHeaders.
func (r Ret) Valid() bool {
	switch r {
	case RetDefault, RetFull, RetHeaders:
		return true
	}
	return false
}
