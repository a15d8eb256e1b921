package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// createPrivate creates the database file, empty and readable only by its
// owner, unless it exists: SQLite would create it 0644 less the umask, and
// gives the -wal and -shm files the mode of the database file.
//
// An existing file is never opened here: closing a descriptor of a file
// drops every fcntl lock this process holds on it, SQLite's included.
func createPrivate(path string) error {
	if path == ":memory:" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create the database file: %w", err)
	}
	return f.Close()
}
