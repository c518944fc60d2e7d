package main

import (
	"context"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"

	"github.com/bouncekit/bouncekit/internal/workload"
)

// compactDB rewrites the database at path with bbolt's Compact, after
// opening it once with the current types so any schema change (an index
// added or dropped) is applied first. bbolt writes its whole list of free
// pages at every commit; a schema change that drops an index on a million
// records leaves thousands of free pages, and every commit then writes
// that list too, the bare update as much as a report, until the file has
// grown into it. A compacted file has no free pages: each commit writes
// only the pages of the trees it changes, which is what the table
// compares.
func compactDB(ctx context.Context, path string) error {
	db, err := workload.OpenDB(ctx, path)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	tmp := path + ".compact"
	os.Remove(tmp)
	src, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := bolt.Open(tmp, 0o600, nil)
	if err != nil {
		return err
	}
	if err := bolt.Compact(dst, src, 64<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("compacting %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
