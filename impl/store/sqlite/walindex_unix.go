//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The wal-index header, as SQLite's unix VFS lays it out at the start of
// the -shm file (https://sqlite.org/walformat.html): two copies of 48
// bytes in native byte order, the second written first at each commit.
const (
	walHeaderSize = 48
	// walChangeAt is iChange, a counter of the transactions committed.
	walChangeAt = 8
	// walChecksumAt is the header's checksum, over every field before it
	// (the last frame, its checksum, the salts among them).
	walChecksumAt = 40
	// walMapSize is what is mapped: a page, all of it within the -shm
	// file's first 32 KiB block once SQLite has made it.
	walMapSize = 4096
)

// walIndex reads the wal-index header of a database in WAL mode, which
// every commit of every process rewrites, without a query or a system
// call: its stamp tells a server that another process (apikeyd
// guild-admin) may have changed what it caches.
//
// The -shm file stays open until the engine closes, after SQLite's own
// connections: closing any descriptor of a file drops every fcntl lock
// the process holds on it, SQLite's locks of the wal-index among them.
type walIndex struct {
	file *os.File
	mem  []byte // nil when the header could not be mapped
}

// openWALIndex maps the header of the wal-index of the database at path,
// which SQLite has opened in WAL mode. A file it cannot open or map (too
// short, say) gives a walIndex whose stamp is never known: caches that
// depend on it then read through.
func openWALIndex(path string) *walIndex {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return &walIndex{}
	}
	w := &walIndex{file: f}
	fi, err := f.Stat()
	if err != nil || fi.Size() < walMapSize {
		return w
	}
	if mem, err := syscall.Mmap(int(f.Fd()), 0, walMapSize, syscall.PROT_READ, syscall.MAP_SHARED); err == nil {
		w.mem = mem
	}
	return w
}

// stamp is the header's commit counter and checksum; ok is false when
// the two copies differ (a commit is writing them) or nothing is mapped.
// The first copy is read first, as SQLite reads it: a commit writes the
// second first, so a header half written shows as two that differ.
func (w *walIndex) stamp() (uint64, bool) {
	if w.mem == nil {
		return 0, false
	}
	word := func(at int) uint32 { return atomic.LoadUint32((*uint32)(unsafe.Pointer(&w.mem[at]))) }
	change, sum := word(walChangeAt), word(walChecksumAt)
	if word(walHeaderSize+walChangeAt) != change || word(walHeaderSize+walChecksumAt) != sum {
		return 0, false
	}
	return uint64(change)<<32 | uint64(sum), true
}

// close unmaps the header and closes the file, once SQLite has closed
// the database.
func (w *walIndex) close() error {
	if w.mem != nil {
		if err := syscall.Munmap(w.mem); err != nil {
			return fmt.Errorf("unmap the wal-index: %w", err)
		}
	}
	if w.file == nil {
		return nil
	}
	return w.file.Close()
}
