package report

import (
	"strings"
)

// parseDeliveryStatus reads the per-recipient field groups of a
// message/delivery-status part (RFC 3464 section 2). It is lenient: groups are
// separated by blank lines, lines that are not fields are skipped, and
// folded lines are unfolded. It also works on DSN fields pasted into a text
// body. Groups without a recipient field (such as the per-message fields) are
// ignored.
func parseDeliveryStatus(b []byte) []textRecipient {
	s := string(b)
	if !strings.Contains(strings.ToLower(s), "recipient:") {
		return nil
	}
	var rcpts []textRecipient
	for _, group := range fieldGroups(s) {
		if len(rcpts) > MaxRecipients {
			break
		}
		r, ok := recipientFromFields(group)
		if ok {
			rcpts = append(rcpts, r)
		}
	}
	return rcpts
}

// field is one "Name: value" line, unfolded.
type field struct {
	name  string // Lower case.
	value string
}

// fieldGroups splits s into groups of fields at blank lines.
func fieldGroups(s string) [][]field {
	var groups [][]field
	var cur []field
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				groups = append(groups, cur)
				cur = nil
			}
			continue
		}
		// RFC 5322 folding: a continuation line starts with white space.
		if (line[0] == ' ' || line[0] == '\t') && len(cur) > 0 {
			cur[len(cur)-1].value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		cur = append(cur, field{strings.ToLower(name), strings.TrimSpace(value)})
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

// recipientFromFields builds a Recipient from a per-recipient field group
// (RFC 3464 section 2.3).
func recipientFromFields(group []field) (textRecipient, bool) {
	var r textRecipient
	var final, orig string
	var diagType, diag, statusComment string
	for _, f := range group {
		switch f.name {
		case "final-recipient": // RFC 3464 section 2.3.2
			final = typedValue(f.value)
		case "original-recipient": // RFC 3464 section 2.3.1
			orig = typedValue(f.value)
		case "action": // RFC 3464 section 2.3.3
			r.Action = strings.ToLower(strings.TrimSpace(f.value))
			if i := strings.IndexAny(r.Action, " \t("); i >= 0 {
				r.Action = r.Action[:i]
			}
		case "status": // RFC 3464 section 2.3.4
			if st := findStatus(f.value); st != "" {
				r.Status = st
			}
			// Some software explains the code: "5.4.4 (Illegal host/domain name found)".
			if i, j := strings.IndexByte(f.value, '('), strings.LastIndexByte(f.value, ')'); i >= 0 && j > i {
				statusComment = strings.TrimSpace(f.value[i+1 : j])
			}
		case "diagnostic-code": // RFC 3464 section 2.3.6
			t, v, ok := strings.Cut(f.value, ";")
			if ok && !strings.ContainsAny(strings.TrimSpace(t), " \t") {
				diagType, diag = strings.ToLower(strings.TrimSpace(t)), strings.TrimSpace(v)
			} else {
				diag = f.value
			}
		}
	}
	r.Address = final
	if r.Address == "" {
		r.Address = orig
	}
	r.OriginalRecipient = orig
	if r.Address == "" {
		return r, false
	}
	r.Diagnostic = dropRepeatedCodes(strings.Join(strings.Fields(diag), " "))
	if r.Diagnostic == "" && !genericStatusComment(statusComment) {
		r.Diagnostic = statusComment
	}
	if r.Diagnostic != "" {
		code, status := codes(r.Diagnostic)
		if diagType == "smtp" || diagType == "" || code != 0 {
			r.Code = code
		}
		if r.Status == "" {
			r.Status = status
		}
	}
	return r, true
}

// typedValue strips the address type of a recipient field, "rfc822;x@y",
// and angle brackets.
func typedValue(v string) string {
	if t, a, ok := strings.Cut(v, ";"); ok && !strings.Contains(t, "@") {
		v = a
	}
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "<")
	v = strings.TrimSuffix(v, ">")
	return strings.TrimSpace(v)
}

// genericStatusComment reports whether a Status comment only repeats the
// class, as in "5.0.0 (permanent failure)", and says nothing a classifier
// could use.
func genericStatusComment(s string) bool {
	switch strings.ToLower(s) {
	case "", "permanent failure", "unknown permanent failure", "temporary failure", "persistent transient failure", "unknown transient failure", "success", "delayed":
		return true
	}
	return false
}

// dropRepeatedCodes removes the code prefixes of the continuation lines of a
// multi-line reply that a DSN's Diagnostic-Code carries folded into one line,
// as in "550-5.7.1 Messages with multiple 550-5.7.1 addresses in From:". The
// first code stays.
func dropRepeatedCodes(s string) string {
	if len(s) < 4 || !isDigits(s[:3]) || s[3] != '-' && s[3] != ' ' {
		return s
	}
	code := s[:3]
	w := strings.Fields(s[4:])
	status := ""
	if len(w) > 0 && findStatus(w[0]) == w[0] {
		status = w[0]
	}
	out := []string{s[:3]}
	if s[3] == '-' {
		out[0] += "-"
	}
	for i := 0; i < len(w); i++ {
		if i > 0 {
			switch {
			case w[i] == code+"-"+status, status == "" && w[i] == code+"-":
				continue
			case w[i] == code && status != "" && i+1 < len(w) && w[i+1] == status:
				i++
				continue
			}
		}
		out = append(out, w[i])
	}
	if s[3] == '-' && len(out) > 1 {
		return out[0] + strings.Join(out[1:], " ")
	}
	return strings.Join(out, " ")
}
