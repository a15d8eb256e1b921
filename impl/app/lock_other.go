//go:build !unix

package app

// lockDatabase does nothing where flock(2) does not exist: there, nothing
// stops a second server, or rotate-system-key or rotate-master-key, on the
// same database (see lock_unix.go).
func lockDatabase(string) (release func() error, err error) {
	return func() error { return nil }, nil
}
