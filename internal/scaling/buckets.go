package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/plantest"
)

// listBuckets prints, per bstore bucket, the pages that one bare update
// and one ProcessIncoming of a matched failure DSN write (-buckets): the
// pages of each B-tree that the commit copied (bbolt copies each page it
// changes), besides the meta page and the freelist.
func (r *runner) listBuckets() error {
	r.nonce = strconv.FormatInt(time.Now().UnixNano(), 36)
	r.setup()
	bare, err := r.addBare()
	if err != nil {
		return err
	}
	if err := r.drainHooks(); err != nil {
		return err
	}
	if err := r.showWrites("bare update of one record", func(tx *bstore.Tx) error {
		bare.Attempts++
		return tx.Update(&bare)
	}); err != nil {
		return err
	}
	msgs, err := r.addRetired("bk", 1)
	if err != nil {
		return err
	}
	m := msgs[0]
	report, err := r.report("bk", "", "", m.RecipientAddress)
	if err != nil {
		return err
	}
	if err := r.drainHooks(); err != nil {
		return err
	}
	return r.showWrites("ProcessIncoming by FromID", func(tx *bstore.Tx) error {
		_, err := r.h.ProcessIncoming(tx, "big", m.MailFrom("+"), report)
		return err
	})
}

// showWrites runs fn in a write transaction and prints the pages its
// commit wrote per bucket.
func (r *runner) showWrites(name string, fn func(tx *bstore.Tx) error) error {
	before, err := plantest.ReadPages(r.path)
	if err != nil {
		return err
	}
	if err := r.write(fn); err != nil {
		return err
	}
	after, err := plantest.ReadPages(r.path)
	if err != nil {
		return err
	}
	w := plantest.Written(before, after)
	total := 0
	fmt.Printf("\n%s, %d retired messages: pages written per bucket\n\n", name, r.size)
	for _, b := range plantest.Names(w) {
		name := b
		if name == "" {
			name = "(root)"
		}
		fmt.Printf("  %-45s %d\n", name, w[b])
		total += w[b]
	}
	fmt.Printf("  %-45s %d\n", "total, without meta page and freelist", total)
	return nil
}
