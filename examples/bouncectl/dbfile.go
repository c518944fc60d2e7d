package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"

	"github.com/mjl-/bstore"
	bolt "go.etcd.io/bbolt"

	"github.com/bouncekit/bouncekit/queue"
)

// File mode. bstore has no read-only open: bstore.Open registers the types
// in a write transaction, and even a bbolt commit that changes no record
// writes a new meta page. So a command that only reads never runs
// bstore.Open on the operator's file. It opens the file with bbolt's
// read-only mode (a shared lock: other readers may run at the same time,
// a process holding the exclusive lock, such as the running server, blocks
// it until -lock-timeout), checks that the file is a bouncekit database,
// copies a consistent snapshot to a private temporary file and reads that.
// Commands that write check the file the same way first, then open it with
// bstore as the server does.

// typeNames returns the bstore type names of values: the Go type's name,
// or the name given by a "typename" word in the bstore tag of the first
// field, as bstore's documentation says (bstore doc.go, Struct tags).
func typeNames(values []any) []string {
	names := make([]string, len(values))
	for i, v := range values {
		t := reflect.TypeOf(v)
		names[i] = t.Name()
		if t.NumField() == 0 {
			continue
		}
		for _, word := range strings.Split(t.Field(0).Tag.Get("bstore"), ",") {
			if name, ok := strings.CutPrefix(strings.TrimSpace(word), "typename "); ok {
				names[i] = strings.TrimSpace(name)
			}
		}
	}
	return names
}

// missingTypes returns the names of btx's missing bstore types: a bstore
// type is a top-level bucket with a "types" bucket holding its schema.
func missingTypes(btx *bolt.Tx, names []string) []string {
	var missing []string
	for _, name := range names {
		b := btx.Bucket([]byte(name))
		var tb *bolt.Bucket
		if b != nil {
			tb = b.Bucket([]byte("types"))
		}
		if tb == nil || tb.Stats().KeyN == 0 {
			missing = append(missing, name)
		}
	}
	return missing
}

// notBouncekitf is the error for a file that is not a bouncekit database.
func notBouncekitf(format string, args ...any) error {
	return &exitError{exitNotBouncekit, fmt.Errorf(format, args...)}
}

// openBolt opens the database file with bbolt, read-only, after checking
// that it exists and is not empty: bbolt would create a missing file and
// initialize an empty one.
func (c *cli) openBolt() (*bolt.DB, error) {
	if c.dbPath == "" {
		return nil, usageErrorf("missing -db PATH (or -url URL)")
	}
	fi, err := os.Stat(c.dbPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("database %s does not exist", c.dbPath)
	case err != nil:
		return nil, fmt.Errorf("opening database %s: %w", c.dbPath, err)
	case !fi.Mode().IsRegular():
		return nil, notBouncekitf("database %s is not a regular file", c.dbPath)
	case fi.Size() == 0:
		return nil, notBouncekitf("database %s is empty, not a bouncekit database", c.dbPath)
	}
	opts := bolt.Options{
		ReadOnly: true,
		Timeout:  c.lockTimeout,
		// Never create: the file may have been removed since the Stat.
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			return os.OpenFile(name, flag&^os.O_CREATE, perm)
		},
	}
	bdb, err := bolt.Open(c.dbPath, 0600, &opts)
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, c.lockedError()
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("database %s does not exist", c.dbPath)
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrVersionMismatch), errors.Is(err, bolt.ErrChecksum):
		return nil, notBouncekitf("database %s is not a bstore database: %w", c.dbPath, err)
	case err != nil:
		return nil, fmt.Errorf("opening database %s: %w", c.dbPath, err)
	}
	return bdb, nil
}

func (c *cli) lockedError() error {
	return &exitError{exitLocked, fmt.Errorf("database %s is locked by another process (a running server?): use -url to go through its API", c.dbPath)}
}

// checkTypes returns an error unless btx holds every bouncekit type. A file
// with only some of them is another program's (mox's queue database has a
// Msg, a HoldRule and Hooks too) or was last opened by an older bouncekit.
func (c *cli) checkTypes(btx *bolt.Tx) error {
	missing := missingTypes(btx, typeNames(queue.DBTypes()))
	if len(missing) == 0 {
		return nil
	}
	return notBouncekitf("database %s is not a bouncekit database: it lacks the types %s (or was last opened by an older version of the server; opening it with the server adds them)", c.dbPath, strings.Join(missing, ", "))
}

// openSnapshot checks the file and opens a private copy of it with bstore,
// for commands that only read. The returned function closes the copy.
func (c *cli) openSnapshot(ctx context.Context) (*bstore.DB, func() error, error) {
	path, err := c.snapshot()
	if err != nil {
		return nil, nil, err
	}
	// Registering the types may upgrade an older schema: in the copy only.
	db, err := bstore.Open(ctx, path, &bstore.Options{MustExist: true}, queue.DBTypes()...)
	if err != nil {
		os.Remove(path)
		return nil, nil, fmt.Errorf("opening snapshot of database %s: %w", c.dbPath, err)
	}
	// bbolt keeps using the open file, so on Unix the copy can go now: not
	// even a killed process leaves the data behind. Where an open file
	// cannot be removed, it goes after closing.
	removed := os.Remove(path) == nil
	return db, func() error {
		err := db.Close()
		if removed {
			return err
		}
		if rerr := os.Remove(path); err == nil && rerr != nil {
			err = fmt.Errorf("removing snapshot: %w", rerr)
		}
		return err
	}, nil
}

// snapshot checks the database file and copies it to a new temporary file
// (mode 0600: it holds the same data), whose path it returns.
func (c *cli) snapshot() (path string, rerr error) {
	bdb, err := c.openBolt()
	if err != nil {
		return "", err
	}
	defer bdb.Close() // Read-only: closing cannot lose anything.

	tmp, err := os.CreateTemp("", "bouncectl-*.db")
	if err != nil {
		return "", fmt.Errorf("creating snapshot: %w", err)
	}
	defer func() {
		if rerr != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	err = bdb.View(func(btx *bolt.Tx) error {
		if err := c.checkTypes(btx); err != nil {
			return err
		}
		// A read transaction is a consistent view of the whole file.
		if _, err := btx.WriteTo(tmp); err != nil {
			return fmt.Errorf("copying database %s to a snapshot: %w", c.dbPath, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("writing snapshot: %w", err)
	}
	return tmp.Name(), nil
}

// openWrite checks the file and opens it with bstore, registering the
// current schema as the server does, for commands that change it.
func (c *cli) openWrite(ctx context.Context) (*bstore.DB, error) {
	bdb, err := c.openBolt()
	if err != nil {
		return nil, err
	}
	err = bdb.View(c.checkTypes)
	if cerr := bdb.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing database %s: %w", c.dbPath, cerr)
	}
	if err != nil {
		return nil, err
	}
	opts := bstore.Options{Timeout: c.lockTimeout, MustExist: true}
	db, err := bstore.Open(ctx, c.dbPath, &opts, queue.DBTypes()...)
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, c.lockedError()
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("database %s does not exist", c.dbPath)
	case err != nil:
		return nil, fmt.Errorf("opening database %s: %w", c.dbPath, err)
	}
	return db, nil
}

// readDB calls fn with a snapshot of the database; see openSnapshot.
func (c *cli) readDB(ctx context.Context, fn func(db *bstore.DB) error) error {
	db, done, err := c.openSnapshot(ctx)
	if err != nil {
		return err
	}
	err = fn(db)
	if derr := done(); err == nil && derr != nil {
		err = derr
	}
	return err
}

// writeDB opens the database for writing, calls fn and closes it.
func (c *cli) writeDB(ctx context.Context, fn func(db *bstore.DB) error) error {
	db, err := c.openWrite(ctx)
	if err != nil {
		return err
	}
	err = fn(db)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing database: %w", cerr)
	}
	return err
}
