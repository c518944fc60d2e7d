//go:build !linux

package main

// warmMapping does nothing here: the suite's warm mapping needs Linux's
// madvise(MADV_POPULATE_READ). See warm_linux.go.
func warmMapping(path string) (int64, error) { return 0, nil }
