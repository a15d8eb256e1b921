package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/apikeyd/apikeyd/impl/store/driver"
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

// dbFile is the database file as the store opened it. Deleting apikeyd.db
// (with its -wal and -shm) or putting another file at its path under a
// running server leaves SQLite working on the files it has open, which no
// path leads to any more: every change would be acknowledged, then lost
// when the process ends, and the next start would begin another database.
// So the store proves, before and after each commit and for readiness,
// that the path still leads to the file it opened.
type dbFile struct {
	path   string
	opened os.FileInfo // nil for ":memory:", which no path leads to
}

// openedFile records the identity of the database file at path, which
// SQLite has opened.
func openedFile(path string) (dbFile, error) {
	if path == ":memory:" {
		return dbFile{}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return dbFile{}, fmt.Errorf("database file: %w", err)
	}
	// os.SameFile compares device and inode on unix (syscall.Stat_t), and
	// the volume and file index elsewhere, which Windows reads from the
	// path on first use: read it now, while the path leads to this file.
	os.SameFile(fi, fi)
	return dbFile{path: path, opened: fi}, nil
}

// check returns ErrDatabaseFileGone unless the path leads to the file
// that was opened. While SQLite holds that file open its inode cannot be
// freed, so no new file at the path can have the same identity.
func (f dbFile) check() error {
	if f.opened == nil {
		return nil
	}
	fi, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("%w: %w: %w", driver.ErrDatabase, driver.ErrDatabaseFileGone, err)
	}
	if !os.SameFile(f.opened, fi) {
		return fmt.Errorf("%w: %w: another file is at %s", driver.ErrDatabase, driver.ErrDatabaseFileGone, f.path)
	}
	return nil
}

// fail marks an error of database/sql as dbError does, then explains it
// (explain).
func (f dbFile) fail(err error) error { return f.explain(dbError(err)) }

// explain marks a failure of the database (driver.ErrDatabase) as
// ErrDatabaseFileGone when the path no longer leads to the database file:
// a connection the pool opens after the file was deleted or replaced
// cannot open it, which says nothing of why, while the connections opened
// before still read the lost file. Any other error stays as it is.
func (f dbFile) explain(err error) error {
	if !errors.Is(err, driver.ErrDatabase) || errors.Is(err, driver.ErrDatabaseFileGone) {
		return err
	}
	if gone := f.check(); gone != nil {
		return fmt.Errorf("%w (%w)", gone, err)
	}
	return err
}
