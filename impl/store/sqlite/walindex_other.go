//go:build !unix

package sqlite

// walIndex is not read where SQLite's unix VFS is not the one in use:
// its stamp is never known, so caches that depend on it read through.
type walIndex struct{}

func openWALIndex(string) *walIndex { return &walIndex{} }

func (*walIndex) stamp() (uint64, bool) { return 0, false }

func (*walIndex) close() error { return nil }
