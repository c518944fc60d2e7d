package main

import (
	"errors"
	"flag"
)

// backend is where the commands' data lives: the database file
// (fileBackend) or, with -url, a running server's HTTP API. Commands parse
// their flags, call one method and print its result, so both modes print
// the same. A method returns errNotFound (wrapped) when the IDs, addresses
// or selection it was given match nothing, and changes nothing then.
type backend interface {
	queueBackend
	retiredBackend
	suppressionBackend
	hooksBackend
	holdRulesBackend
}

// errNotFound is returned by backends for a selection that matches
// nothing; the command says what it looked for.
var errNotFound = errors.New("not found")

// fileOnly returns a usage error when one of the named flags was set but
// the backend cannot honour it.
func (c *cli) fileOnly(fs *flag.FlagSet, names ...string) error {
	if _, ok := c.be.(fileBackend); ok {
		return nil
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			if f.Name == n && err == nil {
				err = usageErrorf("%s: -%s works only on a database file (-db), not with -url: the server's settings apply", fs.Name(), n)
			}
		}
	})
	return err
}
