package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Exit codes; see the package doc.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitNotFound = 3
	exitLocked   = 4
	// The file is not a bouncekit database: nothing was changed.
	exitNotBouncekit = 5
	// With -url: the server refused the credentials or the request.
	exitDenied = 6
)

// defaultLockTimeout is how long opening waits for another process's lock.
const defaultLockTimeout = time.Second

// cli is one invocation: its environment, injected so tests can run
// commands in-process, and the global flags.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
	loc            *time.Location // For showing and parsing times; -utc sets UTC.
	hostname       string         // Default for queue fail -hostname.
	getenv         func(string) string

	dbPath          string
	json            bool
	lockTimeout     time.Duration
	url             string        // Of the server's API; empty: file mode.
	credentialsFile string        // With -url.
	timeout         time.Duration // Of a command with -url; 0: none.

	be backend // Set from the global flags before a command runs.
}

// exitError carries an exit code other than exitFailure with an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, args...)}
}

func notFoundf(format string, args ...any) error {
	return &exitError{exitNotFound, fmt.Errorf(format, args...)}
}

// errHelp is returned after -h printed a usage text: exit 0.
var errHelp = errors.New("help shown")

// group is a first-level command such as "queue".
type group struct {
	name  string
	short string
	cmds  []command
}

// command is one subcommand. run defines its flags on fs (which has -json
// unless noJSON) and parses args with cli.parse.
type command struct {
	name   string
	args   string // Synopsis of positional arguments, e.g. "ID".
	short  string
	long   string // More help for -h; optional.
	noJSON bool
	run    func(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) error
}

func groups() []group {
	return []group{queueGroup(), retiredGroup(), suppressionGroup(), hooksGroup(), holdRulesGroup()}
}

func (c *cli) run(ctx context.Context, args []string) int {
	err := c.dispatch(ctx, args)
	if cl, ok := c.be.(interface{ close() }); ok {
		cl.close()
	}
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintf(c.stderr, "bouncectl: %s\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("bouncectl", flag.ContinueOnError)
	fset.SetOutput(c.stderr)
	fset.StringVar(&c.dbPath, "db", "", "path of the bouncekit bstore database (this or -url is required)")
	fset.StringVar(&c.url, "url", "", "base URL of the server's bouncekit API, e.g. https://mail.example.org/webapi/: use it instead of a database file, while the server runs")
	fset.StringVar(&c.credentialsFile, "credentials", "", "with -url: file holding \"user:password\", readable by its owner only (default: $"+envCredentialsFile+", or $"+envUser+" and $"+envPassword+")")
	fset.DurationVar(&c.timeout, "timeout", time.Minute, "with -url: how long a command may take; 0: no limit")
	fset.BoolVar(&c.json, "json", false, "print JSON instead of tables")
	utc := fset.Bool("utc", false, "show and parse times in UTC instead of the local zone")
	fset.DurationVar(&c.lockTimeout, "lock-timeout", defaultLockTimeout, "how long to wait for a database locked by another process; 0 waits forever")
	fset.Usage = func() { c.mainUsage(fset) }
	if err := c.parse(fset, args); err != nil {
		return err
	}
	if *utc {
		c.loc = time.UTC
	}
	if c.url != "" {
		if c.dbPath != "" {
			return usageErrorf("give -db or -url, not both")
		}
		u, err := checkURL(c.url)
		if errors.Is(err, errPlainHTTP) {
			c.note("bouncectl: warning: -url: %v", err)
		} else if err != nil {
			return err
		}
		if c.be, err = newAPIBackend(c, u); err != nil {
			return err
		}
	} else {
		c.be = fileBackend{c}
	}
	args = fset.Args()
	if len(args) == 0 {
		c.mainUsage(fset)
		return usageErrorf("missing command")
	}
	for _, g := range groups() {
		if g.name != args[0] {
			continue
		}
		if len(args) == 1 {
			c.groupUsage(g)
			return usageErrorf("missing %s command", g.name)
		}
		if args[1] == "-h" || args[1] == "-help" || args[1] == "--help" || args[1] == "help" {
			c.groupUsage(g)
			return errHelp
		}
		for _, cmd := range g.cmds {
			if cmd.name == args[1] {
				fs := c.flags(g.name, cmd)
				if !cmd.noJSON {
					fs.BoolVar(&c.json, "json", c.json, "print JSON instead of a table")
				}
				return cmd.run(ctx, c, fs, args[2:])
			}
		}
		c.groupUsage(g)
		return usageErrorf("unknown %s command %q", g.name, args[1])
	}
	if args[0] == "help" {
		c.mainUsage(fset)
		return errHelp
	}
	c.mainUsage(fset)
	return usageErrorf("unknown command %q", args[0])
}

// parse parses args with fs. -h prints the usage and returns errHelp; a bad
// flag returns a usage error (the flag package printed the usage).
func (c *cli) parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	} else if err != nil {
		return &exitError{exitUsage, err}
	}
	return nil
}

func (c *cli) mainUsage(fset *flag.FlagSet) {
	w := c.stderr
	fmt.Fprintf(w, "usage: bouncectl [global flags] <group> <command> [flags] [args]\n\ncommands:\n")
	tw := newTabWriter(w)
	for _, g := range groups() {
		for _, cmd := range g.cmds {
			fmt.Fprintf(tw, "  %s %s %s\t%s\n", g.name, cmd.name, cmd.args, cmd.short)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nglobal flags:\n")
	fset.PrintDefaults()
	fmt.Fprintf(w, "\nexit codes: 0 ok, 1 error, 2 usage, 3 not found (nothing changed), 4 database locked, 5 not a bouncekit database, 6 refused by the server\n")
}

func (c *cli) groupUsage(g group) {
	fmt.Fprintf(c.stderr, "usage: bouncectl [global flags] %s <command> [flags] [args]\n\n%s\n\ncommands:\n", g.name, g.short)
	tw := newTabWriter(c.stderr)
	for _, cmd := range g.cmds {
		fmt.Fprintf(tw, "  %s %s\t%s\n", cmd.name, cmd.args, cmd.short)
	}
	tw.Flush()
	fmt.Fprintf(c.stderr, "\nrun \"bouncectl %s <command> -h\" for its flags\n", g.name)
}

// flags returns the FlagSet of a command, with -json.
func (c *cli) flags(g string, cmd command) *flag.FlagSet {
	fs := flag.NewFlagSet(g+" "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: bouncectl [global flags] %s\n\n%s\n", strings.TrimSpace(g+" "+cmd.name+" [flags] "+cmd.args), cmd.short)
		if cmd.long != "" {
			fmt.Fprintf(c.stderr, "\n%s\n", strings.TrimSpace(cmd.long))
		}
		fmt.Fprintf(c.stderr, "\nflags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// noArgs returns a usage error if fs has positional arguments left.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageErrorf("%s: unexpected argument %q (flags go before arguments)", fs.Name(), fs.Arg(0))
	}
	return nil
}
