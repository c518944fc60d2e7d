package plantest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Pages is what a bbolt file holds per bucket: the pages of the bucket's
// own B-tree (not those of buckets nested in it), or, for a bucket stored
// inline in its parent's leaf, a hash of its contents. bstore keeps each
// type in a top-level bucket named for the type, with nested buckets
// "records", "types" and "index.<name>"; the root of the file is "".
type Pages map[string]bucketPages

type bucketPages struct {
	pages  map[uint64]bool
	inline [sha256.Size]byte
}

// ReadPages reads the bbolt file at path, which may be open in a
// bstore.DB: bbolt writes committed pages to the file before a commit
// returns, and the file is only read.
//
// It follows the bbolt file format (go.etcd.io/bbolt page.go, bucket.go):
// two meta pages, the one with the higher transaction id in use, and
// B-trees of branch and leaf pages with 16-byte page headers.
func ReadPages(path string) (Pages, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plantest: reading database: %w", err)
	}
	if len(b) < 2*4096 {
		return nil, fmt.Errorf("plantest: database file too short")
	}
	le := binary.LittleEndian
	const hdr = 16 // id u64, flags u16, count u16, overflow u32
	pageSize := int(le.Uint32(b[hdr+8:]))
	var root uint64
	var txid uint64
	for i := range 2 {
		m := b[i*pageSize+hdr:]
		if le.Uint32(m) != 0xED0CDAED {
			continue
		}
		if t := le.Uint64(m[48:]); t >= txid {
			txid, root = t, le.Uint64(m[16:])
		}
	}
	if root == 0 {
		return nil, fmt.Errorf("plantest: no valid meta page")
	}
	p := Pages{}
	var walk func(name string, id uint64) error
	leaf := func(name string, page []byte) error {
		n := int(le.Uint16(page[10:]))
		for i := range n {
			e := page[hdr+i*16:]
			flags, pos, ksize, vsize := le.Uint32(e), int(le.Uint32(e[4:])), int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
			if flags&1 == 0 {
				continue
			}
			key := string(e[pos : pos+ksize])
			val := e[pos+ksize : pos+ksize+vsize]
			sub := strings.TrimPrefix(name+"/"+key, "/")
			if r := le.Uint64(val); r != 0 {
				if err := walk(sub, r); err != nil {
					return err
				}
				continue
			}
			p[sub] = bucketPages{inline: sha256.Sum256(val[16:])}
		}
		return nil
	}
	walk = func(name string, id uint64) error {
		bp := p[name]
		if bp.pages == nil {
			bp.pages = map[uint64]bool{}
			p[name] = bp
		}
		off := int(id) * pageSize
		if off+pageSize > len(b) {
			return fmt.Errorf("plantest: page %d beyond the file", id)
		}
		page := b[off:]
		overflow := le.Uint32(page[12:])
		for k := range uint64(overflow) + 1 {
			bp.pages[id+k] = true
		}
		switch flags := le.Uint16(page[8:]); {
		case flags&0x01 != 0: // branch
			n := int(le.Uint16(page[10:]))
			for i := range n {
				e := page[hdr+i*16:]
				if err := walk(name, le.Uint64(e[8:])); err != nil {
					return err
				}
			}
		case flags&0x02 != 0: // leaf
			return leaf(name, page)
		default:
			return fmt.Errorf("plantest: page %d of bucket %q has flags %#x", id, name, flags)
		}
		return nil
	}
	if err := walk("", root); err != nil {
		return nil, err
	}
	return p, nil
}

// Written returns, per bucket changed from before to after, the pages of
// its B-tree that after has and before had not (bbolt copies every page
// it changes to a new one); a changed inline bucket counts 0 pages, its
// parent's page counts instead.
func Written(before, after Pages) map[string]int {
	w := map[string]int{}
	for name, a := range after {
		b, ok := before[name]
		if !ok {
			w[name] = len(a.pages)
			continue
		}
		if a.pages == nil {
			if b.pages != nil || a.inline != b.inline {
				w[name] = 0
			}
			continue
		}
		n := 0
		for id := range a.pages {
			if !b.pages[id] {
				n++
			}
		}
		if n > 0 {
			w[name] = n
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			w[name] = 0
		}
	}
	return w
}

// Names returns the buckets of w, sorted.
func Names(w map[string]int) []string {
	l := make([]string, 0, len(w))
	for name := range w {
		l = append(l, name)
	}
	sort.Strings(l)
	return l
}
