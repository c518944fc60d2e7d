package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
}

// table writes aligned rows. Cells must not contain tabs or newlines;
// cell() takes care of that.
type table struct {
	tw   *tabwriter.Writer
	rows int
}

func (c *cli) table(header ...string) *table {
	t := &table{tw: newTabWriter(c.stdout)}
	fmt.Fprintln(t.tw, strings.Join(header, "\t"))
	return t
}

func (t *table) row(cells ...string) {
	for i, s := range cells {
		cells[i] = cell(s)
	}
	t.rows++
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error {
	return t.tw.Flush()
}

// cell makes s fit one table cell: one line, no tabs, "-" when empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return ' '
		}
		return r
	}, s)
}

// truncate shortens s to n runes, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// writeJSON prints v as indented JSON.
func (c *cli) writeJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// pageJSON is the JSON form of a paginated listing.
type pageJSON[T any] struct {
	Items []T
	Next  int64 // Pass as -cursor for the next page; 0 after the last.
}

// note prints a remark for people on standard error.
func (c *cli) note(format string, args ...any) {
	fmt.Fprintf(c.stderr, format+"\n", args...)
}

// fmtTime shows t in c.loc to the second; "-" when zero.
func (c *cli) fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(c.loc).Format("2006-01-02 15:04:05")
}

// fmtWhen is fmtTime with the distance from now, e.g. "(in 7m30s)".
func (c *cli) fmtWhen(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	// Truncated like the time shown, so the two agree.
	d := t.Truncate(time.Second).Sub(c.now().Truncate(time.Second))
	switch {
	case d > 0:
		return fmt.Sprintf("%s (in %s)", c.fmtTime(t), d)
	case d < 0:
		return fmt.Sprintf("%s (%s ago)", c.fmtTime(t), -d)
	}
	return c.fmtTime(t) + " (now)"
}

func fmtInt(v int64) string {
	return fmt.Sprint(v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// fields prints name/value pairs, aligned, for show commands.
func (c *cli) fields(pairs ...string) {
	tw := newTabWriter(c.stdout)
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(tw, "%s:\t%s\n", pairs[i], cell(pairs[i+1]))
	}
	tw.Flush()
}

// fmtMap formats host data such as Msg.Extra as "k=v, k=v", keys sorted.
func fmtMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%s", k, m[k])
	}
	return b.String()
}
