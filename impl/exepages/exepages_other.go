//go:build !linux

package exepages

// Release does nothing where there is no /proc/self/smaps to read.
func Release() (Released, error) { return Released{}, nil }
