package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// madvPopulateRead is Linux's MADV_POPULATE_READ (since 5.14): map every
// page of a range in, as reading each would, without copying it.
const madvPopulateRead = 22

// warmMapping maps every page of the database file at path into this
// process's memory mapping of it (bbolt's), as a server that has run a
// while has mapped the pages it reads. Without it, the first read of each
// page in a run costs a page fault, and a larger database has more pages a
// random lookup has not touched before. It reports how many bytes it
// mapped. It changes nothing in the file.
func warmMapping(path string) (int64, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, err
	}
	if p, err := filepath.EvalSymlinks(abs); err == nil {
		abs = p
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return 0, err
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	var total int64
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		// start-end perms offset dev inode path
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[5] != abs {
			continue
		}
		start, end, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		lo, err1 := strconv.ParseUint(start, 16, 64)
		hi, err2 := strconv.ParseUint(end, 16, 64)
		off, err3 := strconv.ParseInt(f[2], 16, 64)
		if err1 != nil || err2 != nil || err3 != nil || off >= fi.Size() {
			continue
		}
		// Pages past the end of the file cannot be read (SIGBUS).
		n := min(hi-lo, uint64(fi.Size()-off))
		n = (n + pageSize - 1) / pageSize * pageSize
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(lo), uintptr(n), madvPopulateRead); errno != 0 {
			return total, fmt.Errorf("madvise populate: %w", errno)
		}
		total += int64(n)
	}
	return total, sc.Err()
}
