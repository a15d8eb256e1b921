// Package datadir keeps the files of apikeyd's data directory: the master
// key and the System key, each with the pending copy a rotation writes
// before the database depends on it. Every file is readable only by its
// owner and published whole: another process, or the next start after a
// crash, reads all of a file or none of it.
package datadir

import (
	"fmt"
	"os"
	"path/filepath"
)

// The key files of a data directory.
const (
	MasterKeyFile = "master.key"
	SystemKeyFile = "system.key"
)

// pendingSuffix names the new key of a rotation until it replaces the
// current one.
const pendingSuffix = ".new"

// Make creates the data directory, which only its owner may enter, unless
// it exists.
func Make(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	return nil
}

// KeyFiles names the key files that dir holds: each is left by a database
// that was opened with it.
func KeyFiles(dir string) []string {
	var held []string
	for _, name := range []string{MasterKeyFile, SystemKeyFile} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			held = append(held, name)
		}
	}
	return held
}

// MasterKeyPaths are the master key file of dir and its pending copy.
func MasterKeyPaths(dir string) (current, pending string) {
	return paths(dir, MasterKeyFile)
}

// SystemKeyPaths are the System key file of dir and its pending copy.
func SystemKeyPaths(dir string) (current, pending string) {
	return paths(dir, SystemKeyFile)
}

func paths(dir, name string) (current, pending string) {
	current = filepath.Join(dir, name)
	return current, current + pendingSuffix
}
