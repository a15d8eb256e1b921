//go:build unix

package app

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDatabase takes an exclusive lock on <db>.lock, held until release
// (or until the process ends, however it ends). A server holds it: its
// caches are right only while no other process changes keys, so a second
// server, or a command that must not run beside one, on the same database
// fails at once with errDatabaseInUse. An in-memory database needs none.
func lockDatabase(dbPath string) (release func() error, err error) {
	if dbPath == ":memory:" {
		return func() error { return nil }, nil
	}
	name := dbPath + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s is locked)", errDatabaseInUse, name)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return f.Close, nil
}
