//go:build unix

package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestTheDatabaseFilesArePrivate: with the common umask 022 and a data
// directory others may enter, the database and the -wal and -shm files
// SQLite makes beside it are still readable by their owner alone.
func TestTheDatabaseFilesArePrivate(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "apikeyd.db")
	openReal(t, path) // the migrations write: -wal and -shm exist now
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("mode of %s = %#o, want 0600", filepath.Base(name), got)
		}
	}
}
