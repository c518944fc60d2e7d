package queuetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrDiskNotFull is returned by FillDisk when limit bytes were written
// without the file system running out of space.
var ErrDiskNotFull = errors.New("queuetest: file system not full after limit")

// FillDisk writes a file in dir until the file system holding dir has no
// space left (ENOSPC), for tests of what a program does on a full disk.
// Use it only on a small file system made for the test (a tmpfs); limit
// bounds what it writes, so a wrong dir does not fill a real disk. The
// returned function removes the file, giving the space back.
func FillDisk(dir string, limit int64) (release func() error, err error) {
	path := filepath.Join(dir, "queuetest-fill")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queuetest: creating fill file: %w", err)
	}
	release = func() error {
		f.Close()
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("queuetest: removing fill file: %w", err)
		}
		return nil
	}
	var written int64
	// Large writes until the first ENOSPC, then smaller ones for the rest.
	for size := 1 << 20; size > 0; size /= 16 {
		buf := make([]byte, size)
		for written < limit {
			n, err := f.Write(buf)
			written += int64(n)
			if errors.Is(err, syscall.ENOSPC) {
				break
			} else if err != nil {
				release()
				return nil, fmt.Errorf("queuetest: filling disk: %w", err)
			}
		}
	}
	if written >= limit {
		release()
		return nil, fmt.Errorf("%w: wrote %d bytes", ErrDiskNotFull, written)
	}
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		release()
		return nil, fmt.Errorf("queuetest: syncing fill file: %w", err)
	}
	return release, nil
}
