package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/paging"
)

// timeFlag is a flag.Value for a point in time; see parseTime.
type timeFlag struct {
	c *cli
	t *time.Time
}

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f timeFlag) Set(s string) error {
	t, err := f.c.parseTime(s)
	if err != nil {
		return err
	}
	*f.t = t
	return nil
}

// Layouts for times without a zone, in cli.loc.
var localLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// parseTime parses RFC 3339, a date (and time) in c.loc, "now", or a
// duration relative to now: "-2h", "+30m", "90m".
func (c *cli) parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return c.now(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, c.loc); err == nil {
			return t, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return c.now().Add(d), nil
	}
	return time.Time{}, fmt.Errorf("not a time: %q (RFC 3339, 2006-01-02 [15:04], now, or a duration like -2h)", s)
}

// idList is a flag.Value collecting IDs: comma-separated, repeatable.
type idList []int64

func (l *idList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, id := range *l {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

func (l *idList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		id, err := parseID(f)
		if err != nil {
			return err
		}
		*l = append(*l, id)
	}
	return nil
}

// parseID parses a positive ID.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("not an ID: %q", s)
	}
	return id, nil
}

// parseIDArgs parses positional ID arguments; at least one is required.
func parseIDArgs(name string, args []string) ([]int64, error) {
	if len(args) == 0 {
		return nil, usageErrorf("%s: missing ID", name)
	}
	ids := make([]int64, len(args))
	for i, a := range args {
		id, err := parseID(a)
		if err != nil {
			return nil, usageErrorf("%s: %v", name, err)
		}
		ids[i] = id
	}
	return ids, nil
}

// splitList splits a comma-separated flag value; empty gives nil.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var l []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			l = append(l, f)
		}
	}
	return l
}

// listFlags registers -limit and -cursor, and -newest or -oldest (when
// newestFirst is true, listings start with the newest and -oldest turns
// that around), for a listing paged with package paging. check validates
// them after parsing.
func listFlags(fs *flag.FlagSet, newestFirst bool) (p *paging.Page, check func(cmd string) error) {
	p = &paging.Page{Newest: newestFirst}
	fs.IntVar(&p.Limit, "limit", paging.DefaultLimit, fmt.Sprintf("page size, at most %d", paging.MaxLimit))
	fs.Int64Var(&p.After, "cursor", 0, "continue after this cursor, printed by the previous page")
	var flip *bool
	if newestFirst {
		flip = fs.Bool("oldest", false, "oldest first")
	} else {
		flip = fs.Bool("newest", false, "newest first")
	}
	return p, func(cmd string) error {
		if p.Limit < 0 || p.After < 0 {
			return usageErrorf("%s: -limit and -cursor must not be negative", cmd)
		}
		if *flip {
			p.Newest = !newestFirst
		}
		return nil
	}
}
