package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/suppression"
)

func suppressionGroup() group {
	return group{
		name:  "suppression",
		short: "Manage the per-account suppression lists: addresses the server does not send to.",
		cmds: []command{
			{name: "list", short: "list entries, oldest first, a page at a time", run: suppressionList},
			{name: "add", args: "ADDRESS...", short: "add or refresh entries for an account", long: addLong, run: suppressionAdd},
			{name: "remove", args: "ADDRESS...", short: "remove entries of an account; all or none", run: suppressionRemove},
			{name: "import", args: "FILE", short: "import a CSV file (\"-\": standard input); all rows or none", long: importLong, run: suppressionImport},
			{name: "export", short: "write matching entries as CSV to standard output", noJSON: true, run: suppressionExport},
		},
	}
}

// suppressionBackend holds the suppression commands' operations. n
// configures the normalizer like the host's; nil means the default.
type suppressionBackend interface {
	suppressionList(ctx context.Context, f suppression.Filter, p paging.Page) ([]suppression.Entry, int64, error)
	// suppressionAdd adds or refreshes the entries, all or none.
	suppressionAdd(ctx context.Context, n *suppression.Normalizer, entries []suppression.Entry) ([]addJSON, error)
	// suppressionRemove removes the addresses, all or none if it can; for
	// one not on the list it returns the address, how many it removed
	// before it, and errNotFound.
	suppressionRemove(ctx context.Context, n *suppression.Normalizer, account string, addrs []string) (missing string, removed int, err error)
	suppressionImport(ctx context.Context, n *suppression.Normalizer, r io.Reader) (suppression.ImportResult, error)
	// suppressionExport writes the matching entries as CSV to w and
	// returns how many it wrote.
	suppressionExport(ctx context.Context, w io.Writer, f suppression.Filter) (int, error)
}

// badAddress is the error for an address the list cannot hold.
func badAddress(cmd, addr string, err error) error {
	return usageErrorf("%s: %s: %w", cmd, addr, err)
}

const addLong = `
An address already listed (by its base address) is refreshed: its reason,
category and source are replaced and it never gets a shorter expiry.`

const importLong = `
The CSV has a header row naming its columns; "account" and "address" are
required, the others (as written by export) optional. Every row is checked
before anything is written; an error names the line.`

// optList is a flag.Value for a comma-separated list that tells "not
// given" (nil) from "given empty" (empty, non-nil).
type optList struct{ l *[]string }

func (o optList) String() string {
	if o.l == nil {
		return ""
	}
	return strings.Join(*o.l, ",")
}

func (o optList) Set(s string) error {
	*o.l = append([]string{}, splitList(s)...)
	return nil
}

// normalizerFlags registers the flags that configure the normalizer like
// the host's, and returns it.
func normalizerFlags(fs *flag.FlagSet) *suppression.Normalizer {
	n := &suppression.Normalizer{}
	fs.Var(optList{&n.Separators}, "separators", "catchall separators of the host's normalizer, comma-separated (default \"+\"; empty: none)")
	fs.Var(optList{&n.DotlessDomains}, "dotless-domains", "domains whose localparts ignore dots, as configured on the host (default gmail.com,googlemail.com)")
	return n
}

// suppressionFilter registers the filter flags shared by list and export.
func suppressionFilter(c *cli, fs *flag.FlagSet) (*suppression.Filter, *bool) {
	f := &suppression.Filter{}
	fs.StringVar(&f.Account, "account", "", "account")
	fs.Var(categoryFlag{&f.Category}, "category", "category: "+joinCategories())
	fs.Var(sourceFlag{&f.Source}, "source", "source: "+joinSources())
	fs.StringVar(&f.Search, "search", "", "part of the address, any case")
	fs.Var(timeFlag{c, &f.CreatedAfter}, "created-after", "created at or after this time")
	fs.Var(timeFlag{c, &f.CreatedBefore}, "created-before", "created before this time")
	active := fs.Bool("active", false, "leave out expired entries not yet cleaned up")
	return f, active
}

type categoryFlag struct{ c *suppression.Category }

func (f categoryFlag) String() string {
	if f.c == nil {
		return ""
	}
	return string(*f.c)
}

func (f categoryFlag) Set(s string) error {
	for _, c := range suppression.Categories() {
		if string(c) == strings.ToLower(s) {
			*f.c = c
			return nil
		}
	}
	return fmt.Errorf("unknown category %q, want one of %s", s, joinCategories())
}

type sourceFlag struct{ s *suppression.Source }

func (f sourceFlag) String() string {
	if f.s == nil {
		return ""
	}
	return string(*f.s)
}

func (f sourceFlag) Set(s string) error {
	for _, src := range suppression.Sources() {
		if string(src) == strings.ToLower(s) {
			*f.s = src
			return nil
		}
	}
	return fmt.Errorf("unknown source %q, want one of %s", s, joinSources())
}

func joinCategories() string {
	var l []string
	for _, c := range suppression.Categories() {
		l = append(l, string(c))
	}
	return strings.Join(l, ", ")
}

func joinSources() string {
	var l []string
	for _, s := range suppression.Sources() {
		l = append(l, string(s))
	}
	return strings.Join(l, ", ")
}

func suppressionList(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	f, active := suppressionFilter(c, fs)
	p, checkPage := listFlags(fs, false)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := checkPage("suppression list"); err != nil {
		return err
	}
	if err := c.fileOnly(fs, "created-after", "created-before"); err != nil {
		return err
	}
	if *active {
		f.ActiveAt = c.now()
	}
	entries, next, err := c.be.suppressionList(ctx, *f, *p)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []suppression.Entry{}
	}
	if c.json {
		return c.writeJSON(pageJSON[suppression.Entry]{entries, next})
	}
	if len(entries) == 0 {
		c.note("no suppression entries match")
		return nil
	}
	now := c.now()
	t := c.table("ID", "ACCOUNT", "ADDRESS", "BASE ADDRESS", "CATEGORY", "SOURCE", "CREATED", "EXPIRES", "HITS", "REASON")
	for _, e := range entries {
		expires := "never"
		if !e.ExpiresAt.IsZero() {
			expires = c.fmtTime(e.ExpiresAt)
			if !e.Active(now) {
				expires += " (expired)"
			}
		}
		t.row(fmtInt(e.ID), e.Account, e.OriginalAddress, e.BaseAddress, string(e.Category), string(e.Source), c.fmtTime(e.Created), expires, fmtInt(e.Hits), truncate(e.Reason, 50))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if next != 0 {
		c.note("more results: -cursor %d", next)
	}
	return nil
}

// addJSON is one address's result of suppression add.
type addJSON struct {
	Entry suppression.Entry
	Added bool // False: an entry in effect was refreshed.
}

func suppressionAdd(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	account := fs.String("account", "", "account (required)")
	reason := fs.String("reason", "added by operator", "reason, for people")
	category := suppression.CategoryManual
	fs.Var(categoryFlag{&category}, "category", "category: "+joinCategories())
	source := suppression.SourceAPI
	fs.Var(sourceFlag{&source}, "source", "source: "+joinSources())
	var expires time.Time
	fs.Var(timeFlag{c, &expires}, "expires", "when the entries stop being in effect (default never), e.g. +720h")
	n := normalizerFlags(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *account == "" {
		return usageErrorf("suppression add: missing -account")
	}
	if err := c.fileOnly(fs, "separators", "dotless-domains"); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("suppression add: missing ADDRESS")
	}
	entries := make([]suppression.Entry, fs.NArg())
	for i, addr := range fs.Args() {
		entries[i] = suppression.Entry{Account: *account, OriginalAddress: addr, Reason: *reason, Category: category, Source: source, ExpiresAt: expires}
	}
	results, err := c.be.suppressionAdd(ctx, n, entries)
	if err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(results)
	}
	for _, r := range results {
		verb := "added"
		if !r.Added {
			verb = "refreshed"
		}
		if r.Entry.ID == 0 {
			// With -url, when the entry was not found after the add.
			fmt.Fprintf(c.stdout, "%s %s (see suppression list for its entry)\n", verb, r.Entry.OriginalAddress)
			continue
		}
		fmt.Fprintf(c.stdout, "%s %s (base address %s, id %d)\n", verb, r.Entry.OriginalAddress, r.Entry.BaseAddress, r.Entry.ID)
	}
	return nil
}

func suppressionRemove(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	account := fs.String("account", "", "account (required)")
	n := normalizerFlags(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *account == "" {
		return usageErrorf("suppression remove: missing -account")
	}
	if err := c.fileOnly(fs, "separators", "dotless-domains"); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("suppression remove: missing ADDRESS")
	}
	missing, removed, err := c.be.suppressionRemove(ctx, n, *account, fs.Args())
	if errors.Is(err, errNotFound) && removed == 0 {
		return notFoundf("suppression remove: %s is not on the list of account %q; nothing removed", missing, *account)
	} else if errors.Is(err, errNotFound) {
		return notFoundf("suppression remove: %s is not on the list of account %q; the %d addresses before it were removed", missing, *account, removed)
	} else if err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(map[string]int{"Removed": fs.NArg()})
	}
	fmt.Fprintf(c.stdout, "removed %d entries\n", fs.NArg())
	return nil
}

func suppressionImport(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	n := normalizerFlags(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("suppression import: want one FILE (\"-\" for standard input)")
	}
	if err := c.fileOnly(fs, "separators", "dotless-domains"); err != nil {
		return err
	}
	var r io.Reader = c.stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("suppression import: %w", err)
		}
		defer f.Close()
		r = f
	}
	res, err := c.be.suppressionImport(ctx, n, r)
	if err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(res)
	}
	fmt.Fprintf(c.stdout, "imported %d rows: %d added, %d refreshed\n", res.Rows, res.Added, res.Updated)
	return nil
}

func suppressionExport(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error {
	f, active := suppressionFilter(c, fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := c.fileOnly(fs, "active", "created-after", "created-before"); err != nil {
		return err
	}
	if *active {
		f.ActiveAt = c.now()
	}
	n, err := c.be.suppressionExport(ctx, c.stdout, *f)
	if err != nil {
		return err
	}
	c.note("exported %d entries", n)
	return nil
}
