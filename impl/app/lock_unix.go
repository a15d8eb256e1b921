//go:build unix

package app

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDatabase takes an exclusive flock(2) on the database file, creating
// it (mode 0600) on first start, held until release (or until the process
// ends, however it ends). A server holds it: its caches are right only
// while no other process changes keys, so a second server, or a command
// that must not run beside one, on the same database fails at once with
// errDatabaseInUse. An in-memory database needs none.
//
// The lock is on the database file itself, not on a file beside it that
// could be removed under a running server. On a local filesystem a flock
// is apart from the fcntl record locks SQLite takes on the same file, so
// neither disturbs the other: guild-admin works beside a server. (An fcntl
// lock would not do: the process loses it when any descriptor of the file
// closes.) For the same reason release must wait until the store is
// closed: closing this descriptor drops SQLite's fcntl locks of this
// process on the file.
func lockDatabase(dbPath string) (release func() error, err error) {
	if dbPath == ":memory:" {
		return func() error { return nil }, nil
	}
	f, err := os.OpenFile(dbPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s is locked)", errDatabaseInUse, dbPath)
		}
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	return f.Close, nil
}
