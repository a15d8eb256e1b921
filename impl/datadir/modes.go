package datadir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
)

// openToOthers are the permission bits that let users other than the
// owner at a file.
const openToOthers fs.FileMode = 0o077

// ModeChange is a file whose mode MakePrivate changed.
type ModeChange struct {
	Path     string
	From, To fs.FileMode
}

// MakePrivate takes group and other permissions off each of paths that
// exists: earlier versions of apikeyd created the database readable by
// all where the umask allowed it. It reports what it changed.
func MakePrivate(paths ...string) ([]ModeChange, error) {
	if runtime.GOOS == "windows" { // no Unix permission bits to change
		return nil, nil
	}
	var changed []ModeChange
	for _, path := range paths {
		info, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return changed, fmt.Errorf("make %s private: %w", path, err)
		}
		from := info.Mode().Perm()
		if from&openToOthers == 0 {
			continue
		}
		to := from &^ openToOthers
		if err := os.Chmod(path, to); err != nil {
			return changed, fmt.Errorf("make %s private: %w", path, err)
		}
		changed = append(changed, ModeChange{Path: path, From: from, To: to})
	}
	return changed, nil
}

// ReadPrivate reads up to limit bytes of a key file, refusing one that
// other users may read.
func ReadPrivate(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Windows does not report Unix permission bits.
	if perm := info.Mode().Perm(); perm&openToOthers != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%s has mode %#o, open to other users: run chmod 600 %s", path, perm, path)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}
